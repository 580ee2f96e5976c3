"""Leads: the list people review, each lead's page, and the actions on a selection."""

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django_q.tasks import async_task

from leads.admin import evidence, sequence
from leads.admin.inbound import ConversationMixin
from leads.admin.inlines import OutboundEmailInline, SkipLogInline
from leads.admin.review import REVIEW_ACTIONS, MessageBodyField
from leads.models import EmailStatus, Lead, OutboundEmail, SkipLog
from pipeline import engage, review, suppression
from pipeline.airtable import edits


class HasMessageFilter(admin.SimpleListFilter):
    title = "has message"
    parameter_name = "has_message"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        has_message = ~Q(message_body="")
        if self.value() == "yes":
            return queryset.filter(has_message)
        if self.value() == "no":
            return queryset.exclude(has_message)
        return queryset


class SkippedFilter(admin.SimpleListFilter):
    title = "skipped"
    parameter_name = "skipped"

    def lookups(self, request, model_admin):
        return [("yes", "Skipped at least once"), ("no", "Never skipped")]

    def queryset(self, request, queryset):
        skipped = Exists(SkipLog.objects.filter(lead=OuterRef("pk"), stage="engage"))
        if self.value() == "yes":
            return queryset.filter(skipped)
        if self.value() == "no":
            return queryset.exclude(skipped)
        return queryset


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted in Airtable"), ("no", "In Airtable")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(archived_at=None)
        if self.value() == "no":
            return queryset.filter(archived_at=None)
        return queryset


class ContactedFilter(admin.SimpleListFilter):
    title = "emailed"
    parameter_name = "contacted"

    def lookups(self, request, model_admin):
        return [("yes", "At least one email sent"), ("no", "Never emailed")]

    def queryset(self, request, queryset):
        sent = Exists(OutboundEmail.objects.filter(lead=OuterRef("pk"), status=EmailStatus.SENT))
        if self.value() == "yes":
            return queryset.filter(sent)
        if self.value() == "no":
            return queryset.exclude(sent)
        return queryset


