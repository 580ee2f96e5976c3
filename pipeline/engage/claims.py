"""Claiming a batch of leads for one engager: read, decide with the rules, and write the
claims and skips, in one short transaction.

Claims are serialised (a transaction-level advisory lock on PostgreSQL; on SQLite,
BEGIN IMMEDIATE takes the database's write lock), so the daily cap and the check for
the same address on two lead rows are exact across workers. On PostgreSQL the batch is
read `FOR UPDATE SKIP LOCKED`, so a lead that another transaction is changing waits for
a later run. Each lead to email gets an `OutboundEmail(status=pending)`: the claim
itself, and the unique constraint (lead, touch) refuses a second one. Skips are written
in the same transaction, in bulk: no query per lead.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from email_validator import EmailUndeliverableError, caching_resolver, validate_email

from leads.models import EmailStatus, Lead, MessageSource, OutboundEmail, SkipLog, Stage, Suppression
from outreach_site.logs import mask_email
from pipeline.engage import rules, screening
from pipeline.jobs import runs
from pipeline.message import Message, fallback_for

logger = logging.getLogger("pipeline.engage.stage")  # one logger for all of the stage's events

# Key of the PostgreSQL advisory lock that serialises claims across workers.
_CLAIM_LOCK = 0x0E_6A_6E  # "engage"
_CLAIM_ATTEMPTS = 3
# Large fields the engager never reads.
_UNUSED_FIELDS = ("raw_fields", "message_grounding", "message_evidence")


@dataclass(slots=True)
class Batch:
    leads: list[Lead]
    decisions: dict[int, rules.Decision] = field(default_factory=dict)  # lead id -> decision
    deferred: dict[int, str] = field(default_factory=dict)  # lead id -> DeferReason, for leads held back
    messages: dict[int, Message] = field(default_factory=dict)  # lead id -> message, for leads to email
    emails: list[OutboundEmail] = field(default_factory=list)  # the pending claims (real runs)
    refused: dict[int, str] = field(default_factory=dict)  # lead id -> why its message failed the output check


def eligible(lead_ids: list[int] | None):
    """Leads with no email at touch 1 (among `lead_ids`, when given)."""
    leads = Lead.objects.filter(~Exists(OutboundEmail.objects.filter(lead=OuterRef("pk"), touch=1)), archived_at=None)
    return leads if lead_ids is None else leads.filter(pk__in=lead_ids)


def claim(*, cursor: int, size: int, lead_ids, taken: set[str], now: datetime, dry_run: bool, planned: int) -> Batch:
    """The next batch after lead id `cursor`, decided; unless a dry run, its claims and skips written.

    `taken` (addresses emailed in this run) grows by the batch's; `planned` is how many emails
    a dry run has counted so far, as they are not in the database.
    """
    if dry_run:
        return _decide_batch(
            _next_leads(cursor, size, lead_ids, lock=False), taken=taken, now=now, dry_run=True, planned=planned
        )
    for attempt in range(1, _CLAIM_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _serialise_claims()
                claimed = set(taken)  # kept apart until the claim commits
                leads = _next_leads(cursor, size, lead_ids, lock=True)
                batch = _decide_batch(leads, taken=claimed, now=now, dry_run=False, planned=planned)
                _write_claims(batch, now=now)
        except IntegrityError:
            # Another worker claimed one of these leads first (possible only where claims are
            # not serialised); read the batch again without it.
            if attempt == _CLAIM_ATTEMPTS:
                raise
            continue
        taken.update(claimed)
        return batch
    raise AssertionError("unreachable")  # pragma: no cover


def _serialise_claims() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK])
    # SQLite: settings open every transaction with BEGIN IMMEDIATE, which holds the
    # database's write lock until commit: claims are already one at a time.


def _next_leads(cursor: int, size: int, lead_ids, *, lock: bool) -> list[Lead]:
    leads = eligible(lead_ids).filter(pk__gt=cursor).defer(*_UNUSED_FIELDS).order_by("pk")
    if lock and connection.vendor == "postgresql":
        leads = leads.select_for_update(skip_locked=True, of=("self",))
    return list(leads[:size])


def _decide_batch(leads: list[Lead], *, taken: set[str], now: datetime, dry_run: bool, planned: int) -> Batch:
    batch = Batch(leads=leads)
    if not leads:
        return batch
    addresses = {lead.pk: rules.read_address(lead.email) for lead in leads}
    context = _context(addresses.values(), taken=taken, now=now)
    remaining = settings.OUTREACH_DAILY_CAP - _emails_today(now)
    if dry_run:  # nothing was written for the batches before this one: count them here
        remaining -= planned
    approval = settings.OUTREACH_APPROVAL
    for lead in leads:
        decision = rules.decide(lead, context, address=addresses[lead.pk])
        batch.decisions[lead.pk] = decision
        if not decision.is_send:
            continue
        # Before the cap: a message nobody approved takes no place in today's emails.
        if rules.awaits_approval(lead.message_approved_at, mode=approval, touch=1):
            batch.deferred[lead.pk] = rules.DeferReason.AWAITING_APPROVAL
            continue
        message = _message_for(lead)
        if refused := screening.refusal(lead, message):  # not sent, whoever wrote it: a person must change it
            batch.deferred[lead.pk] = rules.DeferReason.AWAITING_APPROVAL
            batch.refused[lead.pk] = refused
            continue
        if remaining <= 0:
            batch.deferred[lead.pk] = rules.DeferReason.DAILY_CAP
            continue
        remaining -= 1
        taken.update(addresses[lead.pk].keys)
        batch.messages[lead.pk] = message
    return batch


def _context(addresses, *, taken: set[str], now: datetime) -> rules.Context:
    """What the rules need for a batch, in three queries whatever its size."""
    keys = set().union(*(address.keys for address in addresses))
    suppressed = {
        key: f"{reason} {created:%Y-%m-%d}"
        for key, reason, created in Suppression.objects.annotate(key=Lower("address"))
        .filter(key__in=keys)
        .values_list("key", "reason", "created_at")
    }
    since = now - timedelta(days=settings.OUTREACH_RECONTACT_DAYS)
    contacted_on = {}
    emailed = (
        OutboundEmail.objects.annotate(key=Lower("recipient"))
        .filter(key__in=keys, created_at__gte=since)
        .exclude(status=EmailStatus.FAILED)  # refused by the server: the person was not contacted
        .values_list("key", "created_at")
    )
    for key, created in emailed:
        contacted_on[key] = max(contacted_on.get(key, created.date()), timezone.localdate(created))
    # Rows marked messaged in Airtable (by hand, or before this system) count too.
    messaged = (
        Lead.objects.annotate(key=Lower("email"))
        .filter(key__in=keys, date_messaged__gte=since.date())
        .values_list("key", "date_messaged")
    )
    for key, day in messaged:
        contacted_on[key] = max(contacted_on.get(key, day), day)
    return rules.Context(
        today=timezone.localdate(now),
        excluded_statuses=frozenset(settings.OUTREACH_EXCLUDED_STATUSES),
        excluded_confidence=frozenset(settings.OUTREACH_EXCLUDED_CONFIDENCE),
        suppressed=suppressed,
        contacted_on=contacted_on,
        taken=taken,
        undeliverable=_undeliverable({address.domain for address in addresses if address.normalized}),
    )


def _undeliverable(domains: set[str]) -> dict[str, str]:
    """Domain -> why it takes no email, by DNS, only with OUTREACH_CHECK_DELIVERABILITY."""
    if not settings.OUTREACH_CHECK_DELIVERABILITY or not domains:
        return {}
    resolver = caching_resolver(timeout=5)
    found = {}
    for domain in sorted(domains):
        try:  # a DNS timeout is not a verdict: email-validator lets the address through
            validate_email(f"postmaster@{domain}", check_deliverability=True, dns_resolver=resolver)
        except EmailUndeliverableError as err:
            found[domain] = str(err)[:500]
    return found


def _emails_today(now: datetime) -> int:
    """Emails created today by every worker: what the daily cap counts."""
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    return OutboundEmail.objects.filter(created_at__gte=midnight).count()


def _message_for(lead: Lead) -> Message:
    """The generated (or hand-written) message, else the fallback template: never blocked upstream."""
    if lead.has_message:
        subject = lead.message_subject.strip() or fallback_for(lead).subject
        return Message(subject, lead.message_body, lead.message_source or MessageSource.MANUAL)
    if lead.custom_message.strip():
        subject = lead.message_subject.strip() or fallback_for(lead).subject
        return Message(subject, lead.custom_message, MessageSource.MANUAL)
    return fallback_for(lead)


def _write_claims(batch: Batch, *, now: datetime) -> None:
    """The batch's pending emails, new skip logs and lead updates: a few bulk queries."""
    push_skip_reason = bool(settings.AIRTABLE_FIELD_SKIP_REASON)
    run = runs.current()
    changed, logs = [], []
    for lead in batch.leads:
        decision = batch.decisions[lead.pk]
        reason = "" if decision.is_send else decision.reason
        if lead.skip_reason == reason:
            continue  # skipped again for the same reason: the log already explains it
        lead.skip_reason = reason
        lead.pending_push = lead.pending_push or push_skip_reason
        lead.updated_at = now
        changed.append(lead)
        if reason:
            logs.append(SkipLog(lead=lead, stage=Stage.ENGAGE, reason=reason, detail=decision.detail, run=run))
            _log_skip(lead, decision)
    batch.emails = OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                lead_id=lead_id,
                touch=1,
                recipient=batch.decisions[lead_id].address,
                subject=message.subject[:255],
                body=message.body,
                message_source=message.source,
                status=EmailStatus.PENDING,
            )
            for lead_id, message in batch.messages.items()
        ]
    )
    SkipLog.objects.bulk_create(logs)
    screening.record(batch.refused, batch.leads, run=run)
    Lead.objects.bulk_update(changed, fields=["skip_reason", "pending_push", "updated_at"])


def _log_skip(lead: Lead, decision: rules.Decision) -> None:
    logger.info(
        "lead skipped",
        extra={
            "lead_id": lead.pk,
            "email": mask_email(lead.email),
            "stage": "engage",
            "reason": decision.reason,
            "detail": decision.detail,
        },
    )
