"""What the report knows of each sending mailbox beyond its emails: today's cap and whether it is paused."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from leads.models import MailboxState
from pipeline import mailboxes as config
from pipeline.engage import mailboxes as sending  # today's cap, warm-up included, as the engager counts it


@dataclass(frozen=True, slots=True)
class MailboxLimits:
    cap_today: int | None  # emails it may send today; None: a mailbox no longer configured
    paused: bool | None  # None: a mailbox no longer configured
    pause_reason: str


def configured() -> list[str]:
    """The names of the mailboxes email leaves from, as configured."""
    return [mailbox.name for mailbox in config.configured()]


def mailbox_limits(names: list[str], *, now: datetime) -> dict[str, MailboxLimits]:
    """Each mailbox's cap for today and its paused state, in one query whatever the number of mailboxes."""
    caps = {mailbox.name: mailbox.daily_cap for mailbox in config.configured()}
    states = MailboxState.objects.in_bulk(names, field_name="name")
    today = timezone.localdate(now)
    limits = {}
    for name in names:
        state = states.get(name)
        if name not in caps:
            limits[name] = MailboxLimits(cap_today=None, paused=None, pause_reason="")
            continue
        limits[name] = MailboxLimits(
            cap_today=sending.cap_today(state, caps[name], today),
            paused=bool(state and state.is_paused),
            pause_reason=state.pause_reason if state and state.is_paused else "",
        )
    return limits
