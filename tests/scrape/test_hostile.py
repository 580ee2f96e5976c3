"""Hostile websites: each one costs its own lead a failure reason, never the stage, its time or its memory.

Every site is a real server on 127.0.0.1: one that drips its headers a byte at a
time, one that sends a tiny body which inflates to a gigabyte, pages that name
charsets no page can be written in.
"""

import gzip
import json
import os
import subprocess
import sys
import time
import tracemalloc
import zlib
from functools import cache

import pytest

from leads.models import Lead, SkipLog
from pipeline import scrape
from pipeline.scrape import extract
from pipeline.scrape.fetch import Fetcher, ScrapeError
from tests.builders import make_lead
from tests.fakes.websites import FakeWebsites, Page, html_page, redirect
from tests.processes import PROJECT_DIR, django_env

ABOUT = (
    '<html><head><title>Acme</title><meta name="description" content="Acme makes widgets for factories."></head></html>'  # noqa: E501 - one page
)
BAD_CHARSETS = ("hex", "rot13", "base64", "idna", "undefined")


@pytest.fixture
def web(settings):
    settings.SCRAPER_ALLOW_PRIVATE = True  # the fake websites live on 127.0.0.1
    with FakeWebsites() as websites:
        yield websites


def make_fetcher(**options) -> Fetcher:
    defaults = {"timeout": 1.0, "max_bytes": 100_000, "user_agent": "OutreachPipeline/1.0", "allow_loopback": True}
    return Fetcher(**(defaults | options))


def failure(url: str, **options) -> tuple[ScrapeError, float]:
    started = time.monotonic()
    with make_fetcher(**options) as client, pytest.raises(ScrapeError) as caught:
        client.fetch_html(url)
    return caught.value, time.monotonic() - started


@cache
def gzip_bomb() -> bytes:
    """About 2 KB that inflate, gzip inside gzip, to a gigabyte of zeros."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [inner.compress(zeros) for _ in range(1024)]
    return gzip.compress(b"".join(parts) + inner.flush(), compresslevel=9)


def bomb_page() -> Page:
    return Page(body=gzip_bomb(), headers={"Content-Encoding": "gzip, gzip"})


def slowloris_page() -> Page:
    return Page(head_drip=0.5)


def test_a_server_that_drips_its_headers_is_cut_off_at_the_timeout(web):
    site = web.site({"/": slowloris_page()})
    error, elapsed = failure(site.url, timeout=1.0)
    assert error.detail == "timeout"
    assert elapsed < 1.5


def test_redirects_share_one_deadline(web):
    """Each hop answers within the timeout, the chain does not: the timeout bounds the whole fetch."""
    site = web.site({"/": redirect("/a"), "/a": redirect("/b"), "/b": redirect("/c"), "/c": html_page(ABOUT)})
    for path in ("/", "/a", "/b", "/c"):
        site.pages[path].delay = 0.4
    error, elapsed = failure(site.url, timeout=1.0)
    assert error.detail == "timeout"
    assert elapsed < 1.5


def test_a_gzip_bomb_stops_at_max_bytes_with_memory_to_match(web):
    site = web.site({"/": bomb_page()})
    assert len(gzip_bomb()) < 5_000
    tracemalloc.start()
    try:
        error, _ = failure(site.url, timeout=10.0, max_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.detail == "too large"
    assert peak < 20_000_000


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(ABOUT.encode())),
        ("x-gzip", gzip.compress(ABOUT.encode())),
        ("gzip, gzip", gzip.compress(gzip.compress(ABOUT.encode()))),
        ("deflate", zlib.compress(ABOUT.encode())),
        ("identity", ABOUT.encode()),
    ],
)
def test_compressed_pages_are_decoded(web, encoding, body):
    site = web.site({"/": Page(body=body, headers={"Content-Encoding": encoding})})
    with make_fetcher() as client:
        assert client.fetch_html(site.url).body == ABOUT.encode()


def test_a_body_in_an_encoding_we_cannot_undo_is_a_bad_response(web):
    site = web.site({"/": Page(body=b"\x1b\x00", headers={"Content-Encoding": "br"})})
    assert failure(site.url)[0].detail == "bad response"


def test_a_body_that_does_not_inflate_is_a_bad_response(web):
    site = web.site({"/": Page(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})})
    assert failure(site.url)[0].detail == "bad response"


@pytest.mark.parametrize("charset", BAD_CHARSETS)
@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_page_naming_a_charset_no_page_uses_is_still_read(charset, where):
    html = ABOUT.replace("<head>", f'<head><meta charset="{charset}">') if where == "meta" else ABOUT
    content_type = f"text/html; charset={charset}" if where == "header" else "text/html"
    assert extract.page_text(html.encode(), content_type).description == "Acme makes widgets for factories."


@pytest.mark.parametrize("charset", BAD_CHARSETS)
def test_a_bad_charset_costs_no_later_lead_its_description(web, db, charset):
    bad = web.site({"/": html_page(ABOUT.replace("<head>", f'<head><meta charset="{charset}">'), declare=False)})
    good = web.site({"/": html_page(ABOUT)})
    make_lead(website=bad.url)
    later = make_lead(website=good.url)
    summary = scrape.run()
    assert summary.processed == 2
    later.refresh_from_db()
    assert later.company_description == "Acme makes widgets for factories."


def test_a_stage_over_hostile_sites_ends_within_twice_the_timeout(web, db, settings):
    settings.SCRAPER_TIMEOUT = 2.0
    settings.SCRAPER_MAX_BYTES = 1_000_000
    hostile = {
        "slowloris": web.site({"/": slowloris_page()}),
        "bomb": web.site({"/": bomb_page()}),
        "hex": web.site({"/": Page(body=ABOUT.encode(), content_type="text/html; charset=hex")}),
    }
    leads = {name: make_lead(website=site.url) for name, site in hostile.items()}
    fine = make_lead(website=web.site({"/": html_page(ABOUT)}).url)
    started = time.monotonic()
    summary = scrape.run()
    elapsed = time.monotonic() - started
    print(f"hostile scrape stage: {elapsed:.2f} s at SCRAPER_TIMEOUT=2")  # noqa: T201 - the figure
    assert elapsed < 2 * settings.SCRAPER_TIMEOUT
    assert (summary.processed, summary.succeeded) == (4, 2)
    errors = {name: Lead.objects.get(pk=lead.pk).scrape_error for name, lead in leads.items()}
    assert errors == {"slowloris": "timeout", "bomb": "too large", "hex": ""}
    assert Lead.objects.get(pk=fine.pk).company_description
    assert SkipLog.objects.count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_peak_memory_of_a_scrape_over_hostile_sites_stays_under_300_mb(tmp_path):
    """The scrape command in a child process, its peak resident size read by wait4."""
    with FakeWebsites() as web:
        for page in (slowloris_page(), bomb_page(), html_page(ABOUT, charset="utf-8", declare=False)):
            make_lead(website=web.site({"/": page}).url)
        env = django_env(SCRAPER_ALLOW_PRIVATE="true", SCRAPER_TIMEOUT="2", LOG_LEVEL="ERROR")
        started = time.monotonic()
        child = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "scrape", "--json"], cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.monotonic() - started
        summary = json.loads(child.stdout.read())
        child.stdout.close()
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    print(f"hostile scrape: peak RSS {peak_mb:.0f} MB, {elapsed:.2f} s including start-up")  # noqa: T201 - the figure
    assert os.waitstatus_to_exitcode(status) == 0
    assert summary["processed"] == 3
    assert peak_mb < 300
