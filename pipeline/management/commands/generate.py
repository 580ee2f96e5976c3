from pipeline import generator
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = "Write a message for every lead without one: AI when the LLM answers well, else the fallback template."
    job = "generate"

    def run_stage(self, *, limit, dry_run, progress, **options):
        return generator.run(limit=limit, dry_run=dry_run, progress=progress)
