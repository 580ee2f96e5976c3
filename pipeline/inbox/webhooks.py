"""ESP webhooks: django-anymail's tracking and inbound signals -> the same records and effects
as mail read over IMAP.

anymail's own views receive the posts and check them (basic auth, and the ESP's
signature where it signs, as Mailgun does); these receivers turn each event into a
Verdict: bounced -> `bounce_hard`, deferred -> `bounce_soft`, complained -> `complaint`,
unsubscribed -> `unsubscribe`, a rejection for an earlier bounce or complaint -> the same;
opens, clicks and deliveries change nothing. An inbound reply the ESP forwards is
classified like any mail. Events are recorded under the mailbox `esp:<name>` with the
ESP's event id, so an event the ESP posts again has its effect once.
"""

import hashlib
import logging

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason, inbound, tracking
from django.utils import timezone

from leads.models import InboundKind
from outreach_site.logs import mask_email, redact
from pipeline.inbox import effects, reports
from pipeline.inbox.classify import Verdict, classify
from pipeline.inbox.findings import Recipient

logger = logging.getLogger(__name__)

# anymail event type -> (inbound kind, the status when the ESP's answer names none, action)
_TRACKED = {
    EventType.BOUNCED: (InboundKind.BOUNCE_HARD, "5.0.0", "failed"),
    EventType.DEFERRED: (InboundKind.BOUNCE_SOFT, "4.0.0", "delayed"),
    EventType.COMPLAINED: (InboundKind.COMPLAINT, "", "complained"),
    EventType.UNSUBSCRIBED: (InboundKind.UNSUBSCRIBE, "", "unsubscribed"),
}
# A rejected send: the ESP refused because of an earlier bounce or complaint.
_REJECTED = {
    RejectReason.BOUNCED: _TRACKED[EventType.BOUNCED],
    RejectReason.SPAM: _TRACKED[EventType.COMPLAINED],
}


def connect() -> None:
    """Receive anymail's signals (called once, from the app's ready())."""
    tracking.connect(on_tracking, dispatch_uid="pipeline.inbox.webhooks.tracking")
    inbound.connect(on_inbound, dispatch_uid="pipeline.inbox.webhooks.inbound")


def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """Record a bounce, complaint or unsubscribe event once and apply its effect."""
    verdict = tracking_verdict(event, esp_name=esp_name)
    if verdict is None:
        return
    _record(verdict, event, esp_name)


def on_inbound(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    """Classify and record an inbound message the ESP forwarded, like one read over IMAP."""
    try:
        raw = event.message.as_bytes()
    except (ValueError, TypeError, UnicodeError, LookupError):  # headers the serializer refuses
        raw = event.message.as_string().encode("utf-8", "surrogateescape")
    _record(classify(raw), event, esp_name)


def tracking_verdict(event: AnymailTrackingEvent, *, esp_name: str) -> Verdict | None:
    """The verdict for a tracking event, or None for events that change nothing (opens, clicks, deliveries)."""
    found = _TRACKED.get(event.event_type)
    if event.event_type == EventType.REJECTED:
        found = _REJECTED.get(event.reject_reason)
    if found is None or not event.recipient:
        return None
    kind, default_status, action = found
    answer = " ".join(str(event.mta_response or event.description or "").split())
    status = reports.status_in(answer) if kind in (InboundKind.BOUNCE_HARD, InboundKind.BOUNCE_SOFT) else ""
    if status[:1] == "4" and kind == InboundKind.BOUNCE_HARD:
        kind, action = InboundKind.BOUNCE_SOFT, "delayed"  # "bounced" with a temporary code: a soft bounce
    address = event.recipient.strip().lower()
    detail = f"{esp_name} {event.event_type} event" + (f": {redact(answer)[:120]}" if answer else "")
    return Verdict(
        kind,
        detail,
        message_id=_event_id(event, esp_name),
        sender=address,
        subject="",
        recipients=(Recipient(address, status or default_status, action),),
        original_message_id=event.message_id or None,
        references=(event.message_id,) if event.message_id else (),
        date=event.timestamp,
    )


def _record(verdict: Verdict, event, esp_name: str) -> None:
    mailbox = f"esp:{esp_name.lower()}"
    incoming = effects.Incoming(verdict, received_at=event.timestamp)
    recorded = effects.record([incoming], mailbox=mailbox, now=timezone.now())
    logger.info(
        "webhook event recorded",
        extra={
            "mailbox": mailbox,
            "kind": verdict.kind,
            "email": mask_email(verdict.sender),
            "new": sum(recorded.kinds.values()),
        },
    )


def _event_id(event: AnymailTrackingEvent, esp_name: str) -> str:
    """The ESP's id for the event; without one, a digest of what the event says (a repost is the same event)."""
    if event.event_id:
        return f"<{event.event_id}@{esp_name.lower()}>"[:255]
    facts = "|".join(str(item) for item in (event.event_type, event.message_id, event.recipient, event.timestamp))
    return f"<{hashlib.sha256(facts.encode()).hexdigest()[:40]}@{esp_name.lower()}>"
