from leads.models import Job
from pipeline import generate
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = "Write a message for every lead without one: AI when the LLM answers well, else the fallback template."
    job = Job.GENERATE

    def run_stage(self, *, limit, dry_run, progress, **options):
        summary = generate.run(limit=limit, dry_run=dry_run, progress=progress)
        counts = summary.extra["grounding"]
        self.note(
            f"grounding: checked {counts['checked']}, passed {counts['passed']}, "
            f"regenerated {counts['regenerated']}, fell back {counts['fell_back']}"
        )
        return summary
