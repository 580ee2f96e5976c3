"""What the report knows of each sending mailbox beyond its emails: today's cap and whether it is paused."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings


@dataclass(frozen=True, slots=True)
class MailboxLimits:
    cap_today: int | None  # emails it may send today; None: not known
    paused: bool | None  # None: this installation does not pause mailboxes


def configured() -> list[str]:
    """The names of the mailboxes email leaves from, as configured."""
    return ["default"]


def mailbox_limits(names: list[str], *, now: datetime) -> dict[str, MailboxLimits]:
    """Each mailbox's cap for today and its paused state (one query at most, whatever the number of mailboxes)."""
    return {name: MailboxLimits(cap_today=settings.OUTREACH_DAILY_CAP, paused=None) for name in names}
