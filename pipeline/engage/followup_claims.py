"""Claiming follow-ups (touch 2..n): the same short, serialised claim as touch 1's (claims.py),
for the leads whose sequence goes on.

Per batch, in a few queries whatever its size: the leads in a sequence (pipeline/sequence.py),
their earlier emails (the thread, its mailbox and the address it went to), the stop checks
(stops.py; each stop written once on its lead, in the claim's transaction), the auto-replies'
return dates, and whether each mailbox can see answers (watch.py). Then, lead by lead: not due
yet -> `not_due`; outside the lead's send window -> `outside_window`; its mailbox blind ->
`no_inbox` / `inbox_stale`; with OUTREACH_APPROVAL=all and no approved follow-up ->
`awaiting_approval`; its mailbox with no room now -> the plan's reason; else an
`OutboundEmail(status=pending)` at the touch, from touch 1's mailbox, in touch 1's thread, with
the follow-up written ahead (else the touch's fallback). The lead's send window and touch 1's
mailbox (its cap, gap and pause: mailboxes.py) apply as to touch 1: `outside_window`,
`daily_cap`, `not_due`, `mailbox_paused`. The unique (lead, touch) constraint refuses a second
claim of the same touch, whatever number of workers run.
"""

from datetime import datetime

from django.conf import settings

from leads.models import EmailStatus, FollowUpMessage, Lead, MessageSource, OutboundEmail
from pipeline import outbound_check, sequence
from pipeline.engage import claims, mailboxes, rules, schedule, stops, thread, watch
from pipeline.message import Message, followup_fallback

_UNUSED_FIELDS = ("raw_fields", "message_grounding", "message_evidence", "message_body", "custom_message")


def eligible(lead_ids: list[int] | None):
    """Leads whose sequence goes on (among `lead_ids`, when given); none without OUTREACH_FOLLOWUP_DAYS."""
    leads = sequence.in_sequence(settings.OUTREACH_FOLLOWUP_DAYS)
    return leads if lead_ids is None else leads.filter(pk__in=lead_ids)


def claim(
    *, cursor: int, size: int, lead_ids, now: datetime, dry_run: bool, planned: dict[str, int], win: schedule.Window
) -> claims.Batch:
    """The next batch of leads in a sequence after lead id `cursor`, checked and decided; unless a dry run,
    its stops and claims written. `planned`: emails a dry run has counted so far per mailbox."""
    if dry_run:
        leads = _next_leads(cursor, size, lead_ids)
        return _decide(leads, mailboxes.plan(now, planned=planned), now=now, win=win) if leads else claims.Batch([])

    def write() -> claims.Batch:
        leads = _next_leads(cursor, size, lead_ids)
        if not leads:
            return claims.Batch([])
        plan = mailboxes.plan(now)
        batch = _decide(leads, plan, now=now, win=win)
        batch.newly_stopped = stops.record(batch.stopped, now=now)
        _write_claims(batch, now=now)
        mailboxes.record_claims(plan.used, now=now)
        return batch

    return claims.serialised(write)


def _next_leads(cursor: int, size: int, lead_ids) -> list[Lead]:
    # No row lock: the query groups (FOR UPDATE cannot), and the claims are serialised anyway.
    leads = eligible(lead_ids).filter(pk__gt=cursor).defer(*_UNUSED_FIELDS).order_by("pk")
    return list(leads[:size])


