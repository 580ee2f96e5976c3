"""Follow-up sequences: which touch a lead is due next, and when. Shared by the generator,
which writes each follow-up a day ahead, and the engager, which sends it.

OUTREACH_FOLLOWUP_DAYS=3,5: touch 2 is due three days after touch 1 was sent, touch 3 five
days after touch 2, and there is no touch 4. An auto-reply that names a return date holds
the next touch back until the day after it. A lead is in a sequence while its last email
was sent, nothing ended the sequence (`sequence_stop_reason`) and a touch is left.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from leads.models import EmailStatus, InboundKind, InboundMessage, Lead, OutboundEmail


@dataclass(frozen=True, slots=True)
class Due:
    touch: int  # the touch to send next: 2 for the first follow-up
    at: datetime  # when it may go (the send window still applies)

    def is_due(self, now: datetime) -> bool:
        return self.at <= now


def last_touch(days: Sequence[int]) -> int:
    """The last touch of a sequence with these delays: 1 without follow-ups."""
    return len(days) + 1


def next_touch(
    *, sent_touch: int, sent_at: datetime, days: Sequence[int], returns_on: date | None = None, zone: tzinfo
) -> Due | None:
    """The touch after `sent_touch` and when it is due; None when the sequence has no touch left.

    `returns_on` (an auto-reply's return date) moves it to the start of the next day in `zone`, when later.
    """
    if sent_touch < 1 or sent_touch >= last_touch(days):
        return None
    at = sent_at + timedelta(days=days[sent_touch - 1])
    if returns_on is not None:
        back = datetime.combine(returns_on + timedelta(days=1), time.min, tzinfo=zone)
        at = max(at, back)
    return Due(touch=sent_touch + 1, at=at)


def in_sequence(days: Sequence[int]) -> QuerySet[Lead]:
    """Leads whose sequence goes on: a touch left, the last one sent, nothing stopped it, not archived.

    Each lead carries `sent_touch` (its last touch) and `sent_at` (when that one was sent).
    """
    if not days:
        return Lead.objects.none()
    unfinished = OutboundEmail.objects.filter(lead=OuterRef("pk")).exclude(status=EmailStatus.SENT)
    return (
        Lead.objects.filter(sequence_stop_reason="", archived_at=None)
        .annotate(sent_touch=Max("emails__touch"), sent_at=Max("emails__sent_at"))
        .filter(sent_touch__gte=1, sent_touch__lt=last_touch(days))
        # A touch pending, in flight, stuck or refused: nothing goes after it until it is settled.
        .filter(~Exists(unfinished))
    )


def returns_by_lead(lead_ids: Sequence[int]) -> dict[int, date]:
    """Lead id -> the latest return date its auto-replies named, in one query."""
    rows = (
        InboundMessage.objects.filter(lead_id__in=lead_ids, kind=InboundKind.AUTO_REPLY)
        .exclude(returns_on=None)
        .values("lead_id")
        .annotate(back=Max("returns_on"))
        .values_list("lead_id", "back")
    )
    return dict(rows)


def due_query(days: Sequence[int], *, before: datetime) -> Q:
    """A filter on `in_sequence()` for the leads whose next touch is due by `before` (return dates aside)."""
    due = Q(pk__in=[])
    for touch, delay in enumerate(days, start=1):
        due |= Q(sent_touch=touch, sent_at__lte=before - timedelta(days=delay))
    return due
