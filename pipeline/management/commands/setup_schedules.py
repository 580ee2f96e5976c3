from typing import Any

from django.core.management.base import BaseCommand

from pipeline.jobs import schedules


class Command(BaseCommand):
    help = (
        "Create or update the schedules: the pipeline's (PIPELINE_SCHEDULE_MINUTES), sending what is due "
        "(every minute), the inbox's "
        "(INBOX_POLL_MINUTES) and the Airtable full pull's (AIRTABLE_FULL_PULL_HOURS); running it twice "
        "changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = schedules.ensure_pipeline_schedule()
        if outcome.action in {"removed", "off"}:
            self.stdout.write(f"pipeline schedule: {outcome.action} (PIPELINE_SCHEDULE_MINUTES=0)")
        else:
            self.stdout.write(f"pipeline schedule: {outcome.action}, every {outcome.minutes} minutes")
        sending = schedules.ensure_send_schedule()
        if sending.action in {"removed", "off"}:
            self.stdout.write(f"send schedule: {sending.action} (PIPELINE_SCHEDULE_MINUTES=0)")
        else:
            self.stdout.write(f"send schedule: {sending.action}, every minute")
        full_pull = schedules.ensure_full_pull_schedule()
        if full_pull.action in {"removed", "off"}:
            self.stdout.write(f"airtable full pull schedule: {full_pull.action} (AIRTABLE_FULL_PULL_HOURS=0)")
        else:
            self.stdout.write(f"airtable full pull schedule: {full_pull.action}, every {full_pull.minutes // 60} hours")
        outcome = schedules.ensure_inbox_schedule()
        if outcome.action in {"removed", "off"}:
            self.stdout.write(f"inbox schedule: {outcome.action} (INBOX_POLL_MINUTES=0 or no INBOX_URL)")
        else:
            self.stdout.write(f"inbox schedule: {outcome.action}, every {outcome.minutes} minutes")