def _decide(leads: list[Lead], plan: mailboxes.Plan, *, now: datetime, win: schedule.Window) -> claims.Batch:
    batch = claims.Batch(leads=leads)
    if not leads:
        return batch
    ids = [lead.pk for lead in leads]
    earlier: dict[int, list[OutboundEmail]] = {}
    for email in OutboundEmail.objects.filter(lead_id__in=ids, status=EmailStatus.SENT).only(
        "id", "lead_id", "touch", "recipient", "mailbox", "subject", "message_id", "provider_message_id", "sent_at"
    ):
        earlier.setdefault(email.lead_id, []).append(email)
    threads = {lead_id: thread.thread_of(emails) for lead_id, emails in earlier.items()}
    recipients = {lead_id: min(emails, key=lambda e: e.touch).recipient for lead_id, emails in earlier.items()}
    batch.stopped = stops.find(leads, recipients=recipients)
    returns = sequence.returns_by_lead(ids)
    blind = watch.blind({t.mailbox for t in threads.values() if t is not None}, now=now)
    written = _written(ids)
    default_zone = settings.OUTREACH_TIME_ZONE
    open_zones = (
        None if win.always else schedule.open_values({lead.time_zone for lead in leads}, now, win, default=default_zone)
    )
    for lead in leads:
        found = threads.get(lead.pk)
        batch.decisions[lead.pk] = rules.Decision(action="send", address=recipients.get(lead.pk, ""))
        if lead.pk in batch.stopped or found is None:
            # No reason: an email with no Message-ID to answer (sent before ids were stored) is left alone.
            batch.stopped.setdefault(lead.pk, stops.Stop("", "no email with a Message-ID to follow up on"))
            continue
        due = sequence.next_touch(
            sent_touch=lead.sent_touch,
            sent_at=lead.sent_at,
            days=settings.OUTREACH_FOLLOWUP_DAYS,
            returns_on=returns.get(lead.pk),
            zone=schedule.lead_zone(lead.time_zone, default_zone),
        )
        batch.touches[lead.pk] = due.touch
        batch.threads[lead.pk] = found
        followup = written.get((lead.pk, due.touch))
        reason = _held_back(lead, due, found, followup, now=now, open_zones=open_zones, blind=blind)
        if not reason:
            mailbox, reason = plan.take(mailbox=found.mailbox)  # from touch 1's mailbox, or not now
        if reason:
            batch.deferred[lead.pk] = reason
            continue
        batch.mailboxes[lead.pk] = mailbox
        batch.messages[lead.pk] = _message(lead, due.touch, found, followup)
    batch.next_due = plan.next_due()
    return batch


def _held_back(lead, due, found, followup, *, now, open_zones, blind) -> str:
    """Why a follow-up waits (before its mailbox is asked for room), or ""."""
    if not due.is_due(now):
        return rules.DeferReason.NOT_DUE
    if open_zones is not None and lead.time_zone not in open_zones:
        return rules.DeferReason.OUTSIDE_WINDOW
    if found.mailbox in blind:
        return blind[found.mailbox]
    if rules.awaits_approval(
        followup.approved_at if followup else None, mode=settings.OUTREACH_APPROVAL, touch=due.touch
    ):
        return rules.DeferReason.AWAITING_APPROVAL
    return ""


def _written(lead_ids: list[int]) -> dict[tuple[int, int], FollowUpMessage]:
    rows = FollowUpMessage.objects.filter(lead_id__in=lead_ids).only(
        "lead_id", "touch", "body", "source", "approved_at"
    )
    return {(row.lead_id, row.touch): row for row in rows}


def _message(lead: Lead, touch: int, found: thread.Thread, followup: FollowUpMessage | None) -> Message:
    """The follow-up written ahead, else the touch's fallback: a missing one never holds a lead back,
    nor one that fails the output check (written before the check existed, or edited since)."""
    if (
        followup is not None
        and followup.body.strip()
        and outbound_check.problem(found.subject, followup.body, website=lead.website) is None
    ):
        return Message(found.subject, followup.body, followup.source)
    last = touch == sequence.last_touch(settings.OUTREACH_FOLLOWUP_DAYS)
    body = followup_fallback(
        touch=touch, last=last, name=lead.name, job_title=lead.job_title, company=lead.company_name
    )
    return Message(found.subject, body, MessageSource.FALLBACK)


def _write_claims(batch: claims.Batch, *, now: datetime) -> None:
    batch.emails = OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                lead_id=lead_id,
                touch=batch.touches[lead_id],
                recipient=batch.decisions[lead_id].address,
                mailbox=batch.mailboxes[lead_id],
                created_at=now,
                subject=message.subject[:255],
                body=message.body,
                message_source=message.source,
                status=EmailStatus.PENDING,
            )
            for lead_id, message in batch.messages.items()
        ]
    )


def thread_for(email: OutboundEmail) -> thread.Thread | None:
    """The thread a follow-up answers, from its lead's earlier emails (one query); None for touch 1."""
    if email.touch <= 1:
        return None
    earlier = OutboundEmail.objects.filter(lead_id=email.lead_id, touch__lt=email.touch, status=EmailStatus.SENT)
    return thread.thread_of(earlier.only("touch", "subject", "mailbox", "message_id", "provider_message_id"))


def still_goes_on(email: OutboundEmail, lead: Lead) -> stops.Stop | None:
    """The stop checks once more, just before a follow-up is handed over; a stop found is written on the lead."""
    fresh = Lead.objects.filter(pk=lead.pk).only("id", "email", "engagement_status").first()
    if fresh is None:
        return stops.Stop("", "lead deleted")
    return stops.find([fresh], recipients={lead.pk: email.recipient}).get(lead.pk)
