"""Which mailbox an email leaves from, and whether one may send now: caps, gaps, warm-up, pause.

The mailboxes are configured in settings (pipeline/mailboxes.py); their shared state is
one `MailboxState` row each. Everything here that decides is read inside the engager's
serialised claim (claims.py), so each mailbox's cap and gap hold across workers:

- Cap: emails claimed today from the mailbox (by `created_at`, across every worker),
  against its daily cap, or its warm-up cap for today.
- Gap: with OUTREACH_SEND_GAP_SECONDS above 0, a claim takes one email per free
  mailbox and holds the mailbox (`claimed_until`); after the handover the sender sets
  `next_send_at` to the send time plus a random gap. A worker that dies leaves a hold
  that expires after `HOLD`, so no mailbox stays blocked.
- Pause: before each run, a mailbox whose recent hard bounces or complaints exceed
  the settings' rates pauses itself until a person resumes it in the admin.
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone

from leads.models import EmailStatus, InboundKind, InboundMessage, MailboxState, OutboundEmail
from pipeline import mailboxes as config
from pipeline.engage.rules import DeferReason

logger = logging.getLogger("pipeline.engage.stage")

# A live worker hands its email over within seconds of the claim; a hold this old belongs to a dead one.
HOLD = timedelta(minutes=2)
BOUNCE_WINDOW = 100  # sends whose hard bounces are counted
COMPLAINT_WINDOW = 1000  # sends whose complaints are counted
MIN_SENDS = 20  # no pause on fewer sends than this: two bounces of ten say little


def gap_bounds() -> tuple[float, float]:
    return tuple(settings.OUTREACH_SEND_GAP_SECONDS)


def has_gap() -> bool:
    return gap_bounds()[1] > 0


def next_gap() -> timedelta:
    """A random pause from OUTREACH_SEND_GAP_SECONDS (a person's pace is not a metronome)."""
    low, high = gap_bounds()
    return timedelta(seconds=random.uniform(low, high))  # noqa: S311 - a pace, not a secret


def midnight(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def cap_today(state: MailboxState | None, cap: int, today: date) -> int:
    """The mailbox's cap for today: its daily cap, or with OUTREACH_WARMUP_START its warm-up cap."""
    start = settings.OUTREACH_WARMUP_START
    if not start:
        return cap
    return min(cap, start + settings.OUTREACH_WARMUP_STEP * days_before(state, today))


def days_before(state: MailboxState | None, today: date) -> int:
    """Days the mailbox sent on before today."""
    if state is None:
        return 0
    return state.send_days - (1 if state.last_send_day == today else 0)


def ensure_states() -> dict[str, MailboxState]:
    """A state row for every configured mailbox (created on first use); name -> row."""
    names = [mailbox.name for mailbox in config.configured()]
    states = MailboxState.objects.in_bulk(names, field_name="name")
    missing = [MailboxState(name=name) for name in names if name not in states]
    if missing:
        MailboxState.objects.bulk_create(missing, ignore_conflicts=True)  # another worker may create them too
        states = MailboxState.objects.in_bulk(names, field_name="name")
    return states


@dataclass(slots=True)
class Slot:
    """One mailbox in one claim: how many it may still take, or why none."""

    name: str
    cap: int  # today's
    sent: int  # claimed today, by every worker
    paused: bool
    due_at: datetime | None  # when the gap lets it send next; None: now
    taken: int = 0  # in this claim

    @property
    def left(self) -> int:
        return max(self.cap - self.sent - self.taken, 0)


@dataclass(slots=True)
class Plan:
    """The mailboxes' room for one claim; `take` hands out a mailbox or says why none."""

    slots: dict[str, Slot]
    gap: bool
    now: datetime
    used: dict[str, int] = field(default_factory=dict)  # name -> emails taken in this claim

    def take(self, *, mailbox: str | None = None) -> tuple[str, str]:
        """(mailbox name, "") for one email, or ("", DeferReason) when none may take it now.

        `mailbox`: the one it must leave from (a follow-up, a retry); else the one with the most room."""
        candidates = [self.slots[mailbox]] if mailbox in self.slots else list(self.slots.values())
        if mailbox is not None and mailbox not in self.slots:
            return "", DeferReason.MAILBOX_PAUSED  # a mailbox no longer configured sends nothing
        ready = [slot for slot in candidates if self._can_send(slot)]
        if not ready:
            return "", self._why_not(candidates)
        best = max(ready, key=lambda slot: slot.left)  # max keeps the first of equals: configured order
        best.taken += 1
        self.used[best.name] = self.used.get(best.name, 0) + 1
        return best.name, ""

    def _can_send(self, slot: Slot) -> bool:
        if slot.paused or slot.left <= 0 or slot.due_at is not None:
            return False
        return not (self.gap and slot.taken)  # with a gap, one email per mailbox per claim

    def _why_not(self, slots: list[Slot]) -> str:
        active = [slot for slot in slots if not slot.paused]
        if not active:
            return DeferReason.MAILBOX_PAUSED
        if any(slot.left > 0 for slot in active):
            return DeferReason.NOT_DUE
        return DeferReason.DAILY_CAP

    @property
    def exhausted(self) -> str:
        """Why no mailbox can take anything more in this claim, or "" while one can."""
        slots = list(self.slots.values())
        if any(self._can_send(slot) for slot in slots):
            return ""
        return self._why_not(slots)

    def next_due(self) -> datetime | None:
        """When the first mailbox that waits for its gap may send again."""
        times = []
        for slot in self.slots.values():
            if slot.paused or slot.left <= 0:
                continue
            if slot.due_at:
                times.append(slot.due_at)
            elif self.gap and slot.taken:  # took its one email in this claim: its gap starts at the send
                times.append(self.now + timedelta(seconds=gap_bounds()[0]))
        return min(times) if times else None


def plan(now: datetime, *, planned: dict[str, int] | None = None) -> Plan:
    """The mailboxes' room now: two queries (states, today's counts), whatever the number of mailboxes.

    `planned`: emails a dry run has counted per mailbox so far (not in the database)."""
    mailboxes = config.configured()
    states = MailboxState.objects.in_bulk([mailbox.name for mailbox in mailboxes], field_name="name")
    counts = dict(
        OutboundEmail.objects.filter(created_at__gte=midnight(now), mailbox__in=[m.name for m in mailboxes])
        .values_list("mailbox")
        .annotate(n=Count("id"))
        .values_list("mailbox", "n")
    )
    today = timezone.localdate(now)
    gap = has_gap()
    slots = {}
    for mailbox in mailboxes:
        state = states.get(mailbox.name)
        slots[mailbox.name] = Slot(
            name=mailbox.name,
            cap=cap_today(state, mailbox.daily_cap, today),
            sent=counts.get(mailbox.name, 0) + (planned or {}).get(mailbox.name, 0),
            paused=bool(state and state.is_paused),
            due_at=_due_at(state, now) if gap else None,
        )
        if gap and (planned or {}).get(mailbox.name):  # a dry run's planned email holds the mailbox too
            slots[mailbox.name].due_at = now + timedelta(seconds=gap_bounds()[0])
    return Plan(slots=slots, gap=gap, now=now)


def _due_at(state: MailboxState | None, now: datetime) -> datetime | None:
    if state is None:
        return None
    waits = [moment for moment in (state.next_send_at, state.claimed_until) if moment and moment > now]
    return max(waits) if waits else None


def seconds_to_next_send(now: datetime) -> float | None:
    """Seconds until the first active mailbox's gap ends (0 when one is free now), None without a gap."""
    if not has_gap():
        return None
    states = list(MailboxState.objects.filter(paused_at=None, name__in=[m.name for m in config.configured()]))
    if not states:
        return None
    waits = [(_due_at(state, now) or now) - now for state in states]
    return max(min(waits).total_seconds(), 0.0)


def record_claims(used: dict[str, int], *, now: datetime) -> None:
    """Inside the claim: hold each mailbox that took an email (with a gap) and count the day for warm-up."""
    today = timezone.localdate(now)
    for name in used:
        MailboxState.objects.filter(name=name).exclude(last_send_day=today).update(
            send_days=F("send_days") + 1, last_send_day=today
        )
        MailboxState.objects.filter(name=name, first_send_day=None).update(first_send_day=today)
        if has_gap():
            MailboxState.objects.filter(name=name).update(claimed_until=now + HOLD)


def record_send(name: str, *, sent_at: datetime | None, sent: bool) -> None:
    """After a handover (or when a held email was not tried): release the hold and start the gap."""
    changes: dict = {"claimed_until": None}
    if sent_at is not None and has_gap():
        changes["next_send_at"] = sent_at + next_gap()
    if sent and sent_at is not None:
        changes["last_sent_at"] = sent_at
    MailboxState.objects.filter(name=name).update(**changes)


@dataclass(frozen=True, slots=True)
class Health:
    sends: int  # in the bounce window (since the last resume)
    bounces: int
    complaint_sends: int
    complaints: int

    @property
    def bounce_rate(self) -> float:
        return self.bounces / self.sends if self.sends else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.complaint_sends if self.complaint_sends else 0.0


def health(name: str, *, since: datetime | None = None) -> Health:
    """Hard bounces (5xx refusals at send time and the inbox's hard bounces) of the mailbox's last 100 sends,
    complaints of its last 1,000: three queries."""
    sends = OutboundEmail.objects.filter(mailbox=name, status__in=[EmailStatus.SENT, EmailStatus.FAILED])
    if since is not None:
        sends = sends.filter(created_at__gte=since)
    recent = list(sends.order_by("-created_at", "-id").values_list("id", "status", "smtp_code")[:COMPLAINT_WINDOW])
    bounce_ids = [pk for pk, _, _ in recent[:BOUNCE_WINDOW]]
    refused = {pk for pk, status, code in recent[:BOUNCE_WINDOW] if status == EmailStatus.FAILED and (code or 0) >= 500}
    answers = InboundMessage.objects.filter(email_id__in=[pk for pk, _, _ in recent])
    bounced = set(
        answers.filter(kind=InboundKind.BOUNCE_HARD, email_id__in=bounce_ids).values_list("email_id", flat=True)
    )
    complaints = answers.filter(kind=InboundKind.COMPLAINT).values("email_id").distinct().count()
    return Health(
        sends=len(bounce_ids), bounces=len(refused | bounced), complaint_sends=len(recent), complaints=complaints
    )


def pause_reason(result: Health) -> str:
    """Why a mailbox with these figures must pause, or ""."""
    if result.sends < MIN_SENDS:
        return ""
    if result.bounce_rate > settings.OUTREACH_PAUSE_BOUNCE_RATE:
        return (
            f"hard bounces {result.bounces} of the last {result.sends} sends "
            f"({result.bounce_rate:.1%} > OUTREACH_PAUSE_BOUNCE_RATE {settings.OUTREACH_PAUSE_BOUNCE_RATE:.1%})"
        )
    if result.complaint_rate > settings.OUTREACH_PAUSE_COMPLAINT_RATE:
        return (
            f"complaints {result.complaints} of the last {result.complaint_sends} sends "
            f"({result.complaint_rate:.2%} > OUTREACH_PAUSE_COMPLAINT_RATE "
            f"{settings.OUTREACH_PAUSE_COMPLAINT_RATE:.2%})"
        )
    return ""


def pause_unhealthy(states: dict[str, MailboxState], *, now: datetime) -> list[str]:
    """Pause every active mailbox over a rate (logged once, by the worker whose update wins); returns them."""
    paused = []
    for name, state in states.items():
        if state.is_paused:
            continue
        reason = pause_reason(health(name, since=state.resumed_at))
        if not reason:
            continue
        # Conditional: of two workers finding the same figures, one pauses it and logs.
        if MailboxState.objects.filter(pk=state.pk, paused_at=None).update(paused_at=now, pause_reason=reason):
            logger.warning("mailbox paused", extra={"stage": "engage", "mailbox": name, "reason": reason})
            paused.append(name)
    return paused


def resume(names: list[str], *, now: datetime | None = None) -> int:
    """Resume paused mailboxes (the admin's action); their rates start again from now. Returns how many."""
    now = now or timezone.now()
    return (
        MailboxState.objects.filter(name__in=names)
        .exclude(paused_at=None)
        .update(paused_at=None, pause_reason="", resumed_at=now)
    )


def sent_today(now: datetime) -> dict[str, int]:
    """Name -> emails claimed today by every worker (what each cap counts)."""
    return dict(
        OutboundEmail.objects.filter(created_at__gte=midnight(now))
        .values_list("mailbox")
        .annotate(n=Count("id"))
        .values_list("mailbox", "n")
    )
