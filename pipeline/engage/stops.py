"""What ends a lead's sequence, checked for a whole batch just before its follow-ups are sent.

In a few queries per batch, none per lead:

- an inbound message from the lead's thread (matched to the lead) or from its address: a
  `reply` -> replied, a hard bounce (or soft bounces past OUTREACH_SOFT_BOUNCE_LIMIT, which
  the inbox marks) -> bounced, a `complaint` -> complained, an `unsubscribe` (a reply or
  the List-Unsubscribe mailto) -> unsubscribed, an `auto_reply` -> auto_replied only with
  OUTREACH_STOP_ON_AUTO_REPLY; the earliest of them is the reason;
- the address on the suppression list (the one-click link, the admin, the inbox);
- the lead's status set by a person to anything but `Contacted` (what the engager writes).

Each stop is written once on the lead (`sequence_stop_reason`, `sequence_stopped_at`): the
update is conditional on the lead having none, so it is counted once over all runs.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower

from leads.models import (
    InboundKind,
    InboundMessage,
    Lead,
    LeadStatus,
    StopReason,
    Suppression,
    SuppressionReason,
    address_key,
)

_BY_KIND = {
    InboundKind.REPLY: StopReason.REPLIED,
    InboundKind.BOUNCE_HARD: StopReason.BOUNCED,
    InboundKind.BOUNCE_SOFT: StopReason.BOUNCED,  # only the rows the inbox marked as counting as hard
    InboundKind.COMPLAINT: StopReason.COMPLAINED,
    InboundKind.UNSUBSCRIBE: StopReason.UNSUBSCRIBED,
    InboundKind.AUTO_REPLY: StopReason.AUTO_REPLIED,  # only with OUTREACH_STOP_ON_AUTO_REPLY
}
_BY_SUPPRESSION = {
    SuppressionReason.UNSUBSCRIBED: StopReason.UNSUBSCRIBED,
    SuppressionReason.BOUNCED: StopReason.BOUNCED,
    SuppressionReason.COMPLAINED: StopReason.COMPLAINED,
    SuppressionReason.DO_NOT_CONTACT: StopReason.STATUS_CHANGED,  # a person's decision, in the admin
}


@dataclass(frozen=True, slots=True)
class Stop:
    reason: str  # a StopReason value
    detail: str  # for a person: what was found, and when


def find(leads: Iterable[Lead], *, recipients: Mapping[int, str] | None = None) -> dict[int, Stop]:
    """Lead id -> why its sequence ends, for the leads whose sequence must not go on.

    `recipients` (lead id -> the address its emails went to) adds that address to the lead's own.
    """
    leads = list(leads)
    if not leads:
        return {}
    keys: dict[int, set[str]] = {}
    for lead in leads:
        found = {lead.email.strip().lower(), (recipients or {}).get(lead.pk, "").strip().lower()} - {""}
        keys[lead.pk] = found
    by_key: dict[str, set[int]] = {}
    for lead_id, found in keys.items():
        for key in found:
            by_key.setdefault(key, set()).add(lead_id)
    stops = _inbound(set(keys), by_key)
    canonical: dict[str, set[int]] = {}  # address_key() -> lead ids: how the suppression list compares
    for key, lead_ids in by_key.items():
        canonical.setdefault(address_key(key), set()).update(lead_ids)
    for lead_id, stop in _suppressed(canonical).items():
        stops.setdefault(lead_id, stop)
    for lead in leads:
        status = " ".join(str(lead.engagement_status or "").split())
        if lead.pk not in stops and status.casefold() != LeadStatus.CONTACTED.casefold():
            shown = f"status {status!r}" if status else "the status was cleared"
            stops[lead.pk] = Stop(StopReason.STATUS_CHANGED, f"{shown} (not {LeadStatus.CONTACTED!r})")
    return stops


def _inbound(lead_ids: set[int], by_key: dict[str, set[int]]) -> dict[int, Stop]:
    kinds = [kind for kind in _BY_KIND if kind != InboundKind.AUTO_REPLY or settings.OUTREACH_STOP_ON_AUTO_REPLY]
    rows = (
        InboundMessage.objects.annotate(address_ci=Lower("address"), sender_ci=Lower("sender"))
        .filter(Q(lead_id__in=lead_ids) | Q(address_ci__in=list(by_key)) | Q(sender_ci__in=list(by_key)))
        .filter(kind__in=kinds)
        .exclude(Q(kind=InboundKind.BOUNCE_SOFT) & Q(stop_reason=""))  # a soft bounce not yet counting as hard
        .order_by("received_at", "id")
        .values_list("lead_id", "address_ci", "sender_ci", "kind", "received_at")
    )
    stops: dict[int, Stop] = {}
    for lead_id, address, sender, kind, received in rows:
        reason = _BY_KIND[kind]
        detail = f"{InboundKind(kind).label.lower()} received {received:%Y-%m-%d %H:%M}" if received else kind
        owners = {lead_id} & lead_ids if lead_id is not None else set()
        owners |= by_key.get(address, set()) | (by_key.get(sender, set()) if kind != InboundKind.BOUNCE_HARD else set())
        for owner in owners:
            stops.setdefault(owner, Stop(reason, detail))  # ordered by time: the first answer is the reason
    return stops


def _suppressed(by_key: dict[str, set[int]]) -> dict[int, Stop]:
    rows = Suppression.objects.filter(address_key__in=list(by_key)).values_list("address_key", "reason", "created_at")
    stops = {}
    for key, reason, created in rows:
        stop = Stop(
            _BY_SUPPRESSION.get(reason, StopReason.STATUS_CHANGED), f"address suppressed ({reason}) {created:%Y-%m-%d}"
        )
        for lead_id in by_key.get(key, ()):
            stops.setdefault(lead_id, stop)
    return stops


def record(stops: Mapping[int, Stop], *, now: datetime) -> Counter:
    """Write each stop on its lead once (a lead stopped already keeps its first reason).

    Returns reason -> leads newly stopped.
    """
    counted: Counter = Counter()
    by_reason: dict[str, list[int]] = {}
    for lead_id, stop in stops.items():
        if stop.reason:  # a lead left alone without a reason (nothing to follow up on) is not stopped
            by_reason.setdefault(stop.reason, []).append(lead_id)
    for reason, lead_ids in sorted(by_reason.items()):
        changed = Lead.objects.filter(pk__in=lead_ids, sequence_stop_reason="").update(
            sequence_stop_reason=reason, sequence_stopped_at=now
        )
        if changed:
            counted[reason] += changed
    return counted
