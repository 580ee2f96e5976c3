"""The sync stage: Airtable records <-> Lead rows, in bulk, one page or batch at a time.

A pull asks only for the records changed since the last complete pull began
(less AIRTABLE_INCREMENTAL_MARGIN_SECONDS, for clock skew); the first pull of a
table, a changed field map and `full=True` read every record, and only a full
pull can see that a record was deleted.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import SyncCursor
from pipeline.airtable import client as airtable
from pipeline.airtable import pull, push
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

DIRECTIONS = ("pull", "push", "both")
FULL, INCREMENTAL = "full", "incremental"


def run(
    *,
    direction: str = "pull",
    full: bool = False,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
    client: airtable.ConfigurableAirtableClient | None = None,
    now: datetime | None = None,
) -> StageSummary:
    """Push pending local changes and/or pull what changed (every record with `full`).

    The summary's `mode` says how the pull read (None without a pull) and `archived`
    counts the leads found deleted in Airtable. Raises AirtableError when Airtable cannot be used.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    client = client or airtable.ConfigurableAirtableClient.from_settings()
    tally = Tally(stage="sync", dry_run=dry_run)
    tally.extra.update(mode=None, archived=0)
    # Push first: a pull never overwrites a change still waiting to be pushed, so
    # pushing before pulling lets one "both" run bring every lead up to date.
    if direction in ("push", "both"):
        tally.extra["archived"] += push.push(client, tally, limit=limit, progress=progress, now=now or timezone.now())
    if direction in ("pull", "both"):
        _pull(client, tally, full=full, limit=limit, progress=progress, started=now or timezone.now())
    return tally.summary()


def _pull(
    client: airtable.ConfigurableAirtableClient,
    tally: Tally,
    *,
    full: bool,
    limit: int | None,
    progress: Progress,
    started: datetime,
) -> None:
    source = _source(client)
    since = None if full else _since(source, client)
    listing = client.list_records(limit=limit, modified_after=since)
    mode = INCREMENTAL if listing.incremental else FULL
    tally.extra["mode"] = mode
    progress.start(limit or 0, "pull")
    seen: set[str] = set()
    left = 0
    for page in listing.pages:
        left += pull.store_page(page, tally, field_map=listing.field_map, now=timezone.now())
        seen.update(record.id for record in page)
        progress.advance(len(page))
    complete = limit is None  # a pull cut short saw neither every change nor every record
    if mode == FULL and complete:
        tally.extra["archived"] += pull.archive_missing(seen, now=started, dry_run=tally.dry_run)
    if complete and not left and not tally.dry_run:
        _advance(source, client, started=started, full=mode == FULL)
    logger.info("airtable pulled", extra={"records": len(seen), "mode": mode, "dry_run": tally.dry_run})


def _source(client: airtable.ConfigurableAirtableClient) -> str:
    return f"{client.endpoint_url}|{client.base_id}|{client.table_name}"


def _since(source: str, client: airtable.ConfigurableAirtableClient) -> datetime | None:
    """Where an incremental pull starts; None (a full pull) for a new table or a changed field map."""
    cursor = SyncCursor.objects.filter(source=source).first()
    if cursor is None or cursor.field_map != dict(client.field_map.refs):
        return None
    return cursor.pulled_at - timedelta(seconds=settings.AIRTABLE_INCREMENTAL_MARGIN_SECONDS)


def _advance(source: str, client: airtable.ConfigurableAirtableClient, *, started: datetime, full: bool) -> None:
    """Record that a complete pull began at `started`: the next one asks for what changed after it."""
    values = {"field_map": dict(client.field_map.refs), "pulled_at": started}
    if full:
        values["full_pulled_at"] = started
    # Of two pulls ending at once, the one that began later keeps the cursor.
    if SyncCursor.objects.filter(source=source, pulled_at__lte=started).update(**values):
        return
    try:
        with transaction.atomic():
            SyncCursor.objects.create(source=source, **values)
    except IntegrityError:
        pass  # a pull that began later has moved the cursor already
