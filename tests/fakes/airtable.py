"""A fake Airtable: real HTTP on 127.0.0.1, one base with one table in memory.

It speaks the parts of the REST API the client uses, the way Airtable does:
pages of 100 with an `offset`, `filterByFormula` (the forms pyairtable.formulas
writes: {field}, 'text', numbers, = != < > <= >=, &, AND/OR/NOT, and the
functions in `_FUNCTIONS`, among them LAST_MODIFIED_TIME(), DATETIME_PARSE()
and IS_AFTER() over each record's last-modified time), 422 for a formula it does
not know or that names unknown fields, 5 requests/s per base (a sliding
one-second window) answered with 429, batch PATCH of at most 10 records (422
ROW_DOES_NOT_EXIST for a deleted one), a bearer token, and the metadata schema
with field ids. Its clock may run apart from ours (`clock_offset`). Faults are
switched on from the test: `fail_next(500)`, `deny_schema()`,
`rename_field(...)`, `refuse_function("LAST_MODIFIED_TIME")`.
"""

import datetime
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "patFakeToken0001.0123456789abcdef"
BASE_ID = "appFakeBase000001"
TABLE_ID = "tblFakeTable00001"
TABLE_NAME = "Leads"

DEFAULT_FIELDS = [
    ("Name", "singleLineText"),
    ("Email", "email"),
    ("Job Title", "singleLineText"),
    ("Company Name", "singleLineText"),
    ("Website", "url"),
    ("Company Description", "multilineText"),
    ("Email Confidence Level", "singleSelect"),
    ("Custom Message", "multilineText"),
    ("Engagement Status", "singleSelect"),
    ("Date Messaged", "date"),
]
_ids = itertools.count(1)


def record_fields(n: int) -> dict[str, Any]:
    """A plausible lead record's fields, by the default names."""
    return {
        "Name": f"Person {n}",
        "Email": f"person{n}@company{n}.example",
        "Job Title": "Head of Sales",
        "Company Name": f"Company {n}",
        "Website": f"https://company{n}.example",
        "Email Confidence Level": "High",
        "Engagement Status": "New",
    }


def demo_table(count: int = 5) -> list[dict[str, Any]]:
    return [record_fields(n) for n in range(1, count + 1)]


