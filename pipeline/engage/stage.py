"""The engage stage: claim eligible leads, decide with the rules, send, record.

Exactly once, with any number of workers on any number of machines:

- A lead is eligible while it has no email at touch 1, or while its sequence goes on
  (OUTREACH_FOLLOWUP_DAYS: follow-ups, followup_claims.py). Each run walks the leads in a
  sequence, then the eligible leads, once, in id order, a batch at a time.
- Claim (claims.py): one short, serialised transaction per batch writes an
  `OutboundEmail(status=pending)` for each lead to email, and the skips (or, for
  follow-ups, the stops).
- Send, outside any transaction: a conditional UPDATE pending -> sending (its row
  count says whether this worker still owns the email), the backend call, then
  sent/failed in a new short transaction. A follow-up's stop checks run once more just
  before it is handed over.
- A crash leaves at most the email in flight in `sending`: it may have gone out, so
  it is never retried and waits in the admin ("needs a decision"). The rest of its
  batch stays `pending`; a pending claim older than `_ABANDONED_AFTER` is released
  by the next run and its lead decided again.
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leads.models import EmailStatus, Lead, LeadStatus, OutboundEmail, Stage, SuppressionReason
from outreach_site.logs import mask_email
from pipeline import mailboxes as config
from pipeline import suppression
from pipeline.engage import (
    claims,
    followup_claims,
    mailboxes,
    rules,
    schedule,
    sending,
    site_links,
    stops,
    unsubscribe,
)
from pipeline.engage.thread import Thread
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

# A live worker turns its pending claims into emails within seconds; a claim this old
# belongs to a process that died, and its leads may be decided again. (If the worker
# was only slow, the conditional UPDATE pending -> sending stops it from sending.)
_ABANDONED_AFTER = timedelta(minutes=15)
# A 4xx answer ("try later", greylisting) is tried again: 3 attempts over about seven hours, then `failed`.
MAX_ATTEMPTS = 3
RETRY_DELAYS = (timedelta(hours=1), timedelta(hours=6))
RETRY = "retry"  # _send_one's outcome for an email that goes out on a later run


def run(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    lead_ids: list[int] | None = None,
    progress: Progress = NO_PROGRESS,
    now: datetime | None = None,
) -> StageSummary:
    """Email every eligible lead that passes the rules and is due now, once; safe with several workers at a time.

    Leads outside their send window, or waiting for a mailbox's cap or gap, are deferred.
    Raises SendError when the email server cannot be reached (claims not yet sent are released),
    ImproperlyConfigured when SITE_URL would put dead links in real email.
    """
    now = now or timezone.now()
    tally = Tally(stage=Stage.ENGAGE.value, dry_run=dry_run)
    run = _Run(tally=tally, now=now, started=time.monotonic())
    taken: set[str] = set()  # addresses emailed (or to be, in a dry run) in this run
    if not dry_run:
        for mailbox in config.configured():  # before any claim: dead unsubscribe links
            site_links.refuse_local_links(sending.backend_path(mailbox))
        states = mailboxes.ensure_states()
        _release_abandoned(now)
        mailboxes.pause_unhealthy(states, now=now)
        retries = claims.claim_retries(now=now, size=settings.OUTREACH_BATCH_SIZE)
        if retries.emails:
            _send_batch(retries, run)
    win = schedule.window(settings.OUTREACH_SEND_WINDOW, settings.OUTREACH_SEND_DAYS)
    zones = None if win.always else _open_zones(lead_ids, win, now)
    if progress is not NO_PROGRESS:
        total = claims.eligible(lead_ids).count() + followup_claims.eligible(lead_ids).count()
        progress.start(total if limit is None else min(total, limit), "engage")
    # Follow-ups first: a sequence under way finishes before the day's cap goes to new leads.
    _follow_up(run, lead_ids=lead_ids, limit=limit, win=win, progress=progress)
    cursor = 0
    while limit is None or tally.processed < limit:
        size = (
            settings.OUTREACH_BATCH_SIZE
            if limit is None
            else min(settings.OUTREACH_BATCH_SIZE, limit - tally.processed)
        )
        claims.check_domains(cursor=cursor, size=size, lead_ids=lead_ids, zones=zones, cache=run.domains)
        batch = claims.claim(
            undeliverable=claims.undeliverable(run.domains),
            cursor=cursor,
            size=size,
            lead_ids=lead_ids,
            taken=taken,
            now=now,
            dry_run=dry_run,
            planned=run.planned,
            zones=zones,
        )
        if batch.exhausted:  # no mailbox may send now: the rest waits, counted, not read
            rest = claims.in_zones(claims.eligible(lead_ids), zones).filter(pk__gt=cursor).count()
            _defer(run, batch.exhausted, _remaining(tally, limit, rest))
            break
        if not batch.leads:
            break
        cursor = batch.leads[-1].pk
        _count(batch, run)
        if not dry_run and batch.emails:
            _send_batch(batch, run)
        progress.advance(len(batch.leads))
    if zones is not None:
        _count_outside_window(run, lead_ids, zones, win, limit)
    tally.extra.update(run.as_extra())
    return tally.summary()


def _follow_up(run: "_Run", *, lead_ids, limit: int | None, win: schedule.Window, progress: Progress) -> None:
    """Claim and send the follow-ups due now, a batch at a time (followup_claims.py)."""
    tally, cursor = run.tally, 0
    while limit is None or tally.processed < limit:
        size = (
            settings.OUTREACH_BATCH_SIZE
            if limit is None
            else min(settings.OUTREACH_BATCH_SIZE, limit - tally.processed)
        )
        batch = followup_claims.claim(
            cursor=cursor,
            size=size,
            lead_ids=lead_ids,
            now=run.now,
            dry_run=tally.dry_run,
            planned=run.planned,
            win=win,
        )
        if not batch.leads:
            break
        cursor = batch.leads[-1].pk
        _count(batch, run)
        if not tally.dry_run and batch.emails:
            _send_batch(batch, run)
        progress.advance(len(batch.leads))


def run_due(
    *,
    seconds: float = 50.0,
    limit: int | None = None,
    dry_run: bool = False,
    lead_ids: list[int] | None = None,
    progress=NO_PROGRESS,
):
    """The cluster's tick: send what is due now, then again as each mailbox's gap ends, for up to `seconds`.

    With no gap, the first run sends everything due and the tick ends. Returns the runs' summary:
    what went out over the tick, and what was still deferred at its last run."""
    deadline = time.monotonic() + seconds
    summary = run(limit=limit, dry_run=dry_run, lead_ids=lead_ids, progress=progress)
    sent, failed = summary.succeeded, summary.failed
    touches = Counter(summary.extra.get("touches", {}))
    while not dry_run and summary.deferred:
        wait = mailboxes.seconds_to_next_send(timezone.now())
        if wait is None or time.monotonic() + wait >= deadline:
            break
        if wait == 0 and not summary.succeeded:  # a mailbox is free and nothing went: nothing waits for a gap
            break
        time.sleep(wait)
        summary = run(limit=limit, lead_ids=lead_ids)
        sent, failed = sent + summary.succeeded, failed + summary.failed
        touches.update(summary.extra.get("touches", {}))
    return replace(
        summary, succeeded=sent, failed=failed, extra={**summary.extra, "touches": dict(sorted(touches.items()))}
    )


@dataclass(slots=True)
class _Run:
    tally: Tally
    now: datetime
    started: float  # time.monotonic() at the start: the run's clock is `now` plus the time since
    planned: Counter = field(default_factory=Counter)  # mailbox -> emails a dry run would send
    deferred_by: Counter = field(default_factory=Counter)  # DeferReason -> leads
    touches: Counter = field(default_factory=Counter)  # touch -> emails sent (or to be, in a dry run)
    stopped: Counter = field(default_factory=Counter)  # StopReason -> sequences this run found ended
    domains: dict[str, str] = field(default_factory=dict)  # domain -> why it takes no email ("": it does)

    def clock(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def as_extra(self) -> dict:
        """The engage stage's own keys of `--json`."""
        return {
            "touches": {str(touch): count for touch, count in sorted(self.touches.items())},
            "deferred_by": {str(reason): count for reason, count in sorted(self.deferred_by.items())},
            "stopped": dict(sorted(self.stopped.items())),
        }


