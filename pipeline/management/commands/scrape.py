from leads.models import Job
from pipeline import scrape
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = "Describe each lead's company from its website; every site that fails is logged with its reason."
    job = Job.SCRAPE

    def run_stage(self, *, limit, dry_run, progress, **options):
        return scrape.run(limit=limit, dry_run=dry_run, progress=progress)
