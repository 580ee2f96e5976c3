"""Pushing local changes (status, message, date messaged, skip reason) to Airtable.

A lead whose record Airtable no longer has is archived; any other record Airtable
refuses stays pending for the next push, and the log says why, record by record.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Q

from leads.models import Lead
from pipeline.airtable import client as airtable
from pipeline.airtable.fields import PUSHED
from pipeline.progress import Progress
from pipeline.summary import Tally

logger = logging.getLogger("pipeline.airtable.sync")  # one logger for all of the stage's events


def push(
    client: airtable.ConfigurableAirtableClient, tally: Tally, *, limit: int | None, progress: Progress, now: datetime
) -> int:
    """Push every pending lead (at most `limit`); returns how many leads were archived as deleted in Airtable."""
    pending = Lead.objects.filter(pending_push=True, archived_at=None).exclude(airtable_id=None).exclude(airtable_id="")
    leads = list(pending.order_by("id")[:limit] if limit is not None else pending.order_by("id"))
    progress.start(len(leads), "push")
    changes = [(lead.airtable_id, {name: getattr(lead, name) for name in PUSHED}) for lead in leads]
    if tally.dry_run:
        for lead, (record_id, values) in zip(leads, changes, strict=True):
            tally.processed += 1
            tally.succeeded += 1
            tally.items.append({"lead": lead.pk, "record": record_id, "action": "push", **_printable(values)})
        return 0
    by_record = {lead.airtable_id: lead for lead in leads}
    archived = 0
    for batch in client.update_records(changes):
        done = [by_record[record_id] for record_id in batch.ids if record_id in batch.accepted and not batch.dropped]
        _clear_pending(done)
        deleted = [by_record[record_id].pk for record_id in batch.deleted]
        if deleted:
            archived += Lead.objects.filter(pk__in=deleted, archived_at=None).update(archived_at=now)
        for record_id, exc in batch.refused.items():
            logger.warning(
                "airtable refused a record",
                extra={"record": record_id, "lead_id": by_record[record_id].pk, "cause": exc.cause, "error": str(exc)},
            )
        tally.processed += len(batch.ids)
        tally.succeeded += len(done)
        tally.failed += len(batch.ids) - len(done) - len(deleted)
        progress.advance(len(batch.ids))
    logger.info("airtable pushed", extra={"records": tally.succeeded, "failed": tally.failed, "archived": archived})
    return archived


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
