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
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import dns.resolver
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from email_validator import EmailUndeliverableError, caching_resolver, validate_email

from leads.models import (
    EmailStatus,
    Lead,
    MessageSource,
    OutboundEmail,
    SkipLog,
    Stage,
    Suppression,
    address_key,
)
from outreach_site.logs import mask_email
from pipeline.engage import mailboxes, rules, screening
from pipeline.engage.stops import Stop
from pipeline.engage.thread import Thread
from pipeline.jobs import runs
from pipeline.message import Message, fallback_for

logger = logging.getLogger("pipeline.engage.stage")  # one logger for all of the stage's events

# Key of the PostgreSQL advisory lock that serialises claims across workers.
_CLAIM_LOCK = 0x0E_6A_6E  # "engage"
_CLAIM_ATTEMPTS = 3
# A retried email is due again this long after a worker took it (if that worker died before sending).
_RETRY_LEASE = timedelta(minutes=15)
# Large fields the engager never reads.
_UNUSED_FIELDS = ("raw_fields", "message_grounding", "message_evidence")


@dataclass(slots=True)
class Batch:
    leads: list[Lead]
    decisions: dict[int, rules.Decision] = field(default_factory=dict)  # lead id -> decision
    deferred: dict[int, str] = field(default_factory=dict)  # lead id -> DeferReason, for leads held back
    messages: dict[int, Message] = field(default_factory=dict)  # lead id -> message, for leads to email
    emails: list[OutboundEmail] = field(default_factory=list)  # the pending claims (real runs)
    touches: dict[int, int] = field(default_factory=dict)  # lead id -> the touch it gets, when not 1
    threads: dict[int, Thread] = field(default_factory=dict)  # lead id -> the thread a follow-up answers
    stopped: dict[int, Stop] = field(default_factory=dict)  # lead id -> why its sequence ended (follow-ups)
    newly_stopped: Counter = field(default_factory=Counter)  # stop reason -> leads this batch found stopped first
    mailboxes: dict[int, str] = field(default_factory=dict)  # lead id -> the mailbox it leaves from
    exhausted: str = ""  # a DeferReason when no mailbox could take any email: the run stops claiming
    next_due: datetime | None = None  # when a mailbox waiting for its gap may send again
    refused: dict[int, str] = field(default_factory=dict)  # lead id -> why its message failed the output check


def in_zones(leads, zones: set[str] | None):
    """Leads whose stored time zone value is among `zones` (None: every lead)."""
    return leads if zones is None else leads.filter(time_zone__in=zones)


def eligible(lead_ids: list[int] | None):
    """Leads with no email at touch 1 (among `lead_ids`, when given)."""
    leads = Lead.objects.filter(~Exists(OutboundEmail.objects.filter(lead=OuterRef("pk"), touch=1)), archived_at=None)
    return leads if lead_ids is None else leads.filter(pk__in=lead_ids)


def claim(
    *,
    cursor: int,
    size: int,
    lead_ids,
    taken: set[str],
    now: datetime,
    dry_run: bool,
    planned: dict[str, int],
    zones: set[str] | None = None,
    undeliverable: Mapping[str, str] | None = None,
) -> Batch:
    """The next batch after lead id `cursor` among leads in the open `zones`, decided; unless a dry
    run, its claims and skips written.

    `taken` (addresses emailed in this run) grows by the batch's; `planned` is how many emails
    a dry run has counted so far per mailbox, as they are not in the database. A real run's
    batch comes back empty with `exhausted` set when no mailbox may take an email now.
    `undeliverable` (domain -> why) comes from `check_domains`, called before: no DNS inside a transaction.
    """
    undeliverable = undeliverable or {}
    if dry_run:
        plan = mailboxes.plan(now, planned=planned)
        leads = _next_leads(cursor, size, lead_ids, zones, lock=False)
        return _decide_batch(leads, plan, taken=taken, now=now, undeliverable=undeliverable)
    claimed: set[str] = set()  # kept apart from `taken` until the claim commits

    def write() -> Batch:
        claimed.clear()
        claimed.update(taken)
        plan = mailboxes.plan(now)
        if plan.exhausted:
            return Batch(leads=[], exhausted=plan.exhausted, next_due=plan.next_due())
        leads = _next_leads(cursor, size, lead_ids, zones, lock=True)
        batch = _decide_batch(leads, plan, taken=claimed, now=now, undeliverable=undeliverable)
        _write_claims(batch, now=now)
        mailboxes.record_claims(plan.used, now=now)
        return batch

    batch = serialised(write)
    taken.update(claimed)
    return batch


