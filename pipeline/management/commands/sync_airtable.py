from typing import Any

from django.core.management.base import CommandParser

from pipeline import sync
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = "Pull Airtable records into leads and push local changes back, through the field map."
    job = "sync"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--direction", choices=sync.DIRECTIONS, default="both", help="pull, push, or both (push first)."
        )

    def run_stage(self, *, limit, dry_run, progress, **options: Any):
        return sync.run(direction=options["direction"], limit=limit, dry_run=dry_run, progress=progress)