class FakeAirtable:
    """Use as a context manager; `url` is the endpoint, `records` the table's records by field name."""

    def __init__(
        self,
        table: Iterable[Mapping[str, Any]] = (),
        *,
        fields: Iterable[tuple[str, str]] = DEFAULT_FIELDS,
        token: str = TOKEN,
        base_id: str = BASE_ID,
        table_name: str = TABLE_NAME,
        rate_limit: int | None = 5,
        penalty_seconds: float = 0.0,
        modified: datetime.datetime | None = None,
    ) -> None:
        """`modified`: the last-modified time of the records of `table` (default: now)."""
        self.token, self.base_id, self.table_name = token, base_id, table_name
        self.rate_limit = rate_limit  # requests per second per base; None: no limit
        self.penalty_seconds = penalty_seconds  # Airtable makes a client that went over wait 30 s
        self.clock_offset = 0.0  # seconds Airtable's clock is ahead of ours (negative: behind)
        self.refused_functions: set[str] = set()  # formula functions answered as unknown
        self.formulas: list[str] = []  # every filterByFormula received
        self.refused_records: dict[str, str] = {}  # record id -> why a write to it is refused
        self._trash: dict[str, dict[str, Any]] = {}
        self._version = 0  # bumped by every write
        self.fields: list[dict[str, str]] = []  # schema: id, name, type
        for name, kind in fields:
            self.add_field(name, kind)
        # {"id", "createdTime", "modified": datetime (Airtable's clock), "cells": {field id: value}}
        self._rows: list[dict[str, Any]] = []
        for fields_by_name in table:
            self.add_record(fields_by_name, modified=modified)
        self.lock = threading.Lock()
        self.schema_allowed = True
        self.requests: list[tuple[str, str]] = []  # (method, path?query)
        self.arrivals: deque[float] = deque()
        self.rate_limited = 0  # 429s answered
        self.patched_batches: list[int] = []
        self._faults: deque[int] = deque()
        self._penalty_until = 0.0
        self._filtered: tuple[object, list] = (None, [])

    # --- the table --------------------------------------------------------------------

    def add_field(self, name: str, kind: str = "singleLineText") -> str:
        field_id = f"fld{next(_ids):014d}"
        self.fields.append({"id": field_id, "name": name, "type": kind})
        return field_id

    def add_record(self, fields_by_name: Mapping[str, Any], *, modified: datetime.datetime | None = None) -> str:
        record_id = f"rec{next(_ids):014d}"
        cells = {self._field(name)["id"]: value for name, value in fields_by_name.items()}
        row = {"id": record_id, "createdTime": "2024-01-01T00:00:00.000Z", "modified": modified or self.now()}
        self._rows.append({**row, "cells": cells})
        self._version += 1
        return record_id

    def edit_record(self, record_id: str, fields_by_name: Mapping[str, Any]) -> None:
        """As a person editing cells in the sheet: the record's last-modified time moves to now."""
        row = self._row(record_id)
        for name, value in fields_by_name.items():
            row["cells"][self._field(name)["id"]] = value
        row["modified"] = self.now()
        self._version += 1

    def delete_record(self, record_id: str) -> None:
        """As a person deleting the row: it goes to the base's trash, from where it can be restored."""
        row = self._row(record_id)
        self._rows.remove(row)
        self._trash[record_id] = row
        self._version += 1

    def restore_record(self, record_id: str) -> None:
        """Back from the trash, with its id, its cells and a new last-modified time."""
        row = self._trash.pop(record_id)
        row["modified"] = self.now()
        self._rows.append(row)
        self._version += 1

    def refuse_record(self, record_id: str, message: str = 'Field "Date Messaged" cannot accept the value') -> None:
        """A write to this record is answered 422 INVALID_VALUE_FOR_COLUMN, as for a value Airtable will not take."""
        self.refused_records[record_id] = message

    def now(self) -> datetime.datetime:
        """Airtable's clock."""
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.clock_offset)

    def refuse_function(self, name: str) -> None:
        """As a base (or a proxy) that cannot evaluate `name` in a formula: 422 INVALID_FILTER_BY_FORMULA."""
        self.refused_functions.add(name)

    def _row(self, record_id: str) -> dict[str, Any]:
        return next(row for row in self._rows if row["id"] == record_id)

    def field_id(self, name: str) -> str:
        return self._field(name)["id"]

    def rename_field(self, old: str, new: str) -> None:
        self._field(old)["name"] = new

    def rename_all(self, prefix: str = "Champ ") -> dict[str, str]:
        """Renames every field (spaces, punctuation, unicode); returns old name -> new name."""
        renames = {f["name"]: f"{prefix}{f['name']} «ô» {{x}} 'q' \"d\" a\\b" for f in self.fields}
        for old, new in renames.items():
            self.rename_field(old, new)
        return renames

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record as the API shows it: {"id", "fields": {name: value}} without empty cells."""
        return [self._as_api(row, by_id=False) for row in self._rows]

    def record(self, record_id: str) -> dict[str, Any]:
        return next(r["fields"] for r in self.records if r["id"] == record_id)

    # --- faults -----------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1) -> None:
        self._faults.extend([status] * times)

    def deny_schema(self) -> None:
        """As for a token without the schema.bases:read scope."""
        self.schema_allowed = False

    @property
    def count_429(self) -> int:
        return self.rate_limited

    # --- server -----------------------------------------------------------------------

    def __enter__(self) -> "FakeAirtable":
        fake = self

        class Handler(_Handler):
            airtable = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _field(self, ref: str) -> dict[str, str]:
        for f in self.fields:
            if ref in (f["id"], f["name"]):
                return f
        raise KeyError(ref)

    def _as_api(self, row: dict[str, Any], *, by_id: bool) -> dict[str, Any]:
        names = {f["id"]: f["id"] if by_id else f["name"] for f in self.fields}
        cells = {names[k]: v for k, v in row["cells"].items() if k in names and v not in ("", None, [], False)}
        return {"id": row["id"], "createdTime": row["createdTime"], "fields": cells}

    def _admit(self) -> int | None:
        """The status to answer instead of serving (fault, rate limit), or None."""
        now = time.monotonic()
        with self.lock:
            if self._faults:
                return self._faults.popleft()
            if self.rate_limit is None:
                return None
            if now < self._penalty_until:
                self.rate_limited += 1
                return 429
            while self.arrivals and self.arrivals[0] <= now - 1.0:
                self.arrivals.popleft()
            if len(self.arrivals) >= self.rate_limit:
                self.rate_limited += 1
                self._penalty_until = now + self.penalty_seconds
                return 429
            self.arrivals.append(now)
            return None

    # --- the API --------------------------------------------------------------------------

    def list_records(self, params: Mapping[str, list[str]]) -> tuple[int, dict]:
        by_id = params.get("returnFieldsByFieldId", ["false"])[0].lower() in ("1", "true")
        formula = params.get("filterByFormula", [""])[0]
        rows = self._rows
        if formula and "offset" not in params:
            self.formulas.append(formula)
        if formula:
            # One evaluation per listing, not per page: the table does not change between pages.
            key = (formula, self._version, tuple(f["name"] for f in self.fields))
            if self._filtered[0] != key:
                try:
                    expression = _Parser(formula, self).parse()
                    self._filtered = (key, [row for row in rows if _truthy(expression(row))])
                except FormulaError as exc:
                    return 422, {"error": {"type": "INVALID_FILTER_BY_FORMULA", "message": str(exc)}}
            rows = self._filtered[1]
        if "maxRecords" in params:
            rows = rows[: int(params["maxRecords"][0])]
        size = min(int(params.get("pageSize", ["100"])[0]), 100)
        start = int(params.get("offset", ["0"])[0].removeprefix("itr") or 0)
        page = rows[start : start + size]
        body: dict[str, Any] = {"records": [self._as_api(row, by_id=by_id) for row in page]}
        if start + size < len(rows):
            body["offset"] = f"itr{start + size}"
        return 200, body

    def update_records(self, payload: Mapping[str, Any]) -> tuple[int, dict]:
        records = payload.get("records", [])
        if len(records) > 10:
            return 422, {"error": {"type": "INVALID_RECORDS", "message": "You can update at most 10 records"}}
        rows = {row["id"]: row for row in self._rows}
        for record in records:
            if record.get("id") not in rows:  # Airtable answers a deleted record so, for the whole batch
                message = f"Record ID {record.get('id')} does not exist in this table"
                return 422, {"error": {"type": "ROW_DOES_NOT_EXIST", "message": message}}
            if record["id"] in self.refused_records:
                message = self.refused_records[record["id"]]
                return 422, {"error": {"type": "INVALID_VALUE_FOR_COLUMN", "message": message}}
            for name in record.get("fields", {}):
                try:
                    self._field(name)
                except KeyError:
                    return 422, {"error": {"type": "UNKNOWN_FIELD_NAME", "message": f'Unknown field name: "{name}"'}}
        self.patched_batches.append(len(records))
        self._version += 1
        by_id = bool(payload.get("returnFieldsByFieldId"))
        for record in records:
            row = rows[record["id"]]
            for name, value in record["fields"].items():
                row["cells"][self._field(name)["id"]] = value
            row["modified"] = self.now()
        return 200, {"records": [self._as_api(rows[r["id"]], by_id=by_id) for r in records]}

    def schema(self) -> tuple[int, dict]:
        if not self.schema_allowed:
            return 403, {"error": {"type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "message": "Invalid permissions"}}
        table = {"id": TABLE_ID, "name": self.table_name, "primaryFieldId": self.fields[0]["id"], "fields": self.fields}
        return 200, {"tables": [table]}


class _Handler(BaseHTTPRequestHandler):
    airtable: FakeAirtable
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs: 40 ms a page

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        fake = self.airtable
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        fake.requests.append((method, self.path))
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            return self._answer(
                401, {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}
            )
        status = fake._admit()
        if status == 429:
            return self._answer(429, {"errors": [{"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded"}]})
        if status is not None:
            return self._answer(status, {"error": {"type": "SERVER_ERROR", "message": "Injected fault"}})
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        params = parse_qs(url.query)
        with fake.lock:
            self._answer(*self._route(method, parts, params, body))

    def _route(self, method: str, parts: list[str], params: dict, body: dict) -> tuple[int, dict]:
        fake = self.airtable
        if parts[:3] == ["v0", "meta", "bases"] and parts[4:] == ["tables"] and method == "GET":
            if parts[3] != fake.base_id:
                return 404, {"error": "NOT_FOUND"}
            return fake.schema()
        if len(parts) < 3 or parts[0] != "v0":
            return 404, {"error": "NOT_FOUND"}
        if parts[1] != fake.base_id:
            return 404, {"error": "NOT_FOUND"}
        if parts[2] not in (fake.table_name, TABLE_ID):
            return 404, {"error": {"type": "TABLE_NOT_FOUND", "message": f"Could not find table {parts[2]}"}}
        if method == "GET" and len(parts) == 3:
            return fake.list_records(params)
        if method == "POST" and parts[3:] == ["listRecords"]:
            merged = {k: [str(v).lower() if isinstance(v, bool) else str(v)] for k, v in body.items()}
            return fake.list_records(merged)
        if method == "PATCH" and len(parts) == 3:
            return fake.update_records(body)
        return 404, {"error": "NOT_FOUND"}

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# --- formulas ---------------------------------------------------------------------------


class FormulaError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>\{(?:\\\}|[^}])*\})
      | (?P<string>'(?:\\.|[^\\'])*'|"(?:\\.|[^\\"])*")
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<op>!=|<=|>=|=|<|>|&|\(|\)|,)
      | (?P<name>[A-Z_][A-Z0-9_]*)
    )""",
    re.VERBOSE,
)


