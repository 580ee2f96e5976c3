"""The scrape stage: descriptions stored, every failure recorded with its reason, sites fetched concurrently."""

import json
import logging
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.models import Lead, SkipLog
from pipeline import scrape
from tests.builders import make_lead, make_leads
from tests.fakes.websites import FakeWebsites, Page, html_page, redirect

ABOUT = '<html><head><title>Acme Widgets | Home</title><meta name="description" content="Acme makes widgets for factories."></head></html>'  # noqa: E501 - one page


@pytest.fixture
def web(settings):
    settings.SCRAPER_ALLOW_PRIVATE = True  # the fake websites live on 127.0.0.1
    settings.SCRAPER_TIMEOUT = 5.0
    with FakeWebsites() as websites:
        yield websites


def test_a_description_and_an_empty_company_name_are_filled_from_the_site(web, db):
    site = web.site({"/": html_page(ABOUT)})
    lead = make_lead(website=site.url, company_name="")
    now = timezone.now()
    summary = scrape.run(now=now)
    lead.refresh_from_db()
    assert (summary.processed, summary.succeeded, summary.failed) == (1, 1, 0)
    assert lead.company_description == "Acme makes widgets for factories."
    assert lead.company_name == "Acme Widgets"
    assert (lead.scraped_at, lead.scrape_error) == (now, "")
    assert not SkipLog.objects.exists()


def test_a_company_name_from_the_spreadsheet_is_kept(web, db):
    site = web.site({"/": html_page(ABOUT)})
    lead = make_lead(website=site.url, company_name="ACME Inc.")
    scrape.run()
    lead.refresh_from_db()
    assert lead.company_name == "ACME Inc."


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        (Page(status=404), "http 404"),
        (Page(body=b"\x89PNG\r\n", content_type="image/png"), "not html"),
        (html_page("<p>" + "x" * 200_000 + "</p>"), "too large"),
        (redirect("http://169.254.169.254/latest/meta-data/"), "blocked address"),
        (html_page("<title>Soon</title><p>Stay tuned.</p>"), "no description"),
    ],
)
def test_each_failure_leaves_a_skip_log_with_its_reason(web, db, settings, page, detail):
    settings.SCRAPER_MAX_BYTES = 100_000
    site = web.site({"/": page})
    lead = make_lead(website=site.url)
    summary = scrape.run()
    lead.refresh_from_db()
    assert (summary.processed, summary.succeeded, summary.failed) == (1, 0, 1)
    assert list(SkipLog.objects.values_list("lead", "stage", "reason", "detail")) == [(lead.pk, "scrape", "", detail)]
    assert lead.scrape_error == detail
    assert lead.scraped_at is not None
    assert lead.company_description == ""


