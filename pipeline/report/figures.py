"""The report: every figure of `manage.py report` and the dashboard, from `queries`' rows."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from leads.models import InboundKind, MessageSource, StopReason
from pipeline.report import mailboxes, queries
from pipeline.report.period import Period, last_days

# Inbound kind -> the report's word for it; `other` answers nothing we sent and is left out.
OUTCOMES = {
    InboundKind.REPLY: "replied",
    InboundKind.AUTO_REPLY: "auto_replied",
    InboundKind.BOUNCE_HARD: "bounced_hard",
    InboundKind.BOUNCE_SOFT: "bounced_soft",
    InboundKind.COMPLAINT: "complained",
    InboundKind.UNSUBSCRIBE: "unsubscribed",
}


@dataclass(frozen=True, slots=True)
class Report:
    """The figures of one period. Counts of emails and answers are of the period (sent, or received, in it);
    `funnel` is where every lead stands now; `deferred` is what the last engage run deferred."""

    days: int
    since: str
    until: str
    sent: int
    replied: int
    auto_replied: int
    bounced: Mapping[str, int]  # {"hard": N, "soft": N}
    complained: int
    unsubscribed: int
    by_touch: Mapping[str, Mapping[str, Any]]
    by_source: Mapping[str, Mapping[str, Any]]
    by_mailbox: Mapping[str, Mapping[str, Any]]
    by_day: Mapping[str, Mapping[str, int]]
    pulled: int
    scraped: int
    scrape_failed: int
    messages: Mapping[str, int]  # messages written in the period, per source
    stopped: Mapping[str, int]  # sequences that ended in the period, per stop reason
    skipped: Mapping[str, int]  # the engager's skip log entries of the period, per skip reason
    deferred: Mapping[str, int]  # leads the last engage run deferred, per defer reason
    deferred_total: int
    deferred_at: str | None  # when that run finished
    funnel: Mapping[str, int]
    review_queue: int
    runs: list[Mapping[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def run(*, days: int = 30, now: datetime | None = None) -> Report:
    """The figures of the last `days` days (today included); raises ValueError for fewer than one day."""
    period = last_days(days, now=now)
    leads = queries.leads(period)
    emails = queries.emails(period)
    received = queries.inbound(period)
    answers = queries.answers(period)
    engage_run = queries.last_engage_run()
    outcomes = _outcomes(received)
    return Report(
        days=period.days,
        since=period.since.isoformat(),
        until=period.now.isoformat(),
        sent=sum(row["count"] for row in emails),
        replied=outcomes["replied"],
        auto_replied=outcomes["auto_replied"],
        bounced={"hard": outcomes["bounced_hard"], "soft": outcomes["bounced_soft"]},
        complained=outcomes["complained"],
        unsubscribed=outcomes["unsubscribed"],
        by_touch=_by_touch(emails, answers),
        by_source=_by_source(emails, answers),
        by_mailbox=_by_mailbox(emails, answers, period),
        by_day=_by_day(emails, received, period),
        pulled=leads["pulled"],
        scraped=leads["scraped"],
        scrape_failed=leads["scrape_failed"],
        messages={source: leads[f"message_{source}"] for source in MessageSource.values},
        stopped={reason: leads[f"stopped_{reason}"] for reason in StopReason.values},
        skipped=dict(sorted(queries.skipped(period).items())),
        deferred=dict(sorted((engage_run.extra.get("deferred_by") or {}).items())) if engage_run else {},
        deferred_total=engage_run.deferred if engage_run else 0,
        deferred_at=engage_run.finished_at.isoformat() if engage_run and engage_run.finished_at else None,
        funnel={
            "leads": leads["total"],
            "with_message": leads["with_message"],
            "approved": leads["approved"],
            "sent": queries.contacted(),
            "replied": leads["replied"],
        },
        review_queue=queries.review_queue(),
        runs=[_run(item) for item in queries.last_runs()],
    )


def rate(part: int, whole: int) -> float | None:
    """`part` of `whole`, to four places; None when there is no whole to speak of."""
    return round(part / whole, 4) if whole else None


def _outcomes(rows) -> defaultdict[str, int]:
    counts = defaultdict(int)
    for row in rows:
        outcome = OUTCOMES.get(row["kind"])
        if outcome:
            counts[outcome] += row["count"]
    return counts


def _outcome_block(sent: int, answers: list[dict]) -> dict[str, Any]:
    outcomes = _outcomes(answers)
    return {
        "sent": sent,
        "replied": outcomes["replied"],
        "auto_replied": outcomes["auto_replied"],
        "bounced": {"hard": outcomes["bounced_hard"], "soft": outcomes["bounced_soft"]},
        "complained": outcomes["complained"],
        "unsubscribed": outcomes["unsubscribed"],
        "reply_rate": rate(outcomes["replied"], sent),
    }


def _grouped(rows: list[dict], key: str) -> defaultdict[Any, list[dict]]:
    groups = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


def _by_touch(emails: list[dict], answers: list[dict]) -> dict[str, dict]:
    sent = _grouped(emails, "touch")
    answered = _grouped(answers, "touch")
    touches = sorted(set(sent) | set(answered))
    return {str(touch): _outcome_block(sum(row["count"] for row in sent[touch]), answered[touch]) for touch in touches}


def _by_source(emails: list[dict], answers: list[dict]) -> dict[str, dict]:
    sent = _grouped(emails, "message_source")
    answered = _grouped(answers, "source")
    blocks = {}
    for source in MessageSource.values:
        count = sum(row["count"] for row in sent[source])
        replied = _outcomes(answered[source])["replied"]
        blocks[source] = {"sent": count, "replied": replied, "reply_rate": rate(replied, count)}
    return blocks


def _by_mailbox(emails: list[dict], answers: list[dict], period: Period) -> dict[str, dict]:
    sent = _grouped(emails, "mailbox")
    answered = _grouped(answers, "sent_from")
    names = sorted(set(mailboxes.configured()) | set(sent) | set(answered))
    limits = mailboxes.mailbox_limits(names, now=period.now)
    blocks = {}
    for name in names:
        count = sum(row["count"] for row in sent[name])
        outcomes = _outcomes(answered[name])
        blocks[name] = {
            "sent": count,
            "sent_today": sum(row["count"] for row in sent[name] if row["day"] == period.today),
            "cap_today": limits[name].cap_today,
            "bounced": {"hard": outcomes["bounced_hard"], "soft": outcomes["bounced_soft"]},
            "complained": outcomes["complained"],
            "bounce_rate": rate(outcomes["bounced_hard"], count),
            "complaint_rate": rate(outcomes["complained"], count),
            "paused": limits[name].paused,
            "pause_reason": limits[name].pause_reason,
        }
    return blocks


def _by_day(emails: list[dict], answers: list[dict], period: Period) -> dict[str, dict]:
    sent = _grouped(emails, "day")
    answered = _grouped(answers, "day")
    days = {}
    for day in period.dates:
        outcomes = _outcomes(answered[day])
        days[day.isoformat()] = {
            "sent": sum(row["count"] for row in sent[day]),
            "answers": sum(outcomes.values()),
            "replied": outcomes["replied"],
        }
    return days


def _run(item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "job": item.job,
        "outcome": item.outcome,
        "started_at": item.started_at.isoformat(),
        "finished_at": item.finished_at.isoformat() if item.finished_at else None,
        "processed": item.processed,
        "succeeded": item.succeeded,
        "skipped": sum(item.skipped.values()),
        "deferred": item.deferred,
        "failed": item.failed,
        "error": item.error.splitlines()[0][:300] if item.error else "",
    }
