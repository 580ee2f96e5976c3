"""The scraper: the safe fetcher (fetch.py, with the address checks of netcheck.py), page
extraction, and the scrape stage, whose `run` this package hands on: `scrape.run(...)`."""

from pipeline.scrape.failures import ScrapeCause, ScrapeError
from pipeline.scrape.stage import run

__all__ = ["ScrapeCause", "ScrapeError", "run"]
