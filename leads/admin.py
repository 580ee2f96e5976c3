"""The admin for people who review outreach: leads, why each was skipped, what was sent."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django_q.tasks import async_task

from leads.models import EmailStatus, Lead, OutboundEmail, PipelineRun, SkipLog, Suppression
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


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SkipLogInline(ReadOnlyInline):
    model = SkipLog
    fields = ["created_at", "stage", "reason", "detail", "run"]
    readonly_fields = fields


class OutboundEmailInline(ReadOnlyInline):
    model = OutboundEmail
    fields = ["created_at", "touch", "status", "subject", "message_source", "sent_at", "error"]
    readonly_fields = fields


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
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
    ]
    fieldsets = [
        (None, {"fields": ["airtable_id", "name", "email", "job_title", "company_name", "website"]}),
        ("Status", {"fields": ["engagement_status", "email_confidence_level", "date_messaged", "skip_reason"]}),
        (
            "Message",
            {"fields": ["message_subject", "message_body", "message_source", "message_grounding", "custom_message"]},
        ),
        ("Company", {"fields": ["company_description", "scraped_at", "scrape_error"]}),
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


@admin.register(SkipLog)
class SkipLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "lead", "stage", "reason", "detail", "run"]
    list_filter = ["reason", "stage", "created_at"]
    search_fields = ["lead__email", "lead__name", "lead__company_name", "detail"]
    list_select_related = ["lead", "run"]
    date_hierarchy = "created_at"
    # One query counts every reason of the filtered list, shown above it.
    change_list_template = "admin/leads/skiplog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["reason_counts"] = list(
                changelist.queryset.order_by()
                .values("reason", "stage")
                .annotate(count=Count("id"))
                .order_by("-count", "reason")
            )
        return response


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "source", "created_at"]
    list_filter = ["reason", "source"]
    search_fields = ["address"]


class StuckSendingFilter(admin.SimpleListFilter):
    title = "needs a decision"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Left in 'sending' by a crash")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(status=EmailStatus.SENDING)
        return queryset


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "lead", "touch", "status", "message_source", "subject", "sent_at"]
    list_filter = [StuckSendingFilter, "status", "message_source", "touch"]
    search_fields = ["recipient", "subject", "lead__name", "lead__company_name"]
    list_select_related = ["lead"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "lead",
        "touch",
        "recipient",
        "subject",
        "body",
        "message_source",
        "provider_message_id",
        "created_at",
        "sent_at",
    ]
    fields = [*readonly_fields[:6], "status", "error", *readonly_fields[6:]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    """Read-only: a run is a record of what happened."""

    list_display = [
        "started_at",
        "job",
        "outcome",
        "dry_run",
        "processed",
        "succeeded",
        "skipped_total",
        "deferred",
        "failed",
        "finished_at",
    ]
    list_filter = ["job", "outcome", "dry_run"]
    search_fields = ["error"]
    ordering = ["-started_at", "-id"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