class ApprovedFilter(admin.SimpleListFilter):
    title = "message approved"
    parameter_name = "approved"

    def lookups(self, request, model_admin):
        return [("yes", "Approved"), ("waiting", "Waiting for approval")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(message_approved_at=None)
        if self.value() == "waiting":
            return review.waiting(queryset)
        return queryset


@admin.register(Lead)
class LeadAdmin(ConversationMixin, admin.ModelAdmin):
    list_display = [
        "display_name",
        "email",
        "company_name",
        "engagement_status",
        "email_confidence_level",
        "message_source",
        "approved",
        "skip_reason",
        "date_messaged",
        "pending_push",
    ]
    list_display_links = ["display_name", "email"]
    search_fields = ["email", "name", "company_name"]
    list_filter = [
        "engagement_status",
        "email_confidence_level",
        "message_source",
        HasMessageFilter,
        ApprovedFilter,
        ContactedFilter,
        "sequence_stop_reason",
        SkippedFilter,
        "skip_reason",
        "pending_push",
        ArchivedFilter,
    ]
    list_per_page = 50
    inlines = [SkipLogInline, OutboundEmailInline]
    readonly_fields = [
        "airtable_id",
        "raw_fields",
        "last_pulled_at",
        "local_edits",
        "archived_at",
        "scraped_at",
        "scrape_error",
        "created_at",
        "updated_at",
        "message_grounding",
        "grounding_evidence",
        "message_approved_at",
        "message_approved_by",
        "reply",
        "conversation",
        "touches",
        "sequence_stop_reason",
        "sequence_stopped_at",
        "sequence_plan",
    ]
    fieldsets = [
        (None, {"fields": ["airtable_id", "name", "email", "job_title", "company_name", "website"]}),
        ("Status", {"fields": ["engagement_status", "email_confidence_level", "date_messaged", "skip_reason"]}),
        (
            "Message",
            {
                "fields": [
                    "message_subject",
                    "message_body",
                    "message_source",
                    "message_approved_at",
                    "message_approved_by",
                    "grounding_evidence",
                    "custom_message",
                ]
            },
        ),
        ("Company", {"fields": ["company_description", "scraped_at", "scrape_error"]}),
        ("Conversation", {"fields": ["reply", "conversation"]}),
        ("Sequence", {"fields": ["touches", "sequence_stop_reason", "sequence_stopped_at", "sequence_plan"]}),
        (
            "Sync",
            {
                "classes": ["collapse"],
                "fields": [
                    "pending_push",
                    "local_edits",
                    "archived_at",
                    "last_pulled_at",
                    "raw_fields",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]

    actions = [*REVIEW_ACTIONS, "engage_selected", "suppress_selected"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The lead's form, each Airtable field saying so and what an edit here does."""
        form = super().get_form(request, obj, change=change, **kwargs)
        for name, note in edits.field_notes().items():
            if name in form.base_fields:
                form.base_fields[name].help_text = note
        return form

    @admin.display(description="Lead", ordering="name")
    def display_name(self, obj: Lead) -> str:
        return obj.display_name

    @admin.display(description="Approved", boolean=True, ordering="message_approved_at")
    def approved(self, obj: Lead) -> bool:
        return obj.is_approved

    @admin.display(description="Touches")
    def sequence_plan(self, obj: Lead) -> str:
        return sequence.summary(obj)

    @admin.display(description="Grounding evidence")
    def grounding_evidence(self, obj: Lead) -> str:
        return evidence.full(obj)

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs) -> forms.Field | None:
        if db_field.name == "message_body":
            return MessageBodyField(widget=forms.Textarea(attrs={"rows": 12, "cols": 80}))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Lead, form: forms.ModelForm, change: bool) -> None:
        review.record_edit(obj, set(form.changed_data))  # an edited message waits for approval again
        edits.note_admin_edit(obj, changed=form.changed_data)  # pushed to Airtable, or kept over the next pull
        super().save_model(request, obj, form, change)

    @admin.action(description="Engage selected leads (preview first)", permissions=["change"])
    def engage_selected(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        """Show what the engager would do with these leads; on confirmation, queue it on the cluster.

        A web request never waits on the mail server or Airtable: the cluster sends,
        then pushes the outcomes, and Pipeline runs shows how it went.
        """
        ids = list(queryset.values_list("pk", flat=True))
        if request.POST.get("post") == "yes":
            async_task(
                "pipeline.jobs.tasks.run_engage", lead_ids=ids, task_name=f"engage {len(ids)} leads from the admin"
            )
            self.message_user(
                request,
                f"Queued on the cluster: the {len(ids)} selected leads are engaged within a minute, then their "
                "outcomes are pushed to Airtable. Pipeline runs shows what was sent.",
                messages.SUCCESS,
            )
            return None
        preview = engage.run(lead_ids=ids, dry_run=True)
        deferred_by = Counter(item["reason"] for item in preview.items if item["decision"].startswith("defer"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Engage these leads?",
            "opts": self.model._meta,
            "preview": preview,
            "deferred_by": dict(sorted(deferred_by.items())),
            "skipped_total": sum(preview.skipped.values()),
            "already_engaged": len(ids) - preview.processed,
            "selected": ids,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/leads/lead/engage_confirmation.html", context)

    @admin.action(description="Add to the suppression list (never email)", permissions=["change"])
    def suppress_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        addresses = [email for email in queryset.values_list("email", flat=True) if email.strip()]
        added = suppression.suppress_many(addresses, source="admin")
        self.message_user(
            request,
            f"{added} addresses added to the suppression list; {len(addresses) - added} were on it already "
            f"or repeated; {queryset.count() - len(addresses)} leads have no address.",
            messages.SUCCESS,
        )
