"""Which of our emails (and which lead) each inbound message is about, for a whole batch at once.

In order: the ids it names (`In-Reply-To`, `References`, a report's returned message)
against the Message-ID we stored before sending (or an ESP's own id); then a report's
recipient against the addresses we emailed; then the sender against the addresses we
emailed, then against the leads. A few queries per batch, none per message.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Lower

from leads.models import InboundKind, Lead, OutboundEmail
from pipeline.inbox.classify import Verdict

_REPORT_KINDS = {InboundKind.BOUNCE_HARD, InboundKind.BOUNCE_SOFT, InboundKind.COMPLAINT}
_ANSWER_KINDS = {InboundKind.REPLY, InboundKind.AUTO_REPLY, InboundKind.UNSUBSCRIBE}


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # the final kind: a message that matches nothing we sent is `other`
    detail: str
    email_id: int | None = None
    lead_id: int | None = None
    address: str = ""  # the address it is about: a report's recipient, else the one we emailed
    status: str = ""
    action: str = ""


def match_all(verdicts: list[Verdict]) -> list[Match]:
    """One Match per verdict, in order."""
    by_id = _emails_by_id({ref for verdict in verdicts for ref in verdict.references})
    matched = [next((by_id[ref] for ref in v.references if ref in by_id), None) for v in verdicts]
    wanted = set()
    for verdict, email in zip(verdicts, matched, strict=True):
        if email is None:
            wanted |= {r.address for r in verdict.recipients if r.address} | {verdict.sender} - {""}
    by_recipient = _latest_emails_to(wanted)
    unmatched_senders = {
        v.sender for v, email in zip(verdicts, matched, strict=True) if email is None and v.sender not in by_recipient
    }
    leads = _leads_by_address(unmatched_senders - {""})
    return [_match(v, email, by_recipient, leads) for v, email in zip(verdicts, matched, strict=True)]


def _match(
    verdict: Verdict, email: OutboundEmail | None, by_recipient: dict[str, OutboundEmail], leads: dict[str, int]
) -> Match:
    recipient = verdict.recipients[0] if verdict.recipients else None
    if verdict.kind in _REPORT_KINDS:
        how = "its Message-ID"
        if email is None:
            recipient = next((r for r in verdict.recipients if r.address in by_recipient), recipient)
            email = by_recipient.get(recipient.address) if recipient else None
            how = "its recipient"
        if email is None:
            return _unmatched(verdict, f"{verdict.kind} about an address we never emailed")
        if recipient is None or recipient.address not in ("", email.recipient.lower()):
            recipient = next((r for r in verdict.recipients if r.address == email.recipient.lower()), recipient)
        return Match(
            verdict.kind,
            f"{verdict.detail}; matched by {how}"[:255],
            email.pk,
            email.lead_id,
            email.recipient.lower(),
            recipient.status if recipient else "",
            recipient.action if recipient else "",
        )
    if verdict.kind in _ANSWER_KINDS:
        how = "its In-Reply-To/References"
        if email is None and verdict.sender in by_recipient:
            email, how = by_recipient[verdict.sender], "its sender"
        if email is not None:
            detail = f"{verdict.detail}; matched by {how}"[:255]
            return Match(verdict.kind, detail, email.pk, email.lead_id, email.recipient.lower())
        if verdict.sender in leads:
            detail = f"{verdict.detail}; matched by its sender (a lead)"[:255]
            return Match(verdict.kind, detail, None, leads[verdict.sender], verdict.sender)
        return _unmatched(verdict, f"{verdict.kind} that answers nothing we sent")
    return Match(verdict.kind, verdict.detail, address=recipient.address if recipient else "")


def _unmatched(verdict: Verdict, why: str) -> Match:
    recipient = verdict.recipients[0] if verdict.recipients else None
    return Match(
        InboundKind.OTHER,
        f"{why} ({verdict.detail})"[:255],
        address=recipient.address if recipient else "",
        status=recipient.status if recipient else "",
        action=recipient.action if recipient else "",
    )


def _emails_by_id(ids: set[str]) -> dict[str, OutboundEmail]:
    if not ids:
        return {}
    found: dict[str, OutboundEmail] = {}
    emails = OutboundEmail.objects.filter(Q(message_id__in=ids) | Q(provider_message_id__in=ids)).only(
        "id", "lead_id", "recipient", "message_id", "provider_message_id"
    )
    for email in emails:
        for key in (email.message_id, email.provider_message_id):
            if key:
                found[key] = email
    return found


def _latest_emails_to(addresses: set[str]) -> dict[str, OutboundEmail]:
    """Address -> the latest email we sent to it."""
    if not addresses:
        return {}
    emails = (
        OutboundEmail.objects.annotate(address_ci=Lower("recipient"))
        .filter(address_ci__in=addresses)
        .order_by("created_at", "id")
        .only("id", "lead_id", "recipient")
    )
    return {email.address_ci: email for email in emails}  # later rows win: the latest send


def _leads_by_address(addresses: set[str]) -> dict[str, int]:
    if not addresses:
        return {}
    rows = Lead.objects.annotate(address_ci=Lower("email")).filter(address_ci__in=addresses).order_by("id")
    found: dict[str, int] = {}
    for address, lead_id in rows.values_list("address_ci", "id"):
        found.setdefault(address, lead_id)
    return found
