"""The engage stage: claim eligible leads, decide with the rules, send, record.

Exactly once, with any number of workers on any number of machines:

- A lead is eligible while it has no email at touch 1. Each run walks the eligible
  leads once, in id order, a batch at a time.
- Claim (claims.py): one short, serialised transaction per batch writes an
  `OutboundEmail(status=pending)` for each lead to email, and the skips.
- Send, outside any transaction: a conditional UPDATE pending -> sending (its row
  count says whether this worker still owns the email), the backend call, then
  sent/failed in a new short transaction.
- A crash leaves at most the email in flight in `sending`: it may have gone out, so
  it is never retried and waits in the admin ("needs a decision"). The rest of its
  batch stays `pending`; a pending claim older than `_ABANDONED_AFTER` is released
  by the next run and its lead decided again.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.models import EmailStatus, Lead, LeadStatus, OutboundEmail, Stage
from outreach_site.logs import mask_email
from pipeline.engage import claims, rules, sending, site_links, unsubscribe
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

# A live worker turns its pending claims into emails within seconds; a claim this old
# belongs to a process that died, and its leads may be decided again. (If the worker
# was only slow, the conditional UPDATE pending -> sending stops it from sending.)
_ABANDONED_AFTER = timedelta(minutes=15)


def run(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    lead_ids: list[int] | None = None,
    progress: Progress = NO_PROGRESS,
    now: datetime | None = None,
) -> StageSummary:
    """Email every eligible lead that passes the rules, once; safe with several workers at a time.

    Raises SendError when the email server cannot be reached (claims not yet sent are released),
    ImproperlyConfigured when SITE_URL would put dead links in real email.
    """
    now = now or timezone.now()
    tally = Tally(stage=Stage.ENGAGE.value, dry_run=dry_run)
    taken: set[str] = set()  # addresses emailed (or to be, in a dry run) in this run
    if not dry_run:
        site_links.refuse_local_links(settings.EMAIL_BACKEND)  # before any claim: dead unsubscribe links
        _release_abandoned(now)
    if progress is not NO_PROGRESS:
        total = claims.eligible(lead_ids).count()
        progress.start(total if limit is None else min(total, limit), "engage")
    cursor = 0
    while limit is None or tally.processed < limit:
        size = (
            settings.OUTREACH_BATCH_SIZE
            if limit is None
            else min(settings.OUTREACH_BATCH_SIZE, limit - tally.processed)
        )
        batch = claims.claim(
            cursor=cursor,
            size=size,
            lead_ids=lead_ids,
            taken=taken,
            now=now,
            dry_run=dry_run,
            planned=tally.succeeded,
        )
        if not batch.leads:
            break
        cursor = batch.leads[-1].pk
        _count(batch, tally)
        if not dry_run and batch.emails:
            _send_batch(batch, tally, now=now)
        progress.advance(len(batch.leads))
    return tally.summary()


def _release_abandoned(now: datetime) -> None:
    released, _ = OutboundEmail.objects.filter(
        status=EmailStatus.PENDING, created_at__lt=now - _ABANDONED_AFTER
    ).delete()
    if released:
        logger.warning("abandoned claims released", extra={"stage": "engage", "count": released})


def _count(batch: claims.Batch, tally: Tally) -> None:
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


def _item(lead: Lead, decision: rules.Decision, batch: claims.Batch) -> dict:
    message = batch.messages.get(lead.pk)
    shown, reason = ("send", "") if decision.is_send else (f"skip: {decision.reason}", decision.reason)
    if lead.pk in batch.deferred:
        reason = batch.deferred[lead.pk]
        shown = f"defer: {reason}"
    return {
        "lead": lead.pk,
        "name": lead.display_name,
        "email": mask_email(lead.email),
        "decision": shown,
        "reason": reason,
        "detail": decision.detail,
        "message_source": message.source if message else "",
        "subject": message.subject if message else "",
    }


def _send_batch(batch: claims.Batch, tally: Tally, *, now: datetime) -> None:
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
    # It stores the Message-ID too, before the server sees the email, so that an answer
    # to it can be matched even when the process dies right after the handover.
    message_id = sending.new_message_id()
    claimed = OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.PENDING)
    if not claimed.update(status=EmailStatus.SENDING, message_id=message_id):
        return None
    link = unsubscribe.link(email.pk)
    body = sending.compose_body(email.body, unsubscribe_url=link)
    message = sending.build_message(
        to=email.recipient, subject=email.subject, body=body, unsubscribe_url=link, message_id=message_id
    )
    facts = {"lead_id": lead.pk, "email": mask_email(email.recipient), "stage": "engage"}
    try:
        sending.send(message, connection)
    except sending.SendError as err:
        # Maybe delivered: stays `sending` for a person to check; otherwise refused: `failed`.
        status = EmailStatus.SENDING if err.maybe_delivered else EmailStatus.FAILED
        OutboundEmail.objects.filter(pk=email.pk).update(status=status, error=str(err)[:500], body=body)
        logger.warning("email failed", extra={**facts, "cause": err.cause, "error": str(err), "status": status})
        return status
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.SENT, sent_at=timezone.now(), body=body)
        Lead.objects.filter(pk=lead.pk).update(
            engagement_status=LeadStatus.CONTACTED,
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
