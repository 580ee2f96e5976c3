"""Benchmark: the scrape stage against 200 local sites that each take 200 ms to answer.

Runs the real stage (database, fetcher, parser) twice in one process, at
SCRAPER_CONCURRENCY=1 and at the default, and prints pages/s for each and the
ratio. Each site is its own port on 127.0.0.1, so each counts as a host.

    make bench-scrape            # or: .venv/bin/python -m tests.benchmarks.scrape [--sites N]
"""

import argparse
import sys
import time

from tests.benchmarks import throwaway_database

SITES = 200
DELAY = 0.2
PAGE = """<html><head><title>Site {n} | Home</title>
<meta name="description" content="Site {n} makes useful things for the people who buy them."></head>
<body><p>Welcome to site {n}.</p></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=SITES, help=f"local sites to scrape (default {SITES})")
    sites = max(1, min(parser.parse_args().sites, 1000))
    with throwaway_database("scrape", SCRAPER_ALLOW_PRIVATE="true"):  # the sites live on 127.0.0.1
        _run(sites)


def _run(sites: int) -> None:
    from django.conf import settings
    from django.test import override_settings

    from leads.models import Lead, SkipLog
    from pipeline import scrape
    from tests.fakes.websites import FakeWebsites, html_page

    default = settings.SCRAPER_CONCURRENCY
    rates = {}
    with FakeWebsites() as web:
        urls = [web.site({"/": html_page(PAGE.format(n=n), delay=DELAY)}).url for n in range(sites)]
        for concurrency in (1, default):
            SkipLog.objects.all().delete()
            Lead.objects.all().delete()
            Lead.objects.bulk_create(
                Lead(airtable_id=f"recBench{n:09d}", email=f"p{n}@site{n}.example", website=url)
                for n, url in enumerate(urls)
            )
            with override_settings(SCRAPER_CONCURRENCY=concurrency):
                started = time.perf_counter()
                summary = scrape.run()
                elapsed = time.perf_counter() - started
            if summary.succeeded != sites:
                raise SystemExit(f"only {summary.succeeded} of {sites} pages scraped at concurrency {concurrency}")
            rates[concurrency] = rate = sites / elapsed
            sys.stdout.write(f"concurrency {concurrency:>3}: {sites} pages in {elapsed:6.2f} s = {rate:7.1f} pages/s\n")
    ratio = rates[default] / rates[1]
    sys.stdout.write(f"ratio: {ratio:.1f}x the one-at-a-time rate (each page answers in {DELAY * 1000:.0f} ms)\n")


if __name__ == "__main__":
    main()
