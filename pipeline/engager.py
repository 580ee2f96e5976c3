"""The engage stage: claim eligible leads, decide with the rules, send, record.

Exactly once, with any number of workers on any number of machines:

- A lead is eligible while it has no email at touch 1. Each run walks the eligible
  leads once, in id order, a batch at a time.
- Claim: one short transaction per batch. Claims are serialised (a transaction-level
  advisory lock on PostgreSQL; on SQLite, BEGIN IMMEDIATE takes the database's write
  lock), so the daily cap and the check for the same address on two lead rows are
  exact across workers. On PostgreSQL the batch is read `FOR UPDATE SKIP LOCKED`, so
  a lead that another transaction is changing waits for a later run. Each lead to
  email gets an `OutboundEmail(status=pending)`: the claim itself, and the unique
  constraint (lead, touch) refuses a second one. Skips are written in the same
  transaction (bulk), with no query per lead.
- Send, outside any transaction: a conditional UPDATE pending -> sending (its row
  count says whether this worker still owns the email), the backend call, then
  sent/failed in a new short transaction.
- A crash leaves at most the email in flight in `sending`: it may have gone out, so
  it is never retried and waits in the admin ("needs a decision"). The rest of its
  batch stays `pending`; a pending claim older than `_ABANDONED_AFTER` is released
  by the next run and its lead decided again.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib.util import find_spec

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from email_validator import EmailUndeliverableError, caching_resolver, validate_email

from leads.models import EmailStatus, Lead, MessageSource, OutboundEmail, SkipLog, Stage, Suppression
from outreach_site.logs import mask_email
from pipeline import fallback, rules, runs, sending, unsubscribe
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

# A live worker turns its pending claims into emails within seconds; a claim this old
# belongs to a process that died, and its leads may be decided again. (If the worker
# was only slow, the conditional UPDATE pending -> sending stops it from sending.)
_ABANDONED_AFTER = timedelta(minutes=15)
# Key of the PostgreSQL advisory lock that serialises claims across workers.
_CLAIM_LOCK = 0x0E_6A_6E  # "engage"
_CLAIM_ATTEMPTS = 3
# Large fields the engager never reads.
_UNUSED_FIELDS = ("raw_fields", "message_grounding")


@dataclass(frozen=True, slots=True)
class _Message:
    subject: str
    body: str
    source: str


@dataclass(slots=True)
class _Batch:
    leads: list[Lead]
    decisions: dict[int, rules.Decision] = field(default_factory=dict)  # lead id -> decision
    deferred: set[int] = field(default_factory=set)  # lead ids held back by the daily cap
    messages: dict[int, _Message] = field(default_factory=dict)  # lead id -> message, for leads to email
    emails: list[OutboundEmail] = field(default_factory=list)  # the pending claims (real runs)


def run(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    lead_ids: list[int] | None = None,
    progress: Progress = NO_PROGRESS,
    now: datetime | None = None,
) -> StageSummary:
    """Email every eligible lead that passes the rules, once; safe with several workers at a time.

    Raises SendError when the email server cannot be reached (claims not yet sent are released).
    """
    now = now or timezone.now()
    tally = Tally(stage=Stage.ENGAGE.value, dry_run=dry_run)
    taken: set[str] = set()  # addresses emailed (or to be, in a dry run) in this run
    if not dry_run:
        _release_abandoned(now)
    if progress is not NO_PROGRESS:
        total = _eligible(lead_ids).count()
        progress.start(total if limit is None else min(total, limit), "engage")
    cursor = 0
    try:
        while limit is None or tally.processed < limit:
            size = (
                settings.OUTREACH_BATCH_SIZE
                if limit is None
                else min(settings.OUTREACH_BATCH_SIZE, limit - tally.processed)
            )
            batch = _claim(
                cursor=cursor, size=size, lead_ids=lead_ids, taken=taken, now=now, dry_run=dry_run, tally=tally
            )
            if not batch.leads:
                break
            cursor = batch.leads[-1].pk
            _count(batch, tally)
            if not dry_run and batch.emails:
                _send_batch(batch, tally, now=now)
            progress.advance(len(batch.leads))
    finally:
        if not dry_run and (tally.succeeded or tally.skipped):
            _push_statuses()
    return tally.summary()


def _eligible(lead_ids: list[int] | None):
    leads = Lead.objects.filter(~Exists(OutboundEmail.objects.filter(lead=OuterRef("pk"), touch=1)))
    return leads if lead_ids is None else leads.filter(pk__in=lead_ids)


def _release_abandoned(now: datetime) -> None:
    released, _ = OutboundEmail.objects.filter(
        status=EmailStatus.PENDING, created_at__lt=now - _ABANDONED_AFTER
    ).delete()
    if released:
        logger.warning("abandoned claims released", extra={"stage": "engage", "count": released})


def _claim(*, cursor, size, lead_ids, taken, now, dry_run, tally) -> _Batch:
    """Read the next batch after `cursor`, decide each lead, and (unless a dry run) write the claims and skips."""
    if dry_run:
        return _decide_batch(
            _next_leads(cursor, size, lead_ids, lock=False), taken=taken, now=now, dry_run=True, tally=tally
        )
    for attempt in range(1, _CLAIM_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _serialise_claims()
                claimed = set(taken)  # kept apart until the claim commits
                leads = _next_leads(cursor, size, lead_ids, lock=True)
                batch = _decide_batch(leads, taken=claimed, now=now, dry_run=False, tally=tally)
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
    leads = _eligible(lead_ids).filter(pk__gt=cursor).defer(*_UNUSED_FIELDS).order_by("pk")
    if lock and connection.vendor == "postgresql":
        leads = leads.select_for_update(skip_locked=True, of=("self",))
    return list(leads[:size])


def _decide_batch(leads: list[Lead], *, taken: set[str], now: datetime, dry_run: bool, tally: Tally) -> _Batch:
    batch = _Batch(leads=leads)
    if not leads:
        return batch
    addresses = {lead.pk: rules.read_address(lead.email) for lead in leads}
    context = _context(addresses.values(), taken=taken, now=now)
    remaining = settings.OUTREACH_DAILY_CAP - _emails_today(now)
    if dry_run:  # nothing was written for the batches before this one: count them here
        remaining -= tally.succeeded
    for lead in leads:
        decision = rules.decide(lead, context, address=addresses[lead.pk])
        batch.decisions[lead.pk] = decision
        if not decision.is_send:
            continue
        if remaining <= 0:
            batch.deferred.add(lead.pk)
            continue
        remaining -= 1
        taken.update(addresses[lead.pk].keys)
        batch.messages[lead.pk] = _message_for(lead)
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


def _message_for(lead: Lead) -> _Message:
    """The generated (or hand-written) message, else the fallback template: never blocked upstream."""
    if lead.has_message:
        subject = lead.message_subject.strip() or _fallback(lead).subject
        return _Message(subject, lead.message_body, lead.message_source or MessageSource.MANUAL)
    if lead.custom_message.strip():
        return _Message(
            lead.message_subject.strip() or _fallback(lead).subject, lead.custom_message, MessageSource.MANUAL
        )
    message = _fallback(lead)
    return _Message(message.subject, message.body, MessageSource.FALLBACK)


def _fallback(lead: Lead) -> fallback.Message:
    return fallback.render(
        name=lead.name, job_title=lead.job_title, company=lead.company_name, description=lead.company_description
    )


def _write_claims(batch: _Batch, *, now: datetime) -> None:
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


def _count(batch: _Batch, tally: Tally) -> None:
    for lead in batch.leads:
        decision = batch.decisions[lead.pk]
        tally.processed += 1
        if not decision.is_send:
            tally.skipped[decision.reason] += 1
        elif lead.pk in batch.deferred:
            tally.deferred += 1
        elif tally.dry_run:
            tally.succeeded += 1  # a real run counts what went out, in _send_batch
        if tally.dry_run:
            tally.items.append(_item(lead, decision, batch))


def _item(lead: Lead, decision: rules.Decision, batch: _Batch) -> dict:
    message = batch.messages.get(lead.pk)
    shown = "send" if decision.is_send else f"skip: {decision.reason}"
    if lead.pk in batch.deferred:
        shown = "defer"
    return {
        "lead": lead.pk,
        "name": lead.display_name,
        "email": mask_email(lead.email),
        "decision": shown,
        "reason": decision.reason,
        "detail": decision.detail,
        "message_source": message.source if message else "",
        "subject": message.subject if message else "",
    }


def _send_batch(batch: _Batch, tally: Tally, *, now: datetime) -> None:
    """Send the batch's claims over one connection; release what could not be attempted."""
    leads = {lead.pk: lead for lead in batch.leads}
    pending = list(batch.emails)
    try:
        connection = sending.open_connection()
        try:
            while pending:
                email = pending.pop(0)
                outcome = _send_one(email, leads[email.lead_id], connection, now=now)
                if outcome == EmailStatus.SENT:
                    tally.succeeded += 1
                elif outcome is not None:
                    tally.failed += 1
                if outcome == EmailStatus.SENDING:  # connection lost mid-message: a fresh one for the rest
                    connection.close()
                    connection = sending.open_connection()
        finally:
            connection.close()
    finally:
        if pending:  # never handed to the server: the leads go out on a later run
            OutboundEmail.objects.filter(pk__in=[email.pk for email in pending], status=EmailStatus.PENDING).delete()


