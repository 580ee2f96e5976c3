"""The dashboard's panels: the report's figures, each with the admin list behind it."""

from datetime import date, datetime
from typing import Any

from django.urls import reverse

from leads.dashboard import chart, links
from leads.models import InboundKind, MessageSource
from pipeline.report import Report


def context(report: Report) -> dict[str, Any]:
    """Everything the dashboard template shows, from one report."""
    since = datetime.fromisoformat(report.since)
    return {
        "report": report,
        "funnel": _funnel(report),
        "outcomes": _outcomes(report, since),
        "days": _days(report),
        "day_chart": chart.per_day(
            report.by_day, label=f"Emails sent and answers received per day, last {report.days} days"
        ),
        "by_source": [
            _rate_row(MessageSource(source).label, source, block, since, field="message_source__exact")
            for source, block in report.by_source.items()
        ],
        "by_touch": [
            _rate_row(f"Touch {touch}", touch, block, since, field="touch") for touch, block in report.by_touch.items()
        ],
        "mailboxes": _mailboxes(report, since),
        "waiting": _waiting(report, since),
        "activity": _activity(report, since),
        "runs": _runs(report),
        "runs_url": links.changelist("pipelinerun"),
    }


def _step(label: str, count: int, url: str, previous: int | None, total: int) -> dict[str, Any]:
    return {
        "label": label,
        "count": count,
        "url": url,
        "of_previous": None if previous is None else _percent(count, previous),
        "of_leads": _percent(count, total),
    }


def _funnel(report: Report) -> list[dict[str, Any]]:
    funnel = report.funnel
    steps = [
        ("Leads", funnel["leads"], links.leads()),
        ("With a message", funnel["with_message"], links.leads(has_message="yes")),
        ("Approved", funnel["approved"], links.leads(approved="yes")),
        ("Sent", funnel["sent"], links.leads(contacted="yes")),
        ("Replied", funnel["replied"], links.leads(sequence_stop_reason__exact="replied")),
    ]
    previous = None
    rows = []
    for label, count, url in steps:
        rows.append(_step(label, count, url, previous, funnel["leads"]))
        previous = count
    return rows


def _outcomes(report: Report, since: datetime) -> list[dict[str, Any]]:
    return [
        {"label": "Sent", "count": report.sent, "url": links.sent(since)},
        {"label": "Replied", "count": report.replied, "url": links.answers(since, InboundKind.REPLY)},
        {"label": "Auto-replies", "count": report.auto_replied, "url": links.answers(since, InboundKind.AUTO_REPLY)},
        {
            "label": "Hard bounces",
            "count": report.bounced["hard"],
            "url": links.answers(since, InboundKind.BOUNCE_HARD),
        },
        {
            "label": "Soft bounces",
            "count": report.bounced["soft"],
            "url": links.answers(since, InboundKind.BOUNCE_SOFT),
        },
        {"label": "Complaints", "count": report.complained, "url": links.answers(since, InboundKind.COMPLAINT)},
        {
            "label": "Unsubscribed",
            "count": report.unsubscribed,
            "url": links.answers(since, InboundKind.UNSUBSCRIBE),
        },
    ]


def _days(report: Report) -> list[dict[str, Any]]:
    rows = []
    for day, counts in report.by_day.items():
        local = date.fromisoformat(day)
        rows.append(
            {
                "day": day,
                **counts,
                "sent_url": links.changelist(
                    "outboundemail", status__exact="sent", **links.day_range("sent_at", local)
                ),
                "answers_url": links.changelist(
                    "inboundmessage",
                    kind__in=",".join(kind for kind in InboundKind.values if kind != InboundKind.OTHER),
                    **links.day_range("received_at", local),
                ),
            }
        )
    return rows


def _rate_row(label: str, key: str, block: dict, since: datetime, *, field: str) -> dict[str, Any]:
    """One row of a reply-rate table: the emails sent are filtered on `field`, their replies on `email__<field>`."""
    return {
        "label": label,
        "key": key,
        "sent": block["sent"],
        "sent_url": links.sent(since, **{field: key}),
        "replied": block["replied"],
        "replied_url": links.answers(since, InboundKind.REPLY, **{f"email__{field}": key}),
        "rate": _percent(block["replied"], block["sent"]),
        "bar": chart.rate_bar(block["reply_rate"]),
    }


def _mailboxes(report: Report, since: datetime) -> list[dict[str, Any]]:
    today = datetime.fromisoformat(report.until).date()
    rows = []
    for name, box in report.by_mailbox.items():
        rows.append(
            {
                "name": name,
                **box,
                "sent_url": links.sent(since, mailbox=name),
                "today_url": links.changelist(
                    "outboundemail", status__exact="sent", mailbox=name, **links.day_range("sent_at", today)
                ),
                "bounce_rate_text": _percent(box["bounced"]["hard"], box["sent"]),
                "bounce_url": links.answers(since, InboundKind.BOUNCE_HARD, email__mailbox=name),
                "complaint_rate_text": _percent(box["complained"], box["sent"]),
                "complaint_url": links.answers(since, InboundKind.COMPLAINT, email__mailbox=name),
                # A configured mailbox has its page in the admin (Mailboxes), where a paused one is resumed.
                "mailbox_url": None if box["paused"] is None else links.changelist("mailboxstate", name=name),
            }
        )
    return rows


def _waiting(report: Report, since: datetime) -> dict[str, Any]:
    last_engage = links.changelist("pipelinerun", job__exact="engage")
    return {
        "review_queue": report.review_queue,
        "review_url": links.changelist("messagereview"),
        "deferred": [
            {
                "reason": reason,
                "count": count,
                "url": last_engage,  # a count of that run's, not rows of a list
            }
            for reason, count in report.deferred.items()
        ],
        "deferred_total": report.deferred_total,
        "deferred_url": last_engage,
        "deferred_at": datetime.fromisoformat(report.deferred_at) if report.deferred_at else None,
        "skipped": [
            {
                "reason": reason,
                "count": count,
                "url": links.changelist(
                    "skiplog", reason__exact=reason, stage__exact="engage", created_at__gte=since.isoformat()
                ),
            }
            for reason, count in report.skipped.items()
        ],
        "stopped": [
            {
                "reason": reason,
                "count": count,
                "url": links.leads(sequence_stop_reason__exact=reason, sequence_stopped_at__gte=since.isoformat()),
            }
            for reason, count in report.stopped.items()
            if count
        ],
    }


def _activity(report: Report, since: datetime) -> list[dict[str, Any]]:
    rows = [
        {
            "label": "Pulled from Airtable",
            "count": report.pulled,
            "url": links.leads(last_pulled_at__gte=since.isoformat()),
        },
        {"label": "Websites read", "count": report.scraped, "url": links.leads(scraped_at__gte=since.isoformat())},
    ]
    for source, count in report.messages.items():
        rows.append(
            {
                "label": f"Messages written: {MessageSource(source).label}",
                "count": count,
                "url": links.leads(
                    message_source__exact=source, message_generated_at__gte=since.isoformat(), has_message="yes"
                ),
            }
        )
    return rows


def _runs(report: Report) -> list[dict[str, Any]]:
    return [
        {
            **run,
            "started": datetime.fromisoformat(run["started_at"]),
            "url": reverse("admin:leads_pipelinerun_change", args=[run["id"]]),
        }
        for run in report.runs
    ]


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"