def test_robots_txt_that_disallows_is_recorded_as_robots(web, db):
    site = web.site({"/robots.txt": Page(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain")})
    lead = make_lead(website=site.url)
    scrape.run()
    assert list(SkipLog.objects.values_list("lead", "detail")) == [(lead.pk, "robots")]
    assert site.paths == ["/robots.txt"]


def test_unsafe_and_unknown_addresses_are_recorded_with_their_reason(db, settings):
    settings.SCRAPER_ALLOW_PRIVATE = False
    leads = {
        "http://127.0.0.1/": "blocked address",
        "http://[::ffff:127.0.0.1]/": "blocked address",
        "http://10.0.0.7/": "blocked address",
        "localhost": "blocked address",
        "ftp://acme.example/": "scheme",
        "no-such-company.invalid": "dns",
    }
    for website in leads:
        make_lead(website=website)
    scrape.run()
    stored = dict(Lead.objects.values_list("website", "scrape_error"))
    assert stored == leads
    assert SkipLog.objects.filter(stage="scrape").count() == len(leads)


def test_each_failure_is_logged_once_with_the_lead_and_the_reason(web, db, caplog):
    site = web.site({})
    lead = make_lead(website=f"{site.url}/missing", email="jane.doe@acme.example")
    with caplog.at_level(logging.INFO, logger="pipeline.scrape"):
        scrape.run()
    [record] = [r for r in caplog.records if r.getMessage() == "website not scraped"]
    assert (record.lead_id, record.detail, record.stage) == (lead.pk, "http 404", "scrape")
    assert "jane.doe" not in caplog.text


def test_one_bad_site_never_stops_the_batch(web, db, settings):
    settings.SCRAPER_TIMEOUT = 0.5
    good = web.site({"/": html_page(ABOUT)})
    slow = web.site({"/": html_page(ABOUT, delay=3)})
    leads = [
        make_lead(website=good.url),
        make_lead(website=slow.url),
        make_lead(website="http://nowhere.invalid/"),
        make_lead(website="javascript:alert(1)"),
        make_lead(website=f"{good.url}/missing"),
        make_lead(website=good.url),
    ]
    summary = scrape.run()
    errors = [Lead.objects.get(pk=lead.pk).scrape_error for lead in leads]
    assert errors == ["", "timeout", "dns", "scheme", "http 404", ""]
    assert (summary.processed, summary.succeeded, summary.failed) == (6, 2, 4)


def test_a_failed_site_is_retried_only_after_the_retry_delay(web, db, settings):
    settings.SCRAPER_RETRY_HOURS = 24
    site = web.site({})
    lead = make_lead(website=site.url)
    first = timezone.now()
    scrape.run(now=first)
    assert site.paths == ["/robots.txt", "/"]

    assert scrape.run(now=first + timedelta(hours=23)).processed == 0
    assert site.paths == ["/robots.txt", "/"]

    site.pages["/"] = html_page(ABOUT)
    summary = scrape.run(now=first + timedelta(hours=24, minutes=1))
    lead.refresh_from_db()
    assert summary.succeeded == 1
    assert (lead.company_description, lead.scrape_error) == ("Acme makes widgets for factories.", "")
    assert SkipLog.objects.filter(lead=lead).count() == 1


def test_leads_with_a_description_or_without_a_website_are_left_alone(web, db):
    site = web.site({"/": html_page(ABOUT)})
    make_lead(website=site.url, company_description="Already known.")
    make_lead(website="")
    assert scrape.run().processed == 0
    assert site.requests == []


def test_leads_sharing_a_website_cost_one_fetch(web, db):
    site = web.site({"/": html_page(ABOUT)})
    make_leads(3, website=site.url)
    assert scrape.run().succeeded == 3
    assert site.paths == ["/robots.txt", "/"]
    assert set(Lead.objects.values_list("company_description", flat=True)) == {"Acme makes widgets for factories."}


def test_limit_caps_the_leads_fetched(web, db):
    site = web.site({f"/{n}": html_page(ABOUT) for n in range(5)})
    for n in range(5):
        make_lead(website=f"{site.url}/{n}")
    assert scrape.run(limit=2).processed == 2
    assert Lead.objects.exclude(company_description="").count() == 2


def test_a_dry_run_fetches_and_reports_but_stores_nothing(web, db):
    site = web.site({"/": html_page(ABOUT)})
    good = make_lead(website=site.url, company_name="")
    missing = make_lead(website=f"{site.url}/gone")
    known = make_lead(website=site.url, company_description="Known.")
    bare = make_lead(website="")
    before = list(Lead.objects.values())
    summary = scrape.run(dry_run=True)
    assert list(Lead.objects.values()) == before
    assert not SkipLog.objects.exists()
    assert (summary.dry_run, summary.processed, summary.succeeded, summary.failed) == (True, 2, 1, 1)
    assert list(summary.items) == [
        {
            "lead": good.pk,
            "decision": "store",
            "url": f"{site.url}/",
            "description": "Acme makes widgets for factories.",
            "company_name": "Acme Widgets",
            "title": "Acme Widgets | Home",
        },
        {
            "lead": missing.pk,
            "decision": "left alone",
            "reason": "http 404",
            "why": f"127.0.0.1:{site.port} answered HTTP 404",
            "url": f"{site.url}/gone",
        },
        {"lead": known.pk, "decision": "left alone", "reason": "has a description"},
        {"lead": bare.pk, "decision": "left alone", "reason": "no website"},
    ]


def test_a_dry_run_says_when_a_recently_failed_lead_will_be_tried_again(db, settings):
    settings.SCRAPER_RETRY_HOURS = 6
    tried = timezone.now() - timedelta(hours=1)
    lead = make_lead(website="acme.example", scraped_at=tried, scrape_error="timeout")
    [item] = scrape.run(dry_run=True).items
    when = timezone.localtime(tried + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")
    assert item == {
        "lead": lead.pk,
        "decision": "left alone",
        "reason": f"tried recently (timeout), next try after {when}",
    }


def test_the_dry_run_command_on_the_demo_leads_prints_each_decision(db, capsys):
    """The demo websites are *.example names, which never resolve; the demo leads that come with a
    description (and an AI message written from it) are left alone."""
    call_command("loaddata", "demo_leads", verbosity=0)
    before = list(Lead.objects.values())
    call_command("scrape", "--dry-run")
    lines = capsys.readouterr().out.splitlines()
    assert list(Lead.objects.values()) == before
    assert not SkipLog.objects.exists()
    assert lines[0] == "lead=1  decision=left alone  reason=has a description"
    assert "lead=3  decision=left alone  reason=dns  why=kernel.example does not resolve" in lines[2]
    assert "lead=13  decision=left alone  reason=no website" in lines
    assert len(lines) == Lead.objects.count() + 1
    assert lines[-1] == ("[dry run] scrape: processed 14, succeeded 0, skipped 0 (none), deferred 0, failed 14")


def test_the_command_prints_one_json_summary(web, db, capsys):
    site = web.site({"/": html_page(ABOUT)})
    make_lead(website=site.url)
    make_lead(website="http://nowhere.invalid/")
    call_command("scrape", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert {key: summary[key] for key in ("stage", "dry_run", "processed", "succeeded", "failed")} == {
        "stage": "scrape",
        "dry_run": False,
        "processed": 2,
        "succeeded": 1,
        "failed": 1,
    }


def test_concurrency_is_bounded_overall_and_per_host(web, db, settings):
    settings.SCRAPER_CONCURRENCY = 4
    settings.SCRAPER_PER_HOST = 2
    busy = web.site({f"/{n}": html_page(ABOUT, delay=0.2) for n in range(6)})
    others = [web.site({"/": html_page(ABOUT, delay=0.2)}) for _ in range(6)]
    for n in range(6):
        make_lead(website=f"{busy.url}/{n}")
    for site in others:
        make_lead(website=site.url)
    assert scrape.run().succeeded == 12
    assert busy.max_in_flight == 2
    assert web.max_in_flight == 4


def test_a_slow_host_does_not_hold_up_the_others(web, db, settings):
    settings.SCRAPER_CONCURRENCY = 4
    settings.SCRAPER_PER_HOST = 2
    slow = web.site({f"/{n}": html_page(ABOUT, delay=1.0) for n in range(4)})
    fast = [web.site({"/": html_page(ABOUT)}) for _ in range(6)]
    for n in range(4):
        make_lead(website=f"{slow.url}/{n}")
    for site in fast:
        make_lead(website=site.url)
    started = time.monotonic()
    scrape.run()
    pages = [port for port, path in web.completed if path != "/robots.txt"]
    assert set(pages[:6]) == {site.port for site in fast}  # every fast page done before the first slow one
    assert time.monotonic() - started < 3.5  # two rounds of the slow host, two at a time


@pytest.mark.parametrize("count", [5, 50])
def test_the_query_count_does_not_grow_with_the_leads(db, settings, django_assert_max_num_queries, count):
    settings.SCRAPER_ALLOW_PRIVATE = False
    make_leads(count, website="http://10.0.0.1/")
    # 1 select of due leads, then 1 bulk update of leads and 1 bulk insert of SkipLogs,
    # each possibly wrapped in a transaction's savepoint.
    with django_assert_max_num_queries(5):
        assert scrape.run().failed == count
