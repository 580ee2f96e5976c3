from typing import Any

from django.core.management.base import BaseCommand

from pipeline.jobs import schedules


class Command(BaseCommand):
    help = (
        "Create or update the pipeline's schedule (PIPELINE_SCHEDULE_MINUTES) and the inbox's (INBOX_POLL_MINUTES); "
        "running it twice changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = schedules.ensure_pipeline_schedule()
        if outcome.action in {"removed", "off"}:
            self.stdout.write(f"pipeline schedule: {outcome.action} (PIPELINE_SCHEDULE_MINUTES=0)")
        else:
            self.stdout.write(f"pipeline schedule: {outcome.action}, every {outcome.minutes} minutes")
        outcome = schedules.ensure_inbox_schedule()
        if outcome.action in {"removed", "off"}:
            self.stdout.write(f"inbox schedule: {outcome.action} (INBOX_POLL_MINUTES=0 or no INBOX_URL)")
        else:
            self.stdout.write(f"inbox schedule: {outcome.action}, every {outcome.minutes} minutes")
