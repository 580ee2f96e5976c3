"""Outbound emails, and the ones a crash left in `sending` for a person to decide."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from leads.models import EmailStatus, OutboundEmail


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
    list_display = [
        "created_at",
        "recipient",
        "lead",
        "touch",
        "mailbox",
        "status",
        "message_source",
        "subject",
        "sent_at",
    ]
    list_filter = [StuckSendingFilter, "status", "message_source", "touch", "mailbox"]
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
        "message_id",
        "provider_message_id",
        "created_at",
        "sent_at",
    ]
    fields = [*readonly_fields[:6], "status", "error", *readonly_fields[6:]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
