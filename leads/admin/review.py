"""The review queue: messages waiting for a person, newest first, editable in place, and
the actions on a selection (also on the leads list): Approve, Regenerate, Exclude.

With OUTREACH_APPROVAL=first (the default) nothing is emailed until a person approves it
here. Each action is one bulk operation, or one task queued on the cluster.
"""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django_q.tasks import async_task

from leads.admin import evidence
from leads.models import Lead, MessageReview
from pipeline import review

# The description shown beside a message, cut to this many characters.
_FACTS_DESCRIPTION = 300


class MessageBodyField(forms.CharField):
    """A message body as a browser sends it back: CRLF line ends are LF again and the last newline is kept,
    so a message nobody touched counts as unchanged (and keeps its approval and its source)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strip=False, required=False, **kwargs)

    def to_python(self, value: object) -> str:
        return super().to_python(value).replace("\r\n", "\n")


@admin.action(description="Approve selected messages (they go out with the next engage run)", permissions=["change"])
def approve_selected(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    """Approve the selection's messages as this person, in one UPDATE."""
    outcome = review.approve(queryset, user=request.user)
    left = []
    if outcome.no_message:
        left.append(f"{outcome.no_message} had no message yet (generate first, or write one)")
    if outcome.contacted:
        left.append(f"{outcome.contacted} were emailed already")
    modeladmin.message_user(
        request,
        f"Approved {outcome.approved} message{'s' if outcome.approved != 1 else ''}: they go out with the next engage "
        "run." + (f" Left alone: {'; '.join(left)}." if left else ""),
        messages.SUCCESS,
    )


@admin.action(description="Regenerate selected messages (queued on the cluster)", permissions=["change"])
def regenerate_selected(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    """Queue the generator for these leads on the cluster: a web request never waits on the LLM."""
    ids = list(queryset.values_list("pk", flat=True))
    async_task(
        "pipeline.jobs.tasks.run_generate", lead_ids=ids, rewrite=True, task_name=f"regenerate {len(ids)} messages"
    )
    modeladmin.message_user(
        request,
        f"Queued on the cluster: {len(ids)} messages are written again within a minute and wait here for approval.",
        messages.SUCCESS,
    )


@admin.action(description="Exclude selected leads (Do Not Contact, pushed to Airtable)", permissions=["change"])
def exclude_selected(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    excluded = review.exclude(queryset)
    modeladmin.message_user(
        request,
        f"{excluded} lead{'s' if excluded != 1 else ''} marked Do Not Contact; the next push writes it to Airtable.",
        messages.SUCCESS,
    )


REVIEW_ACTIONS = [approve_selected, regenerate_selected, exclude_selected]


@admin.register(MessageReview)
class ReviewQueueAdmin(admin.ModelAdmin):
    """Leads whose message waits for approval: the message, its source, its evidence and the lead's facts."""

    list_display = ["lead", "message_subject", "message_body"]
    list_display_links = None  # the lead's name links to its own page
    list_editable = ["message_subject", "message_body"]
    search_fields = ["email", "name", "company_name"]
    ordering = ["-message_generated_at", "-id"]
    list_per_page = 25
    actions = REVIEW_ACTIONS

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs) -> forms.Field | None:
        if db_field.name == "message_body":
            return MessageBodyField(widget=forms.Textarea(attrs={"rows": 9, "cols": 48}))
        if db_field.name == "message_subject":
            kwargs["widget"] = forms.TextInput(attrs={"size": 28})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return review.waiting(super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Lead, form: forms.ModelForm, change: bool) -> None:
        review.record_edit(obj, set(form.changed_data))
        super().save_model(request, obj, form, change)

    @admin.display(description="Lead, facts and evidence", ordering="name")
    def lead(self, obj: Lead) -> str:
        url = reverse("admin:leads_lead_change", args=[obj.pk])
        description = obj.company_description
        if len(description) > _FACTS_DESCRIPTION:
            description = description[:_FACTS_DESCRIPTION].rsplit(" ", 1)[0] + " …"
        facts = " · ".join(fact for fact in (obj.job_title, obj.company_name, obj.website) if fact) or "-"
        return format_html(
            '<a href="{}">{}</a><br>{}<br>{}<br><em>Source: {}</em><br><span class="description">{}</span>'
            '<div class="evidence">Evidence: {}</div>',
            url,
            obj.display_name,
            obj.email,
            facts,
            obj.get_message_source_display() or "-",
            description or "no company description",
            evidence.summary(obj),
        )
