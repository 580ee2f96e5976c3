"""Mailboxes: each configured mailbox's day (sent / cap today, warm-up day, last send), its health
(bounce and complaint rates) and whether it paused itself, with a "resume" action. The mailboxes
come from settings (OUTREACH_MAILBOXES); nothing else is editable here."""

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from leads.models import MailboxState
from pipeline import mailboxes as config
from pipeline.engage import mailboxes


@admin.register(MailboxState)
class MailboxAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "sender",
        "sent_today",
        "warmup_day",
        "last_sent_at",
        "bounce_rate",
        "complaint_rate",
        "paused",
        "pause_reason",
    ]
    actions = ["resume"]
    ordering = ["name"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        mailboxes.ensure_states()  # a mailbox named in settings shows before its first email
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(name__in=[mailbox.name for mailbox in config.configured()])

    @admin.display(description="From")
    def sender(self, state: MailboxState) -> str:
        return config.by_name()[state.name].from_email

    @admin.display(description="Sent today / cap today")
    def sent_today(self, state: MailboxState) -> str:
        # A few queries per mailbox: a team has a handful of mailboxes, not thousands.
        now = timezone.now()
        cap = mailboxes.cap_today(state, config.by_name()[state.name].daily_cap, timezone.localdate(now))
        return f"{mailboxes.sent_today(now).get(state.name, 0)} / {cap}"

    @admin.display(description="Warm-up day")
    def warmup_day(self, state: MailboxState) -> str:
        if not settings.OUTREACH_WARMUP_START:
            return "off"
        return str(mailboxes.days_before(state, timezone.localdate()) + 1)

    def _health(self, state: MailboxState) -> mailboxes.Health:
        return mailboxes.health(state.name, since=state.resumed_at)

    @admin.display(description="Hard bounces (last 100)")
    def bounce_rate(self, state: MailboxState) -> str:
        result = self._health(state)
        return f"{result.bounce_rate:.1%} of {result.sends}"

    @admin.display(description="Complaints (last 1,000)")
    def complaint_rate(self, state: MailboxState) -> str:
        result = self._health(state)
        return f"{result.complaint_rate:.2%} of {result.complaint_sends}"

    @admin.display(description="Paused", boolean=True)
    def paused(self, state: MailboxState) -> bool:
        return state.is_paused

    @admin.action(description="Resume the selected mailboxes")
    def resume(self, request: HttpRequest, queryset) -> None:
        count = mailboxes.resume(list(queryset.values_list("name", flat=True)))
        self.message_user(request, f"{count} mailbox(es) resumed; their rates count from now.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None  # the list and its action; a mailbox's settings live in the environment

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
