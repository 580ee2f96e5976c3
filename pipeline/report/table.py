"""The report for a person at a terminal: a few small tables (rich), plain text when piped."""

from typing import TextIO

from rich.console import Console
from rich.table import Table

from pipeline.report.figures import Report


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def write(report: Report, stream: TextIO, *, width: int = 100) -> None:
    """Write the report to `stream` as tables; colour only when `stream` is a terminal."""
    console = Console(file=stream, width=width, highlight=False)
    console.print(f"Outreach over the last {report.days} days (since {report.since[:10]})", style="bold")
    console.print(_outcomes(report))
    console.print(_funnel(report))
    console.print(_breakdown("Per touch", "touch", report.by_touch))
    console.print(_breakdown("Per message source", "source", report.by_source))
    console.print(_mailboxes(report))
    console.print(_counts(report))
    console.print(_days(report))


def _outcomes(report: Report) -> Table:
    table = Table(title="Emails and answers", title_justify="left")
    for name in ("sent", "replied", "auto-replied", "hard bounces", "soft bounces", "complaints", "unsubscribed"):
        table.add_column(name, justify="right")
    table.add_row(
        *map(
            str,
            (
                report.sent,
                report.replied,
                report.auto_replied,
                report.bounced["hard"],
                report.bounced["soft"],
                report.complained,
                report.unsubscribed,
            ),
        )
    )
    return table


def _funnel(report: Report) -> Table:
    table = Table(title="Every lead, now", title_justify="left")
    for name in ("leads", "with message", "approved", "sent", "replied", "review queue"):
        table.add_column(name, justify="right")
    funnel = report.funnel
    table.add_row(
        *map(str, (funnel["leads"], funnel["with_message"], funnel["approved"], funnel["sent"], funnel["replied"])),
        str(report.review_queue),
    )
    return table


def _breakdown(title: str, label: str, blocks) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    for name in ("sent", "replied", "reply rate"):
        table.add_column(name, justify="right")
    for key, block in blocks.items():
        table.add_row(key, str(block["sent"]), str(block["replied"]), percent(block["reply_rate"]))
    return table


def _mailboxes(report: Report) -> Table:
    table = Table(title="Mailboxes", title_justify="left")
    table.add_column("mailbox")
    for name in ("sent", "today / cap", "bounce rate", "complaint rate", "paused"):
        table.add_column(name, justify="right")
    for name, box in report.by_mailbox.items():
        cap = "-" if box["cap_today"] is None else str(box["cap_today"])
        paused = "-" if box["paused"] is None else ("yes" if box["paused"] else "no")
        table.add_row(
            name,
            str(box["sent"]),
            f"{box['sent_today']} / {cap}",
            percent(box["bounce_rate"]),
            percent(box["complaint_rate"]),
            paused,
        )
    return table


def _counts(report: Report) -> Table:
    table = Table(title="Leads", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("pulled from Airtable", str(report.pulled))
    table.add_row("websites scraped (failed)", f"{report.scraped} ({report.scrape_failed})")
    for group, counts in (
        ("messages written", report.messages),
        ("sequences stopped", report.stopped),
        ("skipped", report.skipped),
        ("deferred at the last engage run", report.deferred),
    ):
        for key, count in counts.items():
            table.add_row(f"{group}: {key}", str(count))
    if not report.deferred:
        table.add_row("deferred at the last engage run", str(report.deferred_total))
    return table


def _days(report: Report) -> Table:
    table = Table(title="Per day", title_justify="left")
    for name in ("day", "sent", "answers", "replied"):
        table.add_column(name, justify="right" if name != "day" else "left")
    for day, counts in report.by_day.items():
        table.add_row(day, str(counts["sent"]), str(counts["answers"]), str(counts["replied"]))
    return table
