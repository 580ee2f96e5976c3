"""What came back: inbound messages (filtered by kind and mailbox, linked to their lead),
each lead's conversation, and how far each inbox has been read."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from leads.models import InboundMessage, InboxState, Lead, OutboundEmail


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: nothing to add or change by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def lead_link(lead_id: int | None, label: object) -> str:
    if lead_id is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse("admin:leads_lead_change", args=[lead_id]), label)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "kind", "mailbox", "lead_column", "sender", "subject", "status", "detail"]
    # The dashboard's answers per touch, message source and sending mailbox link to these.
    list_filter = ["kind", "mailbox", "stop_reason", "email__touch", "email__message_source", "email__mailbox"]
    search_fields = ["sender", "address", "subject", "message_id", "lead__name", "lead__email"]
    list_select_related = ["lead"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at",
        "kind",
        "detail",
        "mailbox",
        "folder",
        "uid",
        "message_id",
        "sender",
        "subject",
        "lead",
        "email",
        "address",
        "status",
        "action",
        "stop_reason",
        "text",
        "created_at",
    ]
    fields = readonly_fields

    @admin.display(description="Lead", ordering="lead__name")
    def lead_column(self, obj: InboundMessage) -> str:
        return lead_link(obj.lead_id, obj.lead)


@admin.register(InboxState)
class InboxStateAdmin(ReadOnlyAdmin):
    list_display = ["mailbox", "folder", "last_read_at", "uidvalidity", "last_uid", "updated_at"]
    readonly_fields = list_display


def conversation(lead: Lead) -> SafeString:
    """Our emails and their answers, oldest first, as a small table."""
    sent = OutboundEmail.objects.filter(lead=lead).only("created_at", "sent_at", "touch", "subject", "status")
    answers = InboundMessage.objects.filter(lead=lead).only("received_at", "kind", "subject", "text", "detail")
    rows = [
        (email.sent_at or email.created_at, "us", f"touch {email.touch} ({email.status})", email.subject, "")
        for email in sent
    ]
    rows += [
        (item.received_at, "them", item.get_kind_display(), item.subject, item.text[:300] or item.detail)
        for item in answers
    ]
    if not rows:
        return format_html("<p>{}</p>", "No emails yet.")
    rows.sort(key=lambda row: row[0])
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style='white-space:pre-wrap'>{}</td></tr>",
        ((f"{when:%Y-%m-%d %H:%M}", who, what, subject, text) for when, who, what, subject, text in rows),
    )
    head = "<tr><th>When</th><th>From</th><th>What</th><th>Subject</th><th>Their words</th></tr>"
    return format_html("<table>{}{}</table>", SafeString(head), body)


class ConversationMixin:
    """Adds the lead's conversation to its page (a read-only field)."""

    @admin.display(description="Conversation")
    def conversation(self, obj: Lead) -> SafeString:
        return conversation(obj) if obj.pk else format_html("<p>{}</p>", "-")