def claim_retries(*, now: datetime, size: int) -> Batch:
    """Emails due again after a 4xx answer, each from its own mailbox while it has room; one short transaction.

    Each is leased (retry_at moves on) so that a worker dying with it leaves it due again later; one
    whose address was suppressed meanwhile is failed instead."""
    with transaction.atomic():
        _serialise_claims()
        due = OutboundEmail.objects.filter(status=EmailStatus.PENDING, retry_at__lte=now)
        suppressed = Suppression.objects.filter(address_key=OuterRef("address_key"))
        due.filter(Exists(suppressed)).update(status=EmailStatus.FAILED, retry_at=None, error="suppressed before retry")
        plan = mailboxes.plan(now)
        chosen = []
        for email in due.order_by("retry_at", "id")[:size]:
            mailbox, reason = plan.take(mailbox=email.mailbox)
            if not reason:
                chosen.append(email)
        if not chosen:
            return Batch(leads=[])
        OutboundEmail.objects.filter(pk__in=[email.pk for email in chosen]).update(retry_at=now + _RETRY_LEASE)
        mailboxes.record_claims(plan.used, now=now)
    leads = list(Lead.objects.filter(pk__in=[email.lead_id for email in chosen]).defer(*_UNUSED_FIELDS))
    return Batch(leads=leads, emails=chosen)


def serialised(write: Callable[[], Batch]) -> Batch:
    """`write()` in a claim transaction, one at a time across workers; read and written again when
    another worker claimed one of its rows first (possible only where claims are not serialised)."""
    for attempt in range(1, _CLAIM_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _serialise_claims()
                return write()
        except IntegrityError:
            if attempt == _CLAIM_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _serialise_claims() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK])
    # SQLite: settings open every transaction with BEGIN IMMEDIATE, which holds the
    # database's write lock until commit: claims are already one at a time.


def _next_leads(cursor: int, size: int, lead_ids, zones: set[str] | None, *, lock: bool) -> list[Lead]:
    leads = in_zones(eligible(lead_ids), zones).filter(pk__gt=cursor).defer(*_UNUSED_FIELDS).order_by("pk")
    if lock and connection.vendor == "postgresql":
        leads = leads.select_for_update(skip_locked=True, of=("self",))
    return list(leads[:size])


def _decide_batch(
    leads: list[Lead], plan: mailboxes.Plan, *, taken: set[str], now: datetime, undeliverable: Mapping[str, str]
) -> Batch:
    batch = Batch(leads=leads)
    if not leads:
        return batch
    addresses = {lead.pk: rules.read_address(lead.email) for lead in leads}
    context = _context(addresses.values(), taken=taken, now=now, undeliverable=undeliverable)
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
        mailbox, reason = plan.take()
        if reason:
            batch.deferred[lead.pk] = reason
            continue
        batch.mailboxes[lead.pk] = mailbox
        taken.update(addresses[lead.pk].keys)
        batch.messages[lead.pk] = message
    batch.next_due = plan.next_due()
    return batch


def _context(addresses, *, taken: set[str], now: datetime, undeliverable: Mapping[str, str]) -> rules.Context:
    """What the rules need for a batch, in three queries whatever its size."""
    keys = set().union(*(address.keys for address in addresses))
    suppressed = {
        key: f"{reason} {created:%Y-%m-%d}"
        for key, reason, created in Suppression.objects.filter(address_key__in=keys).values_list(
            "address_key", "reason", "created_at"
        )
    }
    since = now - timedelta(days=settings.OUTREACH_RECONTACT_DAYS)
    contacted_on = {}
    emailed = (
        OutboundEmail.objects.filter(address_key__in=keys, created_at__gte=since)
        .exclude(status=EmailStatus.FAILED)  # refused by the server: the person was not contacted
        .values_list("address_key", "created_at")
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
        undeliverable=undeliverable,
    )


def check_domains(*, cursor: int, size: int, lead_ids, zones: set[str] | None, cache: dict[str, str]) -> None:
    """Before the claim, outside any transaction: ask DNS about the domains of the next batch that `cache`
    (domain -> why it takes no email, "" when it does) does not know yet; only with
    OUTREACH_CHECK_DELIVERABILITY. A slow resolver then holds no lock that others wait on."""
    if not settings.OUTREACH_CHECK_DELIVERABILITY:
        return
    emails = in_zones(eligible(lead_ids), zones).filter(pk__gt=cursor).order_by("pk").values_list("email", flat=True)
    domains = {rules.read_address(email).domain for email in emails[:size]} - {""} - cache.keys()
    if not domains:
        return
    resolver = _resolver()
    for domain in sorted(domains):
        try:  # a DNS timeout is not a verdict: email-validator lets the address through
            validate_email(f"postmaster@{domain}", check_deliverability=True, dns_resolver=resolver)
        except EmailUndeliverableError as err:
            cache[domain] = str(err)[:500]
        else:
            cache[domain] = ""


def undeliverable(cache: Mapping[str, str]) -> dict[str, str]:
    """The domains of `cache` that take no email."""
    return {domain: why for domain, why in cache.items() if why}


def _resolver():
    """email-validator's caching resolver, on OUTREACH_DNS_SERVER (host:port) when set, else the system's."""
    if not settings.OUTREACH_DNS_SERVER:
        return caching_resolver(timeout=5)
    host, _, port = settings.OUTREACH_DNS_SERVER.rpartition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host or settings.OUTREACH_DNS_SERVER]
    resolver.port = int(port) if host else 53
    return caching_resolver(timeout=5, dns_resolver=resolver)


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
                mailbox=batch.mailboxes[lead_id],
                created_at=now,
                recipient=batch.decisions[lead_id].address,
                address_key=address_key(batch.decisions[lead_id].address),
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
