"""Recording inbound messages and acting on each exactly once, a batch at a time.

A batch is inserted in one statement that skips what is already there: the unique
constraint on (mailbox, Message-ID) decides, so the same mail read twice, after a
UIDVALIDITY change, or by two workers at once, is recorded once. Each row carries the
id of the run that inserted it, and a run acts only on its own rows, in the same
transaction as the insert: the effect happens once, or not at all with the row.

Effects: `reply` marks the lead `Replied` and keeps its text (pushed to
AIRTABLE_FIELD_REPLY); `bounce_hard` suppresses the address (bounced) and marks every
row with it `Bounced`; `bounce_soft` counts, and OUTREACH_SOFT_BOUNCE_LIMIT of them
count as hard; `complaint` suppresses (complained) -> `Do Not Contact`; `unsubscribe`
suppresses (unsubscribed) -> `Unsubscribed`; `auto_reply` keeps the return date it
names (the next follow-up waits for it); `other` changes nothing.
Statuses reach Airtable through the normal push.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower

from leads.models import STOP_REASONS, InboundKind, InboundMessage, Lead, LeadStatus, SuppressionReason
from pipeline import suppression
from pipeline.inbox import matching
from pipeline.inbox.classify import Verdict

logger = logging.getLogger(__name__)

_SUPPRESSED_BY = {
    InboundKind.BOUNCE_HARD: SuppressionReason.BOUNCED,
    InboundKind.COMPLAINT: SuppressionReason.COMPLAINED,
    InboundKind.UNSUBSCRIBE: SuppressionReason.UNSUBSCRIBED,
}
# A reply never turns these back into `Replied`: the person asked not to be emailed.
_KEPT_ON_REPLY = {LeadStatus.UNSUBSCRIBED, LeadStatus.DO_NOT_CONTACT}


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message to record: its verdict and where it was read."""

    verdict: Verdict
    uid: int | None = None
    received_at: datetime | None = None


@dataclass(slots=True)
class Recorded:
    """What a batch did: the new rows per kind, and how many another read had recorded first."""

    kinds: Counter = field(default_factory=Counter)
    already_recorded: int = 0
    rows: list[InboundMessage] = field(default_factory=list)  # the batch's rows, new or not (for dry runs)


def record(
    items: list[Incoming],
    *,
    mailbox: str,
    folder: str = "",
    now: datetime,
    dry_run: bool = False,
    then: Callable[[], None] | None = None,
) -> Recorded:
    """Record a batch and apply each new message's effect once; `then` runs in the same transaction
    (the reading position), so a crash leaves neither."""
    token = uuid.uuid4()
    matches = matching.match_all([item.verdict for item in items])
    rows: dict[str, InboundMessage] = {}
    for item, match in zip(items, matches, strict=True):
        rows.setdefault(item.verdict.message_id, _row(item, match, mailbox, folder, token, now))
    outcome = Recorded(rows=list(rows.values()))
    if dry_run:
        known = set(
            InboundMessage.objects.filter(mailbox=mailbox, message_id__in=list(rows)).values_list(
                "message_id", flat=True
            )
        )
        outcome.already_recorded = len(known)
        outcome.kinds.update(row.kind for key, row in rows.items() if key not in known)
        return outcome
    with transaction.atomic():
        InboundMessage.objects.bulk_create(list(rows.values()), ignore_conflicts=True, batch_size=500)
        mine = list(InboundMessage.objects.filter(mailbox=mailbox, message_id__in=list(rows), read_by=token))
        _apply(mine, mailbox=mailbox, now=now)
        if then is not None:
            then()
    outcome.kinds.update(row.kind for row in mine)
    outcome.already_recorded = len(rows) - len(mine)
    return outcome


def _row(item: Incoming, match: matching.Match, mailbox: str, folder: str, token: uuid.UUID, now) -> InboundMessage:
    verdict = item.verdict
    stop = STOP_REASONS.get(match.kind, "")
    if match.kind == InboundKind.BOUNCE_SOFT or (
        match.kind == InboundKind.AUTO_REPLY and not settings.OUTREACH_STOP_ON_AUTO_REPLY
    ):
        stop = ""  # a soft bounce stops the sequence only once it counts as hard (see _count_soft_bounces)
    return InboundMessage(
        mailbox=mailbox[:64],
        folder=folder[:255],
        uid=item.uid,
        message_id=verdict.message_id[:255],
        kind=match.kind,
        detail=match.detail[:255],
        sender=verdict.sender[:320],
        subject=verdict.subject[:255],
        email_id=match.email_id,
        lead_id=match.lead_id,
        address=match.address[:320],
        status=match.status[:16],
        action=match.action[:16],
        text=verdict.text if match.kind in (InboundKind.REPLY, InboundKind.UNSUBSCRIBE) else "",
        stop_reason=stop,
        returns_on=verdict.returns_on if match.kind == InboundKind.AUTO_REPLY else None,
        received_at=item.received_at or verdict.date or now,
        read_by=token,
    )


def _apply(rows: list[InboundMessage], *, mailbox: str, now: datetime) -> None:
    """The effects of this run's new rows, in a few bulk statements."""
    _mark_replied([row for row in rows if row.kind == InboundKind.REPLY and row.lead_id], now=now)
    hard = _count_soft_bounces([row for row in rows if row.kind == InboundKind.BOUNCE_SOFT and row.address])
    for kind, reason in _SUPPRESSED_BY.items():
        addresses = [row.address for row in rows if row.kind == kind and row.address]
        if kind == InboundKind.BOUNCE_HARD:
            addresses += hard
        if addresses:
            added = suppression.suppress_many(addresses, reason=reason, source=f"{kind}:{mailbox}"[:32])
            logger.info("inbox suppressed", extra={"kind": kind, "count": len(addresses), "new": added})


def _mark_replied(rows: list[InboundMessage], *, now: datetime) -> None:
    if not rows:
        return
    texts = {}
    for row in sorted(rows, key=lambda r: (r.received_at or now, r.pk)):  # the latest reply's text wins
        texts[row.lead_id] = row.text
    # The text differs per lead (one bulk update of one column); the rest is the same for all.
    Lead.objects.bulk_update([Lead(pk=pk, reply=text) for pk, text in texts.items()], ["reply"], batch_size=500)
    leads = Lead.objects.filter(pk__in=list(texts))
    leads.exclude(engagement_status__in=_KEPT_ON_REPLY).update(engagement_status=LeadStatus.REPLIED)
    leads.update(pending_push=True, updated_at=now)


def _count_soft_bounces(rows: list[InboundMessage]) -> list[str]:
    """The addresses whose soft bounces, these included, reached OUTREACH_SOFT_BOUNCE_LIMIT: they count as hard.

    Two workers counting at once each see only their own new rows, so the limit may be
    reached one soft bounce late; it is never reached early.
    """
    if not rows:
        return []
    limit = settings.OUTREACH_SOFT_BOUNCE_LIMIT
    counts = dict(
        InboundMessage.objects.annotate(address_ci=Lower("address"))
        .filter(kind=InboundKind.BOUNCE_SOFT, address_ci__in={row.address.lower() for row in rows})
        .values("address_ci")
        .annotate(count=Count("id"))
        .values_list("address_ci", "count")
    )
    reached = sorted(address for address, count in counts.items() if count >= limit)
    if reached:
        hardened = [row.pk for row in rows if row.address.lower() in reached]
        InboundMessage.objects.filter(pk__in=hardened).update(stop_reason=STOP_REASONS[InboundKind.BOUNCE_SOFT])
        logger.info("soft bounces count as hard", extra={"count": len(reached), "limit": limit})
    return reached
