"""Leads: the list people review, each lead's page, and the actions on a selection."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django_q.tasks import async_task

from leads.admin.inbound import ConversationMixin
from leads.admin.inlines import OutboundEmailInline, SkipLogInline
from leads.models import Lead, SkipLog
from pipeline import engage, suppression
from pipeline.jobs import tasks


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


@admin.register(Lead)
class LeadAdmin(ConversationMixin, admin.ModelAdmin):
    list_display = [
        "display_name",
        "email",
        "company_name",
        "engagement_status",
        "email_confidence_level",
        "message_source",
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
        SkippedFilter,
        "skip_reason",
        "pending_push",
    ]
    list_per_page = 50
    inlines = [SkipLogInline, OutboundEmailInline]
    readonly_fields = [
        "airtable_id",
        "raw_fields",
        "last_pulled_at",
        "scraped_at",
        "scrape_error",
        "created_at",
        "updated_at",
        "reply",
        "conversation",
    ]
    fieldsets = [
        (None, {"fields": ["airtable_id", "name", "email", "job_title", "company_name", "website"]}),
        ("Status", {"fields": ["engagement_status", "email_confidence_level", "date_messaged", "skip_reason"]}),
        (
            "Message",
            {"fields": ["message_subject", "message_body", "message_source", "message_grounding", "custom_message"]},
        ),
        ("Company", {"fields": ["company_description", "scraped_at", "scrape_error"]}),
        ("Conversation", {"fields": ["reply", "conversation"]}),
        (
            "Sync",
            {
                "classes": ["collapse"],
                "fields": ["pending_push", "last_pulled_at", "raw_fields", "created_at", "updated_at"],
            },
        ),
    ]

    actions = ["engage_selected", "suppress_selected"]

    @admin.display(description="Lead", ordering="name")
    def display_name(self, obj: Lead) -> str:
        return obj.display_name

    @admin.action(description="Engage selected leads (preview first)", permissions=["change"])
    def engage_selected(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        """Show what the engager would do with these leads; on confirmation, queue it on the cluster.

        A web request never waits on the mail server or Airtable: the cluster sends,
        then pushes the outcomes, and Pipeline runs shows how it went.
        """
        ids = list(queryset.values_list("pk", flat=True))
        if request.POST.get("post") == "yes":
            async_task(tasks.run_engage, lead_ids=ids, task_name=f"engage {len(ids)} leads from the admin")
            self.message_user(
                request,
                f"Queued on the cluster: the {len(ids)} selected leads are engaged within a minute, then their "
                "outcomes are pushed to Airtable. Pipeline runs shows what was sent.",
                messages.SUCCESS,
            )
            return None
        preview = engage.run(lead_ids=ids, dry_run=True)
        context = {
            **self.admin_site.each_context(request),
            "title": "Engage these leads?",
            "opts": self.model._meta,
            "preview": preview,
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
