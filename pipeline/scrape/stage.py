"""Stage: website -> company_description (and an empty company_name from the page title).

Sites are fetched by worker threads, at most SCRAPER_CONCURRENCY at a time and
at most SCRAPER_PER_HOST per host; this thread hands out the work, so a host
at its limit never holds a worker that another host could use, and it alone
writes to the database, in batches. A site that fails gets a SkipLog with the
reason and is tried again after SCRAPER_RETRY_HOURS; the lead goes on to the
generator without a description.
"""

import logging
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead, SkipLog, Stage
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.scrape import extract, fetch
from pipeline.scrape.failures import ScrapeCause, ScrapeError
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

WRITE_BATCH = 200
SAVED_FIELDS = ["company_description", "company_name", "scraped_at", "scrape_error", "updated_at"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one website gave: a description and title, or the reason it gave nothing."""

    description: str = ""
    title: str = ""
    error: str = ""  # the SkipLog detail: dns, timeout, http 404, no description, …
    message: str = ""  # the error's one line, for the log


def run(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
    now: datetime | None = None,
) -> StageSummary:
    """Describe each due lead's company from its website; a dry run fetches but stores nothing.

    Raises nothing for a bad site: each failure is counted, logged and kept as a SkipLog.
    """
    now = now or timezone.now()
    tally = Tally(stage="scrape", dry_run=dry_run)
    leads = list(_due(now).only("id", "website", "company_name")[:limit])
    if dry_run:
        tally.items.extend(_left_alone(now, limit))
    jobs: dict[str, list[Lead]] = defaultdict(list)  # one fetch per address, however many leads share it
    done: list[tuple[Lead, Outcome]] = []
    for lead in leads:
        try:
            jobs[fetch.normalise_url(lead.website)].append(lead)
        except ScrapeError as exc:
            done.append((lead, Outcome(error=exc.detail, message=str(exc))))
    progress.start(len(leads), "Scraping websites")
    writer = _Writer(now=now, dry_run=dry_run, tally=tally)
    try:
        for lead, outcome in done:
            writer.add(lead, outcome, url="")
        progress.advance(len(done))
        with fetch.Fetcher.from_settings() as client:
            for url, outcome in _fetch_all(jobs, fetch_one=lambda url: _scrape_one(client, url)):
                for lead in jobs[url]:
                    writer.add(lead, outcome, url=url)
                progress.advance(len(jobs[url]))
    finally:
        writer.flush()
    logger.info(
        "scrape finished",
        extra={"stage": "scrape", "dry_run": dry_run, "processed": tally.processed, "succeeded": tally.succeeded}
        | {"failed": tally.failed, "failures": dict(writer.failures)},
    )
    tally.items.sort(key=lambda item: item["lead"])
    return tally.summary()


def _due(now: datetime):
    """Leads (not archived) with a website and no description, not tried within SCRAPER_RETRY_HOURS."""
    retry_before = now - timedelta(hours=settings.SCRAPER_RETRY_HOURS)
    return (
        Lead.objects.filter(archived_at=None)
        .exclude(website="")
        .filter(company_description="")
        .filter(Q(scraped_at__isnull=True) | Q(scraped_at__lte=retry_before))
        .order_by("id")
    )


def _left_alone(now: datetime, limit: int | None) -> Iterator[dict]:
    """Dry-run rows for the leads a run would not fetch, with the reason."""
    retry_after = timedelta(hours=settings.SCRAPER_RETRY_HOURS)
    others = Lead.objects.exclude(pk__in=_due(now).values("pk")).order_by("id")
    shown = ("id", "website", "company_description", "scraped_at", "scrape_error", "archived_at")
    for lead in others.only(*shown)[:limit]:
        if lead.archived_at:
            reason = "archived (its record was deleted in Airtable)"
        elif lead.company_description.strip():
            reason = "has a description"
        elif not lead.website.strip():
            reason = "no website"
        else:
            when = timezone.localtime(lead.scraped_at + retry_after).strftime("%Y-%m-%d %H:%M")
            reason = f"tried recently ({lead.scrape_error or 'fetched'}), next try after {when}"
        yield {"lead": lead.pk, "decision": "left alone", "reason": reason}


def _scrape_one(client: fetch.Fetcher, url: str) -> Outcome:
    """Runs in a worker thread: network and parsing only, no database. Never raises."""
    try:
        return _described(client, url)
    except ScrapeError as exc:
        return Outcome(error=exc.detail, message=str(exc))
    # A website is written by anyone: whatever one page does to the fetcher or the parser
    # is that lead's failure, and the next lead is still scraped. The one broad except of
    # the stage, and the reason stays one line (the exception's type, never its text).
    except Exception as exc:  # noqa: BLE001 - see above
        message = f"{fetch.host_key(url)} could not be read ({type(exc).__name__})"
        return Outcome(error=ScrapeCause.BAD_PAGE.value, message=message)


def _described(client: fetch.Fetcher, url: str) -> Outcome:
    page = client.fetch_html(url)
    text = extract.page_text(page.body, page.content_type)
    if not text.description:
        return Outcome(title=text.title, error="no description", message=f"{fetch.host_key(url)} has no description")
    return Outcome(description=text.description, title=text.title)


def _fetch_all(jobs: dict[str, list], *, fetch_one: Callable[[str], Outcome]) -> Iterator[tuple[str, Outcome]]:
    """Yield (url, outcome) as fetches finish, at most SCRAPER_CONCURRENCY at once and SCRAPER_PER_HOST per host."""
    concurrency = settings.SCRAPER_CONCURRENCY
    per_host = settings.SCRAPER_PER_HOST
    waiting: dict[str, deque[str]] = defaultdict(deque)  # host -> urls, hosts in first-seen order
    for url in jobs:
        waiting[fetch.host_key(url)].append(url)
    busy: Counter[str] = Counter()
    running: dict[Future, tuple[str, str]] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scrape") as pool:
        while waiting or running:
            for host in _next_hosts(waiting, busy, per_host, room=concurrency - len(running)):
                url = waiting[host].popleft()
                if not waiting[host]:
                    del waiting[host]
                busy[host] += 1
                running[pool.submit(fetch_one, url)] = (host, url)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                host, url = running.pop(future)
                busy[host] -= 1
                yield url, future.result()


def _next_hosts(waiting: dict[str, deque], busy: Counter, per_host: int, *, room: int) -> list[str]:
    """Up to `room` hosts to start a fetch for, one per host per round (round-robin), none beyond `per_host`."""
    chosen: list[str] = []
    planned = Counter(busy)
    added = True
    while added and len(chosen) < room:
        added = False
        for host in waiting:  # stops as soon as the room is filled: cheap with thousands of hosts
            if len(chosen) >= room:
                break
            if planned[host] < min(per_host, busy[host] + len(waiting[host])):
                planned[host] += 1
                chosen.append(host)
                added = True
    return chosen


class _Writer:
    """Counts outcomes and saves them in batches: bulk updates of leads, bulk inserts of SkipLogs."""

    def __init__(self, *, now: datetime, dry_run: bool, tally: Tally) -> None:
        self.now = now
        self.dry_run = dry_run
        self.tally = tally
        self.leads: list[Lead] = []
        self.logs: list[SkipLog] = []
        self.failures: Counter[str] = Counter()

    def add(self, lead: Lead, outcome: Outcome, *, url: str) -> None:
        self.tally.processed += 1
        name = "" if lead.company_name.strip() else extract.company_name(outcome.title)
        if outcome.error:
            self.tally.failed += 1
            self.failures[outcome.error] += 1
            logger.info(
                "website not scraped",
                extra={"stage": "scrape", "lead_id": lead.pk, "detail": outcome.error, "error": outcome.message},
            )
        else:
            self.tally.succeeded += 1
        if self.dry_run:
            self.tally.items.append(_item(lead, outcome, url=url, name=name))
            return
        lead.company_description = outcome.description
        lead.company_name = name or lead.company_name
        lead.scraped_at = self.now
        lead.scrape_error = outcome.error[:255]
        lead.updated_at = self.now
        self.leads.append(lead)
        if outcome.error:
            self.logs.append(SkipLog(lead=lead, stage=Stage.SCRAPE, reason="", detail=outcome.error[:500]))
        if len(self.leads) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.leads:
            Lead.objects.bulk_update(self.leads, fields=SAVED_FIELDS, batch_size=WRITE_BATCH)
        if self.logs:
            SkipLog.objects.bulk_create(self.logs, batch_size=WRITE_BATCH)
        self.leads, self.logs = [], []


def _item(lead: Lead, outcome: Outcome, *, url: str, name: str) -> dict:
    """One dry-run row: what would be stored, or why the lead would be left alone."""
    if outcome.error:
        item = {"lead": lead.pk, "decision": "left alone", "reason": outcome.error, "why": outcome.message, "url": url}
        return item | ({"company_name": name} if name else {})
    item = {"lead": lead.pk, "decision": "store", "url": url, "description": outcome.description}
    return item | ({"company_name": name} if name else {}) | {"title": outcome.title}
