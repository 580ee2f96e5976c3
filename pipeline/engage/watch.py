"""Never blind: a follow-up goes only while the answers to the earlier touches can be seen.

A mailbox's follow-ups go while its inbox was read to the end within INBOX_MAX_AGE_MINUTES
(else `inbox_stale`: the inbox stage is failing or not scheduled, and a reply may be sitting
unread), or while ESP webhooks are configured (the ESP posts answers as they come). With
neither, they wait as `no_inbox`, and a system check says so at start-up. Touch 1 is never
held back by this: nobody can have answered an email not yet sent.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core import checks
from django.db.models import Max

from leads.models import InboxState
from pipeline import mailboxes as config


def has_webhooks() -> bool:
    """Whether ESP webhooks (django-anymail) are served: answers then arrive without reading an inbox."""
    return bool(settings.ANYMAIL_WEBHOOK_SECRET)


def inbox_urls() -> dict[str, str]:
    """Mailbox name -> its inbox URL ("" when it has none), for every configured mailbox."""
    return {mailbox.name: mailbox.inbox_url for mailbox in config.configured()}


def blind(mailboxes: Iterable[str], *, now: datetime, inboxes: Mapping[str, str] | None = None) -> dict[str, str]:
    """Mailbox -> the DeferReason its follow-ups wait for (`no_inbox`, `inbox_stale`); mailboxes that may send
    are left out. One query."""
    wanted = set(mailboxes)
    if has_webhooks() or not wanted:
        return {}
    inboxes = inbox_urls() if inboxes is None else inboxes
    read = dict(
        InboxState.objects.filter(mailbox__in=wanted)
        .values("mailbox")
        .annotate(last=Max("last_read_at"))
        .values_list("mailbox", "last")
    )
    oldest = now - timedelta(minutes=settings.INBOX_MAX_AGE_MINUTES)
    found = {}
    for mailbox in sorted(wanted):
        if not inboxes.get(mailbox):
            found[mailbox] = "no_inbox"
        elif read.get(mailbox) is None or read[mailbox] < oldest:
            found[mailbox] = "inbox_stale"
    return found


def check_followups_can_see_answers(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: follow-ups are configured but no inbox or webhook would show the answers to them."""
    if not settings.OUTREACH_FOLLOWUP_DAYS or has_webhooks():
        return []
    missing = sorted(name for name, url in inbox_urls().items() if not url)
    if not missing:
        return []
    return [
        checks.Warning(
            f"OUTREACH_FOLLOWUP_DAYS is set but mailbox {', '.join(missing)} has no inbox to read answers from: "
            "its follow-ups wait as no_inbox",
            hint="Set INBOX_URL (or the mailbox's MAILBOX_<NAME>_INBOX_URL), or configure ESP webhooks "
            "(ANYMAIL_WEBHOOK_SECRET).",
            id="pipeline.W002",
        )
    ]
