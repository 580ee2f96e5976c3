"""Writing logical values to Airtable records through the field map, 10 records a request.

A batch Airtable refuses is tried again record by record, so that one record
(deleted in Airtable, or with a value Airtable will not take) holds back no
other; each refusal comes back with its cause. A field the table lacks is left
out and the rest written.
"""

import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.airtable import failures, fields
from pipeline.airtable.failures import AirtableCause, AirtableError

if TYPE_CHECKING:
    from pipeline.airtable.client import ConfigurableAirtableClient

logger = logging.getLogger(__name__)

BATCH_SIZE = 10  # Airtable's largest batch update
# Failures after which no later batch of a push can do better: stop the push.
_UNUSABLE = frozenset({AirtableCause.UNREACHABLE, AirtableCause.RATE_LIMITED, AirtableCause.SERVER})

Change = tuple[str, Mapping[str, Any]]  # record id, logical values


@dataclass(frozen=True, slots=True)
class BatchResult:
    ids: list[str]
    accepted: set[str]
    dropped: frozenset[str] = field(default_factory=frozenset)  # logical fields not written (missing in Airtable)
    refused: Mapping[str, AirtableError] = field(default_factory=dict)  # record id -> why Airtable refused it

    @property
    def deleted(self) -> set[str]:
        """The records Airtable no longer has."""
        return {record_id for record_id, exc in self.refused.items() if exc.cause == AirtableCause.RECORD_DELETED}


def update_records(client: "ConfigurableAirtableClient", changes: Sequence[Change]) -> Iterator[BatchResult]:
    """Write logical values to records, 10 per request; yields what Airtable accepted, batch by batch.

    A record Airtable refuses is reported, not raised; AirtableError only when Airtable cannot be used.
    """
    write_map = fields.FieldMap({k: v for k, v in client.field_map.refs.items() if k in fields.PUSHED})
    dropped = _missing_write_fields(client, write_map)
    for start in range(0, len(changes), BATCH_SIZE):
        yield _update_batch(client, changes[start : start + BATCH_SIZE], write_map, dropped)


def _missing_write_fields(client: "ConfigurableAirtableClient", write_map: fields.FieldMap) -> set[str]:
    schema = client.schema()
    if schema is None:
        return set()
    missing = write_map.missing({f.name for f in schema} | {f.id for f in schema})
    if missing:
        logger.error(
            "airtable fields missing, not written",
            extra={
                "missing_fields": fields.describe(missing),
                "table_fields": ", ".join(sorted(f.name for f in schema)),
            },
        )
    return set(missing)


def _update_batch(client, chunk: Sequence[Change], write_map: fields.FieldMap, dropped: set[str]) -> BatchResult:
    ids = [record_id for record_id, _ in chunk]
    try:
        accepted = _write(client, chunk, write_map, dropped)
    except AirtableError as exc:
        if exc.permanent or exc.cause in _UNUSABLE:
            raise
        if len(chunk) == 1:
            return BatchResult(ids=ids, accepted=set(), dropped=frozenset(dropped), refused={ids[0]: exc})
        # Airtable refuses a whole batch for one record: find which, and write the others.
        logger.warning("airtable refused a batch, writing its records one by one", extra={"error": str(exc)})
        accepted, refused = set(), {}
        for change in chunk:
            try:
                accepted |= _write(client, [change], write_map, dropped)
            except AirtableError as one:
                if one.permanent or one.cause in _UNUSABLE:
                    raise
                refused[change[0]] = one
        return BatchResult(ids=ids, accepted=accepted, dropped=frozenset(dropped), refused=refused)
    return BatchResult(ids=ids, accepted=accepted, dropped=frozenset(dropped))


def _write(client, chunk: Sequence[Change], write_map: fields.FieldMap, dropped: set[str]) -> set[str]:
    """One PATCH of up to 10 records; a field Airtable does not know is dropped (for the rest of the
    push) and the request sent again. Returns the ids Airtable wrote; raises AirtableError."""
    while True:
        payload = [
            {
                "id": record_id,
                "fields": fields.airtable_fields({k: v for k, v in values.items() if k not in dropped}, write_map),
            }
            for record_id, values in chunk
        ]
        try:
            written = client.call(functools.partial(client.table.batch_update, payload, typecast=True))
        except AirtableError as exc:
            name = failures.unknown_field(str(exc), exc.error_type)
            logical = next((k for k, v in write_map.refs.items() if v == name and k not in dropped), None)
            if not logical:
                raise
            logger.error(
                "airtable field missing, not written", extra={"missing_fields": fields.describe({logical: name})}
            )
            dropped.add(logical)
            continue
        return {record["id"] for record in written}
