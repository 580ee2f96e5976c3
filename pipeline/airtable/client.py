"""The Airtable client: pyairtable, configured by the `AIRTABLE_*` settings, paced and retried.

Knows nothing of `Lead`: it yields `Record`s (record id, `LeadFields`, raw
fields) and writes logical values through the field map. It is the only module
that raises `AirtableError` (built by failures.py).
"""

import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from pyairtable import Api
from pyairtable.formulas import NE, OR, Field, Formula

from pipeline.airtable import failures, fields, pacing
from pipeline.airtable.failures import AirtableCause, AirtableError

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # Airtable's largest page
BATCH_SIZE = 10  # Airtable's largest batch update
FORMULA_ERRORS = frozenset({"INVALID_FILTER_BY_FORMULA", "UNKNOWN_FIELD_NAME"})
# Failures after which no later batch of a push can do better: stop the push.
_UNUSABLE = frozenset({AirtableCause.UNREACHABLE, AirtableCause.RATE_LIMITED, AirtableCause.SERVER})


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    fields: fields.LeadFields
    raw: Mapping[str, Any]  # as Airtable sent it, kept on the lead for people to read


@dataclass(frozen=True, slots=True)
class TableField:
    id: str
    name: str
    type: str


class ConfigurableAirtableClient:
    """One table of one base, read and written through the field map."""

    def __init__(
        self,
        *,
        api_key: str,
        base_id: str,
        table_name: str,
        field_map: fields.FieldMap,
        endpoint_url: str = "https://api.airtable.com",
        timeout: float = 30.0,
        pacer: pacing.Pacer | None = None,
        retries: int = 5,
        retry_429_seconds: float = 30.0,
        retry_backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_id, self.table_name, self.field_map = base_id, table_name, field_map
        self.endpoint_url = endpoint_url
        self.stats = pacing.Stats()
        self.api = Api(api_key, endpoint_url=endpoint_url, timeout=(timeout, timeout), retry_strategy=None)
        adapter = pacing.PacedRetryingAdapter(
            pacer=pacer or pacing.NoPacing(),
            retries=retries,
            wait_429=retry_429_seconds,
            backoff=retry_backoff_seconds,
            sleep=sleep,
            stats=self.stats,
        )
        self.api.session.mount("https://", adapter)
        self.api.session.mount("http://", adapter)
        self.table = self.api.table(base_id, table_name)
        self._schema: list[TableField] | None = None
        self._schema_loaded = False

    @classmethod
    def from_settings(cls) -> "ConfigurableAirtableClient":
        """A client for the configured table; AirtableError(cause=CONFIG) names any missing variable."""
        missing = [
            name
            for name in ("AIRTABLE_API_KEY", "AIRTABLE_BASE_ID", "AIRTABLE_TABLE_NAME")
            if not getattr(settings, name)
        ]
        if missing:
            raise AirtableError(
                f"Airtable is not configured: set {', '.join(missing)}", cause=AirtableCause.CONFIG, permanent=True
            )
        return cls(
            api_key=settings.AIRTABLE_API_KEY,
            base_id=settings.AIRTABLE_BASE_ID,
            table_name=settings.AIRTABLE_TABLE_NAME,
            field_map=fields.FieldMap.from_settings(),
            endpoint_url=settings.AIRTABLE_ENDPOINT_URL,
            timeout=settings.AIRTABLE_TIMEOUT,
            pacer=pacing.for_base(settings.AIRTABLE_ENDPOINT_URL, settings.AIRTABLE_BASE_ID),
            retries=settings.AIRTABLE_MAX_RETRIES,
            retry_429_seconds=settings.AIRTABLE_RETRY_429_SECONDS,
            retry_backoff_seconds=settings.AIRTABLE_RETRY_BACKOFF_SECONDS,
        )

    # --- schema -------------------------------------------------------------------

    def schema(self) -> list[TableField] | None:
        """The table's fields from the metadata API, or None when the token may not read schemas."""
        if not self._schema_loaded:
            try:
                data = self._call(lambda: self.api.get(self.table.base.urls.tables))
            except AirtableError as exc:
                if exc.cause not in {AirtableCause.FORBIDDEN, AirtableCause.NOT_FOUND}:
                    raise
                logger.info("airtable schema not readable", extra={"reason": str(exc)})
                data = None
            self._schema = None if data is None else self._table_fields(data)
            self._schema_loaded = True
        return self._schema

    def _table_fields(self, data: Mapping[str, Any]) -> list[TableField] | None:
        for table in data.get("tables", []):
            if self.table_name in (table.get("id"), table.get("name")):
                return [TableField(f["id"], f["name"], f.get("type", "")) for f in table.get("fields", [])]
        return None

    def known_field_names(self) -> tuple[set[str], str]:
        """The table's real field names (and ids), and where they came from: schema, else sample records."""
        schema = self.schema()
        if schema is not None:
            return {f.name for f in schema} | {f.id for f in schema}, "schema"
        sample = self._call(lambda: self.table.all(page_size=PAGE_SIZE, max_records=PAGE_SIZE))
        return {name for record in sample or [] for name in record["fields"]}, "sample records"

    def _read_map(self) -> tuple[fields.FieldMap, bool]:
        """The field map to read with, and whether to ask for fields by id."""
        if not any(fields.is_field_id(ref) for ref in self.field_map.refs.values()):
            return self.field_map, False
        schema = self.schema()
        if schema is not None:  # read by name, so raw_fields stay readable; ids follow renames
            return self.field_map.resolved({f.id: f.name for f in schema}), False
        return self.field_map, self.field_map.uses_ids_only

    # --- reading ------------------------------------------------------------------

    def iter_records(self, *, limit: int | None = None) -> Iterator[list[Record]]:
        """Every non-blank record, a page at a time; a wrong field name loosens the filter, never stops the read.

        Raises AirtableError when Airtable cannot be read at all.
        """
        field_map, by_id = self._read_map()
        refs = list(field_map.refs.values())
        tries: list[Formula | None] = [] if by_id else [_any_filled(refs)]
        refused = False
        pages = None
        while pages is None:
            formula = tries.pop(0) if tries else None
            pages = self._pages(formula=formula, limit=limit, by_id=by_id)
            try:
                first = next(pages, [])
            except AirtableError as exc:
                if exc.error_type not in FORMULA_ERRORS or formula is None:
                    raise
                if not refused:  # the looser filter leaves out the fields Airtable does not know
                    refused = True
                    missing = self._log_refused_filter(exc, field_map)
                    present = [ref for ref in refs if ref not in missing.values()]
                    tries = [_any_filled(present)] if present and missing else []
                pages = None
        yield from self._kept(first, pages, field_map, limit, python_filter=formula is None)

    def _kept(self, first, pages, field_map, limit, *, python_filter: bool) -> Iterator[list[Record]]:
        count = 0
        for page in _chain(first, pages):
            records = [Record(r["id"], fields.lead_fields(r["fields"], field_map), r["fields"]) for r in page]
            if python_filter:  # the server could not filter: keep what the primary filter would have kept
                records = [r for r in records if _is_filled(r, field_map)]
            if limit is not None:
                records = records[: limit - count]
            count += len(records)
            if records:
                yield records
            if limit is not None and count >= limit:
                return

    def _pages(self, *, formula: Formula | None, limit: int | None, by_id: bool) -> Iterator[list[dict]]:
        options: dict[str, Any] = {"page_size": PAGE_SIZE}
        if by_id:
            options["use_field_ids"] = True
        if formula is not None:
            options["formula"] = formula
            if limit is not None:
                options["max_records"] = limit
        iterator = self.table.iterate(**options)
        while True:
            page = self._call(lambda: next(iterator, None))
            if page is None:
                return
            yield page

    def _log_refused_filter(self, exc: AirtableError, field_map: fields.FieldMap) -> dict[str, str]:
        """Log the refusal with the table's real fields; returns the configured fields it lacks."""
        try:
            known, source = self.known_field_names()
        except AirtableError:
            known, source = set(), "unknown"
        missing = field_map.missing(known) if known else {}
        if source != "schema":
            # Records leave empty cells out, so a field absent from the sample may still exist:
            # count as missing only what Airtable itself named as unknown.
            named = str(exc).partition("Unknown field name")[2]
            missing = {logical: ref for logical, ref in missing.items() if ref in named}
        logger.error(
            "airtable refused the filter",
            extra={
                "error": str(exc),
                "missing_fields": fields.describe(missing),
                "table_fields": ", ".join(sorted(name for name in known if not fields.is_field_id(name))),
                "fields_from": source,
            },
        )
        return missing

    def count_records(self) -> int:
        """How many records the table has (one request per 100 records)."""
        return sum(len(page) for page in self._pages(formula=None, limit=None, by_id=False))

    # --- writing ------------------------------------------------------------------

    def update_records(self, changes: Sequence[tuple[str, Mapping[str, Any]]]) -> Iterator["BatchResult"]:
        """Write logical values to records, 10 per request; yields what Airtable accepted, batch by batch.

        A batch Airtable refuses is reported, not raised; AirtableError only when Airtable cannot be used.
        """
        write_map = fields.FieldMap({k: v for k, v in self.field_map.refs.items() if k in fields.PUSHED})
        dropped = self._missing_write_fields(write_map)
        for start in range(0, len(changes), BATCH_SIZE):
            chunk = changes[start : start + BATCH_SIZE]
            yield self._update_batch(chunk, write_map, dropped)

    def _missing_write_fields(self, write_map: fields.FieldMap) -> set[str]:
        schema = self.schema()
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

    def _update_batch(self, chunk, write_map: fields.FieldMap, dropped: set[str]) -> "BatchResult":
        ids = [record_id for record_id, _ in chunk]
        while True:
            payload = [
                {
                    "id": record_id,
                    "fields": fields.airtable_fields({k: v for k, v in values.items() if k not in dropped}, write_map),
                }
                for record_id, values in chunk
            ]
            try:
                written = self._call(functools.partial(self.table.batch_update, payload, typecast=True))
            except AirtableError as exc:
                name = failures.unknown_field(str(exc), exc.error_type)
                logical = next((k for k, v in write_map.refs.items() if v == name and k not in dropped), None)
                if logical:  # drop the unknown field and write the rest
                    logger.error(
                        "airtable field missing, not written",
                        extra={"missing_fields": fields.describe({logical: name})},
                    )
                    dropped.add(logical)
                    continue
                if exc.permanent or exc.cause in _UNUSABLE:
                    raise
                logger.error("airtable refused a batch", extra={"error": str(exc), "records": len(ids)})
                return BatchResult(ids=ids, accepted=set(), dropped=frozenset(dropped), error=str(exc))
            return BatchResult(ids=ids, accepted={r["id"] for r in written}, dropped=frozenset(dropped))

    # --- errors -------------------------------------------------------------------

    def _call(self, do: Callable[[], Any]) -> Any:
        """Run one pyairtable call; every failure comes out as one AirtableError line."""
        try:
            return do()
        except requests.RequestException as exc:
            raise failures.of_request(
                exc, endpoint_url=self.endpoint_url, base_id=self.base_id, table_name=self.table_name
            ) from exc


@dataclass(frozen=True, slots=True)
class BatchResult:
    ids: list[str]
    accepted: set[str]
    dropped: frozenset[str] = field(default_factory=frozenset)  # logical fields not written (missing in Airtable)
    error: str = ""


def _any_filled(refs: Sequence[str]) -> Formula:
    """Records where any mapped field has a value: blank rows are left in Airtable."""
    return OR(*[NE(Field(ref), "") for ref in refs])


def _is_filled(record: Record, field_map: fields.FieldMap) -> bool:
    present = [ref for ref in field_map.refs.values() if ref in record.raw]
    if not present:  # no mapped field exists at all: keep any row with something in it
        return any(fields.as_text(value) for value in record.raw.values())
    return any(fields.as_text(record.raw[ref]) for ref in present)


def _chain(first: list, rest: Iterator[list]) -> Iterator[list]:
    if first:
        yield first
    yield from rest
