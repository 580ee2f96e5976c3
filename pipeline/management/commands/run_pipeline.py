from typing import Any

from leads.models import Job
from pipeline.jobs import tasks
from pipeline.management.base import StageCommand
from pipeline.progress import Progress
from pipeline.summary import StageSummary


class Command(StageCommand):
    help = (
        "Run the stages in order (sync pull, scrape, generate, engage, sync push), each isolated: "
        "a stage that fails is recorded and reported, and the next one still runs."
    )
    job = Job.PIPELINE

    def run_stage(self, *, limit: int | None, dry_run: bool, progress: Progress, **options: Any) -> StageSummary:
        summary = tasks.run_steps(tasks.PIPELINE, limit=limit, dry_run=dry_run, progress=progress)
        for item in summary.items:
            if item["outcome"] == "failed":
                self.stderr.write(f"{item['stage']} failed: {item['error']}")
        return summary