def _parse_datetime(text: Any) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(_text(text).replace("Z", "+00:00"))
    except ValueError:
        raise FormulaError(f"The formula for filtering records is invalid: DATETIME_PARSE({text!r})") from None


def _is_after(a: Any, b: Any) -> bool:
    return isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime) and a > b


# Functions whose value depends on the record itself rather than on its cells.
_ROW_FUNCTIONS = {"LAST_MODIFIED_TIME": lambda row: row["modified"]}
_FUNCTIONS = {
    "AND": lambda *a: all(_truthy(x) for x in a),
    "OR": lambda *a: any(_truthy(x) for x in a),
    "NOT": lambda a: not _truthy(a),
    "BLANK": lambda: None,
    "TRUE": lambda: True,
    "FALSE": lambda: False,
    "LEN": lambda a: len(_text(a)),
    "LOWER": lambda a: _text(a).lower(),
    "TRIM": lambda a: _text(a).strip(),
    "DATETIME_PARSE": _parse_datetime,
    "IS_AFTER": _is_after,
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _truthy(value: Any) -> bool:
    return bool(value) and value != "0"


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, int | float) and isinstance(right, int | float):
        a, b = left, right
    else:
        a, b = _text(left), _text(right)
    return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


class _Parser:
    """Formula text -> a function of a row; unknown fields and functions raise as Airtable words it."""

    def __init__(self, text: str, fake: FakeAirtable) -> None:
        self.fake = fake
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if not match:
                raise FormulaError(
                    f"The formula for filtering records is invalid: near {text[position : position + 10]!r}"
                )
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            position = match.end()
        self.position = 0
        self.unknown: list[str] = []

    def parse(self):
        expression = self._comparison()
        if self.position != len(self.tokens):
            raise FormulaError("The formula for filtering records is invalid: Invalid formula")
        if self.unknown:
            names = ", ".join(self.unknown)
            raise FormulaError(f"The formula for filtering records is invalid: Unknown field names: {names}")
        return expression

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (value is not None and token[1] != value):
            raise FormulaError("The formula for filtering records is invalid: Invalid formula")
        self.position += 1
        return token

    def _comparison(self):
        left = self._concatenation()
        token = self._peek()
        if token and token[0] == "op" and token[1] in ("=", "!=", "<", ">", "<=", ">="):
            self._take()
            right = self._concatenation()
            return lambda row, left=left, right=right, op=token[1]: _compare(op, left(row), right(row))
        return left

    def _concatenation(self):
        left = self._atom()
        while (token := self._peek()) and token[1] == "&":
            self._take()
            right = self._atom()
            left = lambda row, a=left, b=right: _text(a(row)) + _text(b(row))  # noqa: E731 - a tiny closure
        return left

    def _atom(self):
        kind, value = self._take()
        if kind == "field":
            name = value[1:-1].replace("\\}", "}")  # pyairtable escapes only the closing brace
            try:
                field_id = self.fake._field(name)["id"]
            except KeyError:
                self.unknown.append(name)
                field_id = None
            return lambda row: row["cells"].get(field_id)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", value[1:-1])
            return lambda row: text
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return lambda row: number
        if kind == "op" and value == "(":
            inner = self._comparison()
            self._take(")")
            return inner
        if kind == "name" and value in self.fake.refused_functions:
            raise FormulaError(f"The formula for filtering records is invalid: Unknown function {value}")
        if kind == "name" and value in _ROW_FUNCTIONS:
            self._take("(")
            self._take(")")
            return _ROW_FUNCTIONS[value]
        if kind == "name" and value in _FUNCTIONS:
            self._take("(")
            args = []
            while (token := self._peek()) and token[1] != ")":
                args.append(self._comparison())
                if (token := self._peek()) and token[1] == ",":
                    self._take()
            self._take(")")
            function = _FUNCTIONS[value]
            return lambda row: function(*(arg(row) for arg in args))
        raise FormulaError(f"The formula for filtering records is invalid: Unknown function or token {value!r}")


def use(fake: FakeAirtable, settings, var_dir) -> FakeAirtable:
    """Point the app's settings at `fake`, with short retry waits and the pacer's file under `var_dir`."""
    settings.AIRTABLE_ENDPOINT_URL = fake.url
    settings.AIRTABLE_API_KEY = fake.token
    settings.AIRTABLE_BASE_ID = fake.base_id
    settings.AIRTABLE_TABLE_NAME = fake.table_name
    settings.AIRTABLE_RETRY_429_SECONDS = 0.05
    settings.AIRTABLE_RETRY_BACKOFF_SECONDS = 0.01
    settings.AIRTABLE_REQUESTS_PER_SECOND = 5.0
    settings.REDIS_URL = ""
    settings.VAR_DIR = var_dir
    return fake


def renamed_settings(settings, renames: Mapping[str, str]) -> dict[str, str]:
    """The AIRTABLE_FIELD_* values for a table renamed by `rename_all` (old name -> new): setting -> new name."""
    from pipeline.airtable.fields import SETTINGS  # here: the fake itself runs before Django is set up

    current = {name: getattr(settings, name) for name in SETTINGS.values()}
    return {name: renames[field] for name, field in current.items() if field in renames}
