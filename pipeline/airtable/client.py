"""The Airtable client: pyairtable, configured by the `AIRTABLE_*` settings, paced and retried.

Knows nothing of `Lead`: it yields `Record`s (record id, `LeadFields`, raw
fields) and writes logical values through the field map (writing.py, whose
requests go through `call`). It is the only module that raises `AirtableError`
(built by failures.py).
"""

import datetime
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from pyairtable import Api
from pyairtable.formulas import Formula

from pipeline.airtable import failures, fields, filters, pacing, writing
from pipeline.airtable.failures import AirtableCause, AirtableError
from pipeline.airtable.writing import BatchResult

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # Airtable's largest page
FORMULA_ERRORS = frozenset({"INVALID_FILTER_BY_FORMULA", "UNKNOWN_FIELD_NAME"})


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    fields: fields.LeadFields
    raw: Mapping[str, Any]  # as Airtable sent it (text made storable), kept on the lead for people to read


@dataclass(frozen=True, slots=True)
class Listing:
    """The records of one pull, a page at a time; `incremental` is False when every record is listed."""

    pages: Iterator[list[Record]]
    incremental: bool
    field_map: fields.FieldMap  # the map the raw fields were read with (ids resolved to names)


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
                data = self.call(lambda: self.api.get(self.table.base.urls.tables))
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
        sample = self.call(lambda: self.table.all(page_size=PAGE_SIZE, max_records=PAGE_SIZE))
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

    def list_records(self, *, limit: int | None = None, modified_after: datetime.datetime | None = None) -> Listing:
        """The non-blank records (changed after `modified_after`, when given), a page at a time.

        A wrong field name loosens the filter, never stops the read; a base that cannot
        filter by modification time is read whole, said once in the log. Raises
        AirtableError when Airtable cannot be read at all.
        """
        field_map, by_id = self._read_map()
        refs = list(field_map.refs.values())
        field_part = None if by_id else filters.any_filled(refs)
        time_part = None if modified_after is None else filters.modified_after(modified_after)
        refused = False
        while True:
            formula = filters.combined(field_part, time_part)
            pages = self._pages(formula=formula, limit=limit, by_id=by_id)
            try:
                first = next(pages, [])
                break
            except AirtableError as exc:
                if exc.error_type not in FORMULA_ERRORS or formula is None:
                    raise
                if time_part is not None and not filters.names_unknown_fields(str(exc)):
                    logger.warning(
                        "airtable cannot filter by modification time, pulling every record", extra={"error": str(exc)}
                    )
                    time_part = None
                    continue
                if not refused:  # the looser filter leaves out the fields Airtable does not know
                    refused = True
                    missing = self._log_refused_filter(exc, field_map)
                    present = [ref for ref in refs if ref not in missing.values()]
                    field_part = filters.any_filled(present) if present and missing else None
                else:
                    field_part = None
        records = self._kept(first, pages, field_map, limit, python_filter=field_part is None)
        return Listing(pages=records, incremental=time_part is not None, field_map=field_map)

    def iter_records(self, *, limit: int | None = None) -> Iterator[list[Record]]:
        """Every non-blank record, a page at a time (see `list_records`)."""
        yield from self.list_records(limit=limit).pages

    def _kept(self, first, pages, field_map, limit, *, python_filter: bool) -> Iterator[list[Record]]:
        count = 0
        for page in _chained(first, pages):
            records = [_record(r["id"], fields.storable(r["fields"]), field_map) for r in page]
            if python_filter:  # the server could not filter: keep what the primary filter would have kept
                records = [r for r in records if filters.is_filled(r, field_map)]
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
            page = self.call(lambda: next(iterator, None))
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
            named = filters.unknown_field_names(str(exc))
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

    def update_records(self, changes: Sequence[writing.Change]) -> Iterator[BatchResult]:
        """Write logical values to records, 10 per request (see writing.py); raises AirtableError
        only when Airtable cannot be used."""
        return writing.update_records(self, changes)

    # --- errors -------------------------------------------------------------------

    def call(self, do: Callable[[], Any]) -> Any:
        """Run one pyairtable call; every failure comes out as one AirtableError line."""
        try:
            return do()
        except requests.RequestException as exc:
            raise failures.of_request(
                exc, endpoint_url=self.endpoint_url, base_id=self.base_id, table_name=self.table_name
            ) from exc


def _record(record_id: str, raw: Mapping[str, Any], field_map: fields.FieldMap) -> Record:
    return Record(record_id, fields.lead_fields(raw, field_map), raw)


def _chained(first: list, rest: Iterator[list]) -> Iterator[list]:
    if first:
        yield first
    yield from rest