def _remaining(tally: Tally, limit: int | None, count: int) -> int:
    return count if limit is None else max(min(count, limit - tally.processed), 0)


def _defer(run: _Run, reason: str, count: int) -> None:
    run.tally.processed += count
    run.tally.deferred += count
    if count:
        run.deferred_by[reason] += count


def _open_zones(lead_ids, win: schedule.Window, now: datetime) -> set[str]:
    """The stored time zone values whose window is open now: one query over the distinct values."""
    values = claims.eligible(lead_ids).order_by().values_list("time_zone", flat=True).distinct()
    return schedule.open_values(set(values), now, win, default=settings.OUTREACH_TIME_ZONE)


def _count_outside_window(run: _Run, lead_ids, zones: set[str], win: schedule.Window, limit: int | None) -> None:
    """Leads whose local time is outside the window: counted in one query; a dry run lists each with its next window."""
    closed = claims.eligible(lead_ids).exclude(time_zone__in=zones)
    if not run.tally.dry_run:
        _defer(run, rules.DeferReason.OUTSIDE_WINDOW, _remaining(run.tally, limit, closed.count()))
        return
    rows = closed.order_by("pk").values_list("pk", "name", "company_name", "airtable_id", "email", "time_zone")
    if limit is not None:
        rows = rows[: _remaining(run.tally, limit, limit)]
    default = settings.OUTREACH_TIME_ZONE
    for pk, name, company, airtable_id, email, zone in rows:
        _defer(run, rules.DeferReason.OUTSIDE_WINDOW, 1)
        label = Lead(pk=pk, name=name, company_name=company, airtable_id=airtable_id).display_name
        run.tally.items.append(
            {
                "lead": pk,
                "name": label,
                "email": mask_email(email),
                "touch": 1,
                "decision": f"defer: {rules.DeferReason.OUTSIDE_WINDOW}",
                "reason": rules.DeferReason.OUTSIDE_WINDOW,
                "detail": schedule.next_window(zone, run.now, win, default=default),
                "message_source": "",
                "subject": "",
            }
        )


