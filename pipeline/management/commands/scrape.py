from pipeline import scraper
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = "Describe each lead's company from its website; every site that fails is logged with its reason."
    job = "scrape"

    def run_stage(self, *, limit, dry_run, progress, **options):
        return scraper.run(limit=limit, dry_run=dry_run, progress=progress)
