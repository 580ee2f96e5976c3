"""Pulling records into Lead rows, a page at a time, without losing a change made here.

What wins where Airtable and this app disagree:
- a pushed field (status, message, date messaged) changed here and not yet pushed
  keeps its local value: the push writes it to Airtable;
- another pulled field edited in the admin keeps its local value until that field
  changes in Airtable; then Airtable's value wins;
- an empty company name or description does not erase what the scraper found;
- a row changed here while the pull was reading (an email sent, an unsubscribe, an
  admin save) is not overwritten: the write is conditional, and the record is read
  and applied again.
A full pull that sees every record archives the leads whose record is gone.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from leads.models import Lead
from pipeline.airtable import client as airtable
from pipeline.airtable.fields import PULLED, PUSHED, FieldMap, LeadFields, lead_fields
from pipeline.summary import Tally

logger = logging.getLogger("pipeline.airtable.sync")  # one logger for all of the stage's events

BULK_BATCH = 500
# Reads and conditional writes of one page; a row changed here each time is left for the next pull.
ATTEMPTS = 3
# Filled here (by the scraper) when Airtable has nothing: an empty cell does not erase them.
_KEPT_WHEN_EMPTY = frozenset({"company_name", "company_description"})
# Pulled logical field -> the Lead column's max_length (None for text and dates).
_MODEL_FIELDS = {name: Lead._meta.get_field(name).max_length for name in PULLED}


@dataclass(slots=True)
class _Plan:
    """One page's writes, decided from the rows as read."""

    new: list[Lead] = field(default_factory=list)
    changed: list[Lead] = field(default_factory=list)  # written only where the row is still as read
    as_read: Q = field(default_factory=Q)  # each changed row's (pk, updated_at, pending_push) when read
    unchanged: list[int] = field(default_factory=list)
    columns: set[str] = field(default_factory=lambda: {"raw_fields", "last_pulled_at", "updated_at"})
    items: list[dict[str, Any]] = field(default_factory=list)


def pulled_fields(field_map: FieldMap) -> list[str]:
    """The pulled logical fields this field map has a column for."""
    return [logical for logical in field_map.refs if logical in _MODEL_FIELDS]


def store_page(page: list[airtable.Record], tally: Tally, *, field_map: FieldMap, now: datetime) -> int:
    """Insert new records and update known ones: 1 read and a few bulk writes per page, whatever its size.

    Returns how many records stayed unwritten because their row kept changing here (for the next pull).
    """
    tally.processed += len(page)
    names = pulled_fields(field_map)
    todo = page
    for _ in range(ATTEMPTS):
        plan = _plan(todo, names, field_map, now=now)
        if tally.dry_run:
            tally.items.extend(plan.items)
            tally.succeeded += len(page)
            return 0
        missed = _write(plan, now=now)
        todo = [record for record in todo if record.id in missed]
        if not todo:
            break
    tally.succeeded += len(page) - len(todo)
    tally.deferred += len(todo)
    if todo:
        logger.warning(
            "airtable records left for the next pull, their leads kept changing", extra={"records": len(todo)}
        )
    return len(todo)


def _plan(records: list[airtable.Record], names: list[str], field_map: FieldMap, *, now: datetime) -> _Plan:
    plan = _Plan()
    by_id = Lead.objects.in_bulk([record.id for record in records], field_name="airtable_id")
    for record in records:
        lead = by_id.get(record.id)
        if lead is None:
            values = _model_values(record.fields)
            plan.new.append(Lead(airtable_id=record.id, raw_fields=dict(record.raw), last_pulled_at=now, **values))
            action = "create"
        else:
            read = Q(pk=lead.pk, updated_at=lead.updated_at, pending_push=lead.pending_push)
            columns = _apply(lead, record, names, field_map)
            if columns or lead.raw_fields != record.raw:
                plan.as_read |= read
                plan.columns |= columns
                lead.raw_fields, lead.last_pulled_at, lead.updated_at = dict(record.raw), now, now
                plan.changed.append(lead)
                action = "keep_local" if lead.pending_push else "update"
            else:
                plan.unchanged.append(lead.pk)
                action = "keep_local" if lead.pending_push else "unchanged"
        plan.items.append({"record": record.id, "lead": lead.pk if lead else None, "action": action})
    return plan


def _apply(lead: Lead, record: airtable.Record, names: list[str], field_map: FieldMap) -> set[str]:
    """Set Airtable's values on `lead` where they win; returns the columns that changed."""
    values = _model_values(record.fields)
    edits = set(lead.local_edits)
    # The record as the last pull saw it: an edited field whose cell still reads the same has not changed there.
    before = _model_values(lead_fields(lead.raw_fields, field_map)) if edits else {}
    changed = set()
    for name in names:
        value = values[name]
        if lead.pending_push and name in PUSHED:
            continue  # changed here and not yet pushed: the push writes it to Airtable
        if name in edits:
            if before.get(name) == value:
                continue
            edits.discard(name)  # changed in Airtable since: Airtable's value wins
        if name in _KEPT_WHEN_EMPTY and not value:
            continue
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.add(name)
    if edits != set(lead.local_edits):
        lead.local_edits = sorted(edits)
        changed.add("local_edits")
    if lead.archived_at is not None:  # the record is back (restored in Airtable)
        lead.archived_at = None
        changed.add("archived_at")
    return changed


def _write(plan: _Plan, *, now: datetime) -> set[str]:
    """Write the plan; returns the record ids of changed rows that were changed here since they were read."""
    with transaction.atomic():
        Lead.objects.bulk_create(plan.new, batch_size=BULK_BATCH)
        # The condition is part of the UPDATE, so nothing can slip in between the check and the write.
        written = Lead.objects.filter(plan.as_read).bulk_update(
            plan.changed, fields=sorted(plan.columns), batch_size=BULK_BATCH
        )
        if plan.unchanged:
            Lead.objects.filter(pk__in=plan.unchanged).update(last_pulled_at=now)
    if written == len(plan.changed):
        return set()
    done = set(
        Lead.objects.filter(pk__in=[lead.pk for lead in plan.changed], last_pulled_at=now).values_list("pk", flat=True)
    )
    return {lead.airtable_id for lead in plan.changed if lead.pk not in done}


def _model_values(values: LeadFields) -> dict[str, Any]:
    """LeadFields as model values for the pulled columns, text cut to each column's length."""
    model_values: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _MODEL_FIELDS:
            continue
        max_length = _MODEL_FIELDS[name]
        if max_length and isinstance(value, str):
            value = value[:max_length]
        model_values[name] = value
    return model_values


def archive_missing(seen: Iterable[str], *, now: datetime, dry_run: bool) -> int:
    """Archive the leads whose record a full pull did not see (deleted, or emptied of every mapped field)."""
    seen = set(seen)
    known = Lead.objects.filter(archived_at=None).exclude(airtable_id=None).exclude(airtable_id="")
    gone = [pk for pk, record_id in known.values_list("pk", "airtable_id") if record_id not in seen]
    if dry_run or not gone:
        return len(gone)
    for start in range(0, len(gone), BULK_BATCH):
        Lead.objects.filter(pk__in=gone[start : start + BULK_BATCH], archived_at=None).update(archived_at=now)
    logger.info("airtable records gone, leads archived", extra={"leads": len(gone)})
    return len(gone)