def _release_abandoned(now: datetime) -> None:
    # A pending email after a 4xx answer (attempts > 0) is not abandoned: it waits for its retry.
    released, _ = OutboundEmail.objects.filter(
        status=EmailStatus.PENDING, attempts=0, created_at__lt=now - _ABANDONED_AFTER
    ).delete()
    if released:
        logger.warning("abandoned claims released", extra={"stage": "engage", "count": released})


def _count(batch: claims.Batch, run: _Run) -> None:
    tally = run.tally
    if tally.dry_run:  # a real run counts the stops it wrote first, once over all runs
        run.stopped.update(stop.reason for stop in batch.stopped.values() if stop.reason)
    else:
        run.stopped.update(batch.newly_stopped)
    for lead in batch.leads:
        decision = batch.decisions[lead.pk]
        tally.processed += 1
        if lead.pk in batch.stopped:
            pass  # counted in `stopped`, above
        elif not decision.is_send:
            tally.skipped[decision.reason] += 1
        elif lead.pk in batch.deferred:
            tally.deferred += 1
            run.deferred_by[batch.deferred[lead.pk]] += 1
        elif tally.dry_run:
            tally.succeeded += 1  # a real run counts what went out, in _send_batch
            run.planned[batch.mailboxes[lead.pk]] += 1
            run.touches[batch.touches.get(lead.pk, 1)] += 1
        if tally.dry_run:
            tally.items.append(_item(lead, decision, batch))