def _send_one(email: OutboundEmail, lead: Lead, connection, *, now: datetime) -> str | None:
    """Send one claimed email; returns its final status, or None when another worker owns it now."""
    # The conditional UPDATE is the lock: a claim released as abandoned meanwhile is not ours.
    if not OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.PENDING).update(status=EmailStatus.SENDING):
        return None
    link = unsubscribe.link(email.pk)
    body = sending.compose_body(email.body, unsubscribe_url=link)
    message = sending.build_message(to=email.recipient, subject=email.subject, body=body, unsubscribe_url=link)
    facts = {"lead_id": lead.pk, "email": mask_email(email.recipient), "stage": "engage"}
    try:
        message_id = sending.send(message, connection)
    except sending.SendError as err:
        # Maybe delivered: stays `sending` for a person to check; otherwise refused: `failed`.
        status = EmailStatus.SENDING if err.maybe_delivered else EmailStatus.FAILED
        OutboundEmail.objects.filter(pk=email.pk).update(status=status, error=str(err)[:500], body=body)
        logger.warning("email failed", extra={**facts, "cause": err.cause, "error": str(err), "status": status})
        return status
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.SENT, sent_at=timezone.now(), provider_message_id=message_id, body=body
        )
        Lead.objects.filter(pk=lead.pk).update(
            engagement_status=rules.CONTACTED_STATUS,
            date_messaged=timezone.localdate(now),
            custom_message=email.body,
            message_subject=email.subject,
            message_body=email.body,
            message_source=email.message_source,
            skip_reason="",
            pending_push=True,
            updated_at=now,
        )
    logger.info("email sent", extra={**facts, "message_source": email.message_source, "message_id": message_id})
    return EmailStatus.SENT


def _push_statuses() -> None:
    """Push what this run marked to Airtable; when Airtable is down or not set up, the next sync pushes it."""
    if not (settings.AIRTABLE_API_KEY and settings.AIRTABLE_BASE_ID and settings.AIRTABLE_TABLE_NAME):
        logger.info("airtable push skipped", extra={"stage": "engage", "cause": "config"})
        return
    if find_spec("pipeline.sync") is None:  # the sync stage is not installed in this build
        logger.info("airtable push skipped", extra={"stage": "engage", "cause": "no sync stage"})
        return
    from pipeline import airtable, sync  # here: only a configured Airtable needs the client

    try:
        sync.run(direction="push")
    except airtable.AirtableError as err:
        logger.warning("airtable push failed", extra={"stage": "engage", "cause": err.cause, "error": str(err)})
