"""The sync stage: Airtable records <-> Lead rows, in bulk, one page or batch at a time."""

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead
from pipeline.airtable import client as airtable
from pipeline.airtable.fields import PUSHED, LeadFields
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

DIRECTIONS = ("pull", "push", "both")
BULK_BATCH = 500


def run(
    *,
    direction: str = "pull",
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
    client: airtable.ConfigurableAirtableClient | None = None,
) -> StageSummary:
    """Push pending local changes and/or pull every record; raises AirtableError when Airtable cannot be used."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    client = client or airtable.ConfigurableAirtableClient.from_settings()
    tally = Tally(stage="sync", dry_run=dry_run)
    # Push first: a pull never overwrites a lead still waiting to be pushed, so
    # pushing before pulling lets one "both" run bring every lead up to date.
    if direction in ("push", "both"):
        _push(client, tally, limit=limit, progress=progress)
    if direction in ("pull", "both"):
        _pull(client, tally, limit=limit, progress=progress)
    return tally.summary()


# --- pull -----------------------------------------------------------------------------


def _pull(client: airtable.ConfigurableAirtableClient, tally: Tally, *, limit: int | None, progress: Progress) -> None:
    progress.start(limit or 0, "pull")
    pulled_fields = _pulled_fields(client)
    for page in client.iter_records(limit=limit):
        _pull_page(page, tally, pulled_fields)
        progress.advance(len(page))
    logger.info("airtable pulled", extra={"records": tally.processed, "dry_run": tally.dry_run})


def _pulled_fields(client: airtable.ConfigurableAirtableClient) -> list[str]:
    return [logical for logical in client.field_map.refs if logical in _MODEL_FIELDS]


def _pull_page(page: list[airtable.Record], tally: Tally, pulled_fields: list[str]) -> None:
    """Insert new records and update known ones: 1 read and a few bulk writes per page, whatever its size."""
    now = timezone.now()
    by_id = Lead.objects.in_bulk([record.id for record in page], field_name="airtable_id")
    new: list[Lead] = []
    changed: list[Lead] = []
    kept_local: list[Lead] = []
    unchanged: list[int] = []
    changed_fields: set[str] = {"raw_fields", "last_pulled_at"}
    for record in page:
        tally.processed += 1
        tally.succeeded += 1
        values = _model_values(record.fields)
        lead = by_id.get(record.id)
        if lead is None:
            new.append(Lead(airtable_id=record.id, raw_fields=dict(record.raw), last_pulled_at=now, **values))
            action = "create"
        elif lead.pending_push:  # a local change not yet pushed wins; only the raw copy is refreshed
            lead.raw_fields, lead.last_pulled_at = dict(record.raw), now
            kept_local.append(lead)
            action = "keep_local"
        elif (names := _apply(lead, values, pulled_fields)) or lead.raw_fields != record.raw:
            changed_fields |= names
            lead.raw_fields, lead.last_pulled_at = dict(record.raw), now
            changed.append(lead)
            action = "update"
        else:
            unchanged.append(lead.pk)
            action = "unchanged"
        if tally.dry_run:
            tally.items.append({"record": record.id, "lead": lead.pk if lead else None, "action": action})
    if tally.dry_run:
        return
    with transaction.atomic():
        Lead.objects.bulk_create(new, batch_size=BULK_BATCH)
        Lead.objects.bulk_update(
            changed, fields=[*pulled_fields, "raw_fields", "last_pulled_at"], batch_size=BULK_BATCH
        )
        Lead.objects.bulk_update(kept_local, fields=["raw_fields", "last_pulled_at"], batch_size=BULK_BATCH)
        if unchanged:
            Lead.objects.filter(pk__in=unchanged).update(last_pulled_at=now)


def _apply(lead: Lead, values: Mapping[str, Any], pulled_fields: list[str]) -> set[str]:
    """Set the pulled values on `lead`; returns the names of the fields that changed."""
    changed = set()
    for name in pulled_fields:
        value = values[name]
        if name == "company_description" and not value:
            continue  # the scraper fills it locally; an empty cell does not erase that
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.add(name)
    return changed


def _model_values(lead_fields: LeadFields) -> dict[str, Any]:
    """LeadFields as model values for the pulled columns, text cut to each column's length."""
    values: dict[str, Any] = {}
    for name, value in lead_fields.items():
        if name not in _MODEL_FIELDS:
            continue
        max_length = _MODEL_FIELDS[name]
        if max_length and isinstance(value, str):
            value = value[:max_length]
        values[name] = value
    return values


# Pulled logical field -> the Lead column's max_length (None for text and dates). The skip
# reason is pushed, never pulled: it is the engager's record of the decision it has already
# logged (a SkipLog), so a value from Airtable would leave a skipped lead without its log.
_MODEL_FIELDS = {
    name: Lead._meta.get_field(name).max_length
    for name in (
        "email",
        "name",
        "job_title",
        "company_name",
        "website",
        "company_description",
        "email_confidence_level",
        "custom_message",
        "engagement_status",
        "date_messaged",
    )
}


# --- push -----------------------------------------------------------------------------


def _push(client: airtable.ConfigurableAirtableClient, tally: Tally, *, limit: int | None, progress: Progress) -> None:
    pending = Lead.objects.filter(pending_push=True).exclude(airtable_id=None).exclude(airtable_id="")
    leads = list(pending.order_by("id")[:limit] if limit is not None else pending.order_by("id"))
    progress.start(len(leads), "push")
    changes = [(lead.airtable_id, {name: getattr(lead, name) for name in PUSHED}) for lead in leads]
    if tally.dry_run:
        for lead, (record_id, values) in zip(leads, changes, strict=True):
            tally.processed += 1
            tally.succeeded += 1
            tally.items.append({"lead": lead.pk, "record": record_id, "action": "push", **_printable(values)})
        return
    by_record = {lead.airtable_id: lead for lead in leads}
    for batch in client.update_records(changes):
        done = [by_record[record_id] for record_id in batch.ids if record_id in batch.accepted and not batch.dropped]
        _clear_pending(done)
        tally.processed += len(batch.ids)
        tally.succeeded += len(done)
        tally.failed += len(batch.ids) - len(done)
        progress.advance(len(batch.ids))
    logger.info("airtable pushed", extra={"records": tally.succeeded, "failed": tally.failed})


def _clear_pending(leads: list[Lead]) -> None:
    """Clear the flag only where the row still holds what was pushed: a change made meanwhile stays pending."""
    if not leads:
        return
    still_as_pushed = Q()
    for lead in leads:
        still_as_pushed |= Q(pk=lead.pk, **{name: getattr(lead, name) for name in PUSHED})
    Lead.objects.filter(still_as_pushed, pending_push=True).update(pending_push=False)


def _printable(values: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(value or "")[:60] for name, value in values.items()}
