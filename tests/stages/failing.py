"""A stage that raises at once: its service is down, or it has a bug."""

from pipeline.scrape import ScrapeCause, ScrapeError


def run(*, limit=None, dry_run=False, progress=None, error="service", **options):
    if error == "bug":
        return {}["a key the code forgot"]
    raise ScrapeError("example.com refused the connection", cause=ScrapeCause.UNREACHABLE)
