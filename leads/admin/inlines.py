"""Read-only tables of a lead's rows, shown on its page."""

from django.contrib import admin

from leads.models import OutboundEmail, SkipLog


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
    fields = ["created_at", "touch", "mailbox", "status", "subject", "message_source", "sent_at", "error"]
    readonly_fields = fields
