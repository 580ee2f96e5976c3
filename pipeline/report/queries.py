"""The report's aggregate queries: each one reads one table (or one join) once, grouped
or with conditional counts over the contract's vocabularies, so their number does not
grow with the leads, the emails or the days."""

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from leads.models import (
    EmailStatus,
    InboundMessage,
    Job,
    Lead,
    MessageSource,
    OutboundEmail,
    PipelineRun,
    RunOutcome,
    SkipLog,
    Stage,
    StopReason,
)
from pipeline import review
from pipeline.report.period import Period

# The runs the dashboard lists.
LAST_RUNS = 10


def leads(period: Period) -> dict[str, int]:
    """One pass over the leads: the funnel (every lead, now) and what the period did to them."""
    since = period.since
    counts = {
        "total": Count("id"),
        "with_message": Count("id", filter=~Q(message_body="")),
        "approved": Count("id", filter=Q(message_approved_at__isnull=False)),
        "replied": Count("id", filter=Q(sequence_stop_reason=StopReason.REPLIED)),
        "pulled": Count("id", filter=Q(last_pulled_at__gte=since)),
        "scraped": Count("id", filter=Q(scraped_at__gte=since)),
        "scrape_failed": Count("id", filter=Q(scraped_at__gte=since) & ~Q(scrape_error="")),
    }
    for source in MessageSource.values:
        counts[f"message_{source}"] = Count(
            "id", filter=Q(message_source=source, message_generated_at__gte=since) & ~Q(message_body="")
        )
    for reason in StopReason.values:
        counts[f"stopped_{reason}"] = Count("id", filter=Q(sequence_stop_reason=reason, sequence_stopped_at__gte=since))
    return Lead.objects.order_by().aggregate(**counts)


def contacted() -> int:
    """Leads whose first email went out, ever: one (lead, touch 1) row each, by the unique constraint."""
    return OutboundEmail.objects.filter(touch=1, status=EmailStatus.SENT).count()


def skipped(period: Period) -> dict[str, int]:
    """The engager's skips in the period, per reason: its skip log entries (the admin's Skip logs list)."""
    rows = (
        SkipLog.objects.filter(stage=Stage.ENGAGE, created_at__gte=period.since)
        .order_by()
        .values("reason")
        .annotate(count=Count("id"))
    )
    return {row["reason"]: row["count"] for row in rows}


def emails(period: Period) -> list[dict]:
    """Emails sent in the period, counted per touch, message source, mailbox and day."""
    return list(
        OutboundEmail.objects.filter(status=EmailStatus.SENT, sent_at__gte=period.since)
        .order_by()
        .values("touch", "message_source", "mailbox", day=TruncDate("sent_at"))
        .annotate(count=Count("*"))  # not the id: the covering index answers this without the table
    )


def inbound(period: Period) -> list[dict]:
    """Messages received in the period, per kind and day (the totals and the chart)."""
    return list(
        InboundMessage.objects.filter(received_at__gte=period.since)
        .order_by()
        .values("kind", day=TruncDate("received_at"))
        .annotate(count=Count("*"))  # not the id: the covering index answers this without the table
    )


def answers(period: Period) -> list[dict]:
    """Messages received in the period that answer an email we sent, per kind and that email's touch,
    message source and mailbox. A query of its own: the join costs less without the days."""
    return list(
        InboundMessage.objects.filter(received_at__gte=period.since, email__status=EmailStatus.SENT)
        .order_by()
        .values("kind", touch=F("email__touch"), source=F("email__message_source"), sent_from=F("email__mailbox"))
        .annotate(count=Count("*"))
    )


def review_queue() -> int:
    """Messages waiting for a person's approval."""
    return review.waiting().count()


def last_engage_run() -> PipelineRun | None:
    """The last engage run that finished: what it deferred, per reason, is what waits now."""
    return (
        PipelineRun.objects.filter(job=Job.ENGAGE, outcome=RunOutcome.SUCCEEDED, dry_run=False)
        .only("id", "started_at", "finished_at", "deferred", "extra")
        .order_by("-started_at", "-id")
        .first()
    )


def last_runs() -> list[PipelineRun]:
    return list(PipelineRun.objects.defer("extra").order_by("-started_at", "-id")[:LAST_RUNS])
