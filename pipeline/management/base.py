"""The one place that knows the contract's stage flags, JSON output and exit codes."""

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.models import Job
from outreach_site.logs import redact
from pipeline import progress
from pipeline.errors import ServiceError
from pipeline.jobs import runs
from pipeline.summary import StageSummary


class StageCommand(BaseCommand):
    """Adds `--dry-run`, `--limit N` and `--json`; maps a stage that cannot run to exit 1.

    Subclasses set `job` (or override `job_for`) and implement
    `run_stage(*, limit, dry_run, progress, **options)`.
    """

    job: Job

    def job_for(self, options: dict[str, Any]) -> Job:
        """The job this run is recorded as."""
        return self.job

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Change nothing: no email, no Airtable write, no database write."
        )
        parser.add_argument("--limit", type=int, default=None, metavar="N", help="Process at most N leads.")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON summary on stdout and nothing else there."
        )

    def run_stage(
        self, *, limit: int | None, dry_run: bool, progress: progress.Progress, **options: Any
    ) -> StageSummary:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] is not None and options["limit"] < 0:
            raise CommandError("--limit must be 0 or more")
        as_json = options.pop("json")
        dry_run = options.pop("dry_run")
        limit = options.pop("limit")
        bar = progress.for_stream(self.stderr._out, quiet=as_json)
        self.as_json = as_json
        try:
            summary = runs.record(
                self.job_for(options),
                lambda: self.run_stage(limit=limit, dry_run=dry_run, progress=bar, **options),
                dry_run=dry_run,
            )
        except (ServiceError, ImproperlyConfigured) as exc:
            raise CommandError(redact(str(exc))) from exc  # a URL's password never reaches stderr
        finally:
            bar.finish()
        if as_json:
            self.stdout.write(json.dumps(summary.as_dict()))
        else:
            for item in summary.items:
                self.stdout.write("  ".join(f"{key}={value}" for key, value in item.items()))
            self.stdout.write(self.describe(summary))

    def note(self, line: str) -> None:
        """A line for a person (dry-run tables, reasons); never mixed into `--json` output."""
        if not self.as_json:
            self.stdout.write(line)

    @staticmethod
    def describe(summary: StageSummary) -> str:
        skipped = ", ".join(f"{reason} {count}" for reason, count in summary.skipped.items()) or "none"
        prefix = "[dry run] " if summary.dry_run else ""
        return (
            f"{prefix}{summary.stage}: processed {summary.processed}, succeeded {summary.succeeded}, "
            f"skipped {sum(summary.skipped.values())} ({skipped}), deferred {summary.deferred}, failed {summary.failed}"
        )