def _item(lead: Lead, decision: rules.Decision, batch: claims.Batch) -> dict:
    message = batch.messages.get(lead.pk)
    shown, reason = ("send", "") if decision.is_send else (f"skip: {decision.reason}", decision.reason)
    detail = decision.detail
    if lead.pk in batch.stopped:
        reason, detail = batch.stopped[lead.pk].reason, batch.stopped[lead.pk].detail
        shown = f"stop: {reason}" if reason else "leave"
    elif lead.pk in batch.deferred:
        reason = batch.deferred[lead.pk]
        shown = f"defer: {reason}"
        detail = _when(reason, batch.next_due)
    elif decision.is_send:
        detail = f"from mailbox {batch.mailboxes[lead.pk]}"
    return {
        "lead": lead.pk,
        "name": lead.display_name,
        "email": mask_email(lead.email),
        "touch": batch.touches.get(lead.pk, 1),
        "decision": shown,
        "reason": reason,
        "detail": detail,
        "message_source": message.source if message else "",
        "subject": message.subject if message else "",
    }


def _when(reason: str, next_due: datetime | None) -> str:
    """For a person: when a deferred lead will go."""
    if reason == rules.DeferReason.NOT_DUE and next_due is not None:
        return f"a mailbox's gap ends at {timezone.localtime(next_due):%a %H:%M:%S}; later leads follow one gap apart"
    if reason == rules.DeferReason.DAILY_CAP:
        return "every mailbox reached today's cap: tomorrow"
    if reason == rules.DeferReason.MAILBOX_PAUSED:
        return "its mailbox paused itself: after a person resumes it in the admin"
    return ""


def _send_batch(batch: claims.Batch, run: _Run) -> None:
    """Send the batch's claims, one connection per mailbox; release what could not be attempted."""
    leads = {lead.pk: lead for lead in batch.leads}
    configured = config.by_name()
    by_mailbox: dict[str, list[OutboundEmail]] = {}
    for email in batch.emails:
        by_mailbox.setdefault(email.mailbox, []).append(email)
    failure: sending.SendError | None = None
    for name, emails in by_mailbox.items():
        try:
            _send_from(configured[name], emails, leads, run, threads=batch.threads)
        except sending.SendError as err:  # this mailbox's server is unreachable: the others still send
            failure = failure or err
    if failure is not None:
        raise failure


def _send_from(
    mailbox, emails: list[OutboundEmail], leads: dict[int, Lead], run: _Run, *, threads: dict[int, Thread]
) -> None:
    pending = list(emails)
    gap, sent_any = mailboxes.has_gap(), False
    try:
        connection = sending.open_connection(mailbox)
        try:
            while pending:
                email = pending.pop(0)
                lead = leads[email.lead_id]
                thread = threads.get(lead.pk) or followup_claims.thread_for(email)  # a retried follow-up's too
                outcome = _send_one(email, lead, connection, mailbox=mailbox, run=run, thread=thread)
                if outcome == EmailStatus.SENT:
                    run.tally.succeeded += 1
                    run.touches[email.touch] += 1
                elif outcome not in (None, RETRY):
                    run.tally.failed += 1
                if outcome is not None and gap:  # the gap starts from this send
                    mailboxes.record_send(mailbox.name, sent_at=run.clock(), sent=outcome == EmailStatus.SENT)
                sent_any = sent_any or outcome == EmailStatus.SENT
                # Lost mid-message, or closed by the server (smtplib closes on a 421): a fresh one for the rest.
                if pending and (outcome == EmailStatus.SENDING or not sending.is_open(connection)):
                    connection.close()
                    connection = sending.open_connection(mailbox)
        finally:
            connection.close()
    finally:
        if pending:  # never handed to the server: the leads go out on a later run
            OutboundEmail.objects.filter(pk__in=[email.pk for email in pending], status=EmailStatus.PENDING).delete()
            if gap:
                mailboxes.record_send(mailbox.name, sent_at=None, sent=False)  # its hold ends now
        if not gap and sent_any:  # no gap to start: the last send is recorded once per batch
            mailboxes.record_send(mailbox.name, sent_at=run.clock(), sent=True)


