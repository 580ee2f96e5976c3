from dataclasses import replace

from leads.models import Job
from pipeline import engage
from pipeline.engage.rules import DeferReason
from pipeline.management.base import StageCommand
from pipeline.summary import StageSummary

_COLUMNS = (("lead", 28), ("touch", 5), ("decision", 28), ("source", 9), ("subject", 0))


class Command(StageCommand):
    job = Job.ENGAGE
    help = "Email the leads that pass the rules, once each; each skipped lead gets a reason."

    def run_stage(self, *, limit, dry_run, progress, **options) -> StageSummary:
        summary = engage.run(limit=limit, dry_run=dry_run, progress=progress)
        if dry_run and not self.as_json:
            self._print_table(summary)
            waiting = sum(item["reason"] == DeferReason.AWAITING_APPROVAL for item in summary.items)
            if waiting:
                self.note(f"{waiting} lead{'s' if waiting != 1 else ''} wait for approval: Admin → Review queue")
            summary = replace(summary, items=())  # shown as the table, not again as lines
        return summary

    def _print_table(self, summary: StageSummary) -> None:
        self.note("  ".join(name.ljust(width) for name, width in _COLUMNS).rstrip())
        for item in summary.items:
            cells = (
                f"{item['lead']} {item['name']}",
                str(item["touch"]),
                item["decision"],
                item["message_source"] or "-",
                item["subject"] or "-",
            )
            self.note(
                "  ".join(
                    _fit(cell, width).ljust(width) if width else cell
                    for cell, (_, width) in zip(cells, _COLUMNS, strict=True)
                ).rstrip()
            )


def _fit(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
