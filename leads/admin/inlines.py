"""Read-only tables of a lead's rows, shown on its page."""

from django.contrib import admin

from leads.models import FollowUpMessage, OutboundEmail, SkipLog


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


class FollowUpMessageInline(ReadOnlyInline):
    """Follow-ups written ahead, before they are due; what was sent is under the emails."""

    model = FollowUpMessage
    fields = ["touch", "source", "body", "generated_at"]
    readonly_fields = fields
    show_change_link = False
    verbose_name = "follow-up written ahead"
    verbose_name_plural = "follow-ups written ahead"