def _send_one(email: OutboundEmail, lead: Lead, connection, *, mailbox, run: _Run, thread: Thread | None) -> str | None:
    """Send one claimed email; returns its final status, or None when it is not sent (another worker
    owns it now, or a follow-up's sequence ended since the claim)."""
    now = run.now
    if email.touch > 1:
        stop = followup_claims.still_goes_on(email, lead)
        if stop is not None:  # an answer arrived since the claim: release it, record why
            OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.PENDING).delete()
            run.stopped.update(stops.record({lead.pk: stop}, now=now))
            logger.info("follow-up stopped", extra={"lead_id": lead.pk, "stage": "engage", "reason": stop.reason})
            return None
    # The conditional UPDATE is the lock: a claim released as abandoned meanwhile is not ours.
    # It stores the Message-ID too, before the server sees the email, so that an answer
    # to it can be matched even when the process dies right after the handover.
    message_id = sending.new_message_id(mailbox.from_email)
    claimed = OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.PENDING)
    if not claimed.update(status=EmailStatus.SENDING, message_id=message_id, attempts=F("attempts") + 1):
        return None
    link = unsubscribe.link(email.pk)
    body = sending.compose_body(email.body, unsubscribe_url=link)
    message = sending.build_message(
        to=email.recipient,
        subject=email.subject,
        body=body,
        unsubscribe_url=link,
        message_id=message_id,
        from_email=mailbox.from_email,
        headers=thread.headers if thread is not None else None,
    )
    facts = {
        "lead_id": lead.pk,
        "email": mask_email(email.recipient),
        "stage": "engage",
        "mailbox": mailbox.name,
        "touch": email.touch,
    }
    try:
        sending.send(message, connection)
    except sending.SendError as err:
        return _record_failure(email, err, body=body, facts=facts, now=now)
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.SENT, sent_at=run.clock(), body=body)
        _record_sent(email, lead, now=now)
    logger.info("email sent", extra={**facts, "message_source": email.message_source, "message_id": message_id})
    return EmailStatus.SENT


def _record_sent(email: OutboundEmail, lead: Lead, *, now: datetime) -> None:
    """The lead after an email went out: touch 1 marks it contacted with its message; a follow-up
    only counts (the status stays `Contacted` until an answer or a person changes it)."""
    leads = Lead.objects.filter(pk=lead.pk)
    if email.touch > 1:
        leads.update(touches=F("touches") + 1, updated_at=now)
        if settings.AIRTABLE_FIELD_TOUCHES:
            leads.update(pending_push=True)
        return
    leads.update(
        engagement_status=LeadStatus.CONTACTED,
        date_messaged=timezone.localdate(now),
        custom_message=email.body,
        message_subject=email.subject,
        message_body=email.body,
        message_source=email.message_source,
        skip_reason="",
        touches=F("touches") + 1,
        pending_push=True,
        updated_at=now,
    )


def _record_failure(email: OutboundEmail, err: sending.SendError, *, body: str, facts: dict, now: datetime) -> str:
    """The email's status after a failed handover: pending again (a 4xx: later), sending (maybe delivered:
    a person checks), or failed (refused, or out of attempts); a 5xx to the recipient suppresses the address."""
    rows = OutboundEmail.objects.filter(pk=email.pk)
    attempts = email.attempts + 1
    if err.temporary and attempts < MAX_ATTEMPTS:
        # Nothing was delivered: the same row (lead, touch) goes out on a later run, so still exactly once.
        retry_at = now + RETRY_DELAYS[attempts - 1]
        rows.update(
            status=EmailStatus.PENDING, error=str(err)[:500], smtp_code=err.smtp_code, retry_at=retry_at, message_id=""
        )
        logger.warning("email deferred", extra={**facts, "cause": err.cause, "error": str(err), "attempts": attempts})
        return RETRY
    status = EmailStatus.SENDING if err.maybe_delivered else EmailStatus.FAILED
    rows.update(status=status, error=str(err)[:500], body=body, smtp_code=err.smtp_code, retry_at=None)
    logger.warning("email failed", extra={**facts, "cause": err.cause, "error": str(err), "status": status})
    if err.recipient_refused and err.permanent:  # 550 5.1.1: no row with this address is tried again
        suppression.suppress(email.recipient, reason=SuppressionReason.BOUNCED, source="smtp")
    return status
