from typing import Any

from django.core.management.base import CommandParser

from leads.models import Job
from pipeline import airtable
from pipeline.jobs import tasks
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = (
        "Pull Airtable records into leads (only those changed since the last pull, unless --full) and push "
        "local changes back, through the field map."
    )

    def job_for(self, options: dict[str, Any]) -> Job:
        return tasks.SYNC_JOBS[options["direction"]]

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--direction", choices=airtable.DIRECTIONS, default="both", help="pull, push, or both (push first)."
        )
        parser.add_argument(
            "--full", action="store_true", help="Pull every record, not only those changed since the last pull."
        )

    def run_stage(self, *, limit, dry_run, progress, **options: Any):
        return airtable.run(
            direction=options["direction"], full=options["full"], limit=limit, dry_run=dry_run, progress=progress
        )
