"""The field map: each logical lead field -> the team's Airtable field (a name or an id).

The map comes from `AIRTABLE_FIELD_<NAME>`; its defaults in settings.py are the
only place an Airtable field name is written. `lead_fields()` is the one
function that reads a raw Airtable record, and `airtable_fields()` the one that
builds one; no other code indexes raw Airtable dicts.

Every cell shape pyairtable documents is read the way a person reading the sheet
would (text, numbers, checkboxes, selects, lookups and rollups, collaborators,
attachments, dates, barcodes, buttons, AI text, formula errors), and never raises.
"""

import datetime
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.utils import timezone
from pyairtable.api.types import is_airtable_error

# Logical field -> the setting that names it in Airtable.
SETTINGS = {
    "email": "AIRTABLE_FIELD_EMAIL",
    "name": "AIRTABLE_FIELD_NAME",
    "job_title": "AIRTABLE_FIELD_JOB_TITLE",
    "company_name": "AIRTABLE_FIELD_COMPANY_NAME",
    "website": "AIRTABLE_FIELD_WEBSITE",
    "company_description": "AIRTABLE_FIELD_COMPANY_DESCRIPTION",
    "email_confidence_level": "AIRTABLE_FIELD_EMAIL_CONFIDENCE_LEVEL",
    "custom_message": "AIRTABLE_FIELD_CUSTOM_MESSAGE",
    "engagement_status": "AIRTABLE_FIELD_ENGAGEMENT_STATUS",
    "date_messaged": "AIRTABLE_FIELD_DATE_MESSAGED",
    "skip_reason": "AIRTABLE_FIELD_SKIP_REASON",
    "reply": "AIRTABLE_FIELD_REPLY",
    "touches": "AIRTABLE_FIELD_TOUCHES",
    "time_zone": "AIRTABLE_FIELD_TIME_ZONE",
}
# The fields the push writes back; the rest are only read.
PUSHED = ("engagement_status", "custom_message", "date_messaged", "skip_reason", "reply", "touches")
# The fields a pull writes to the lead. The skip reason is pushed, never pulled: it is the
# engager's record of the decision it has already logged (a SkipLog), so a value from
# Airtable would leave a skipped lead without its log.
PULLED = (
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
    "time_zone",
)
_FIELD_ID = re.compile(r"^fld[A-Za-z0-9]{14}$")
# A lone UTF-16 half (JSON may carry "\ud83d" alone): neither SQLite nor PostgreSQL can store it.
_SURROGATE = re.compile("[\ud800-\udfff]")


class LeadFields(TypedDict, total=False):
    """A record's values by logical field: text stripped, lists joined, dates parsed."""

    email: str
    name: str
    job_title: str
    company_name: str
    website: str
    company_description: str
    email_confidence_level: str
    custom_message: str
    engagement_status: str
    date_messaged: datetime.date | None
    skip_reason: str
    reply: str
    touches: int  # written only: emails sent to the lead
    time_zone: str


def is_field_id(ref: str) -> bool:
    return bool(_FIELD_ID.match(ref))


@dataclass(frozen=True)
class FieldMap:
    """Logical field -> configured Airtable field (name or `fld…` id); unset fields are left out."""

    refs: Mapping[str, str]

    @classmethod
    def from_settings(cls) -> "FieldMap":
        refs = {logical: getattr(settings, name, "").strip() for logical, name in SETTINGS.items()}
        return cls({logical: ref for logical, ref in refs.items() if ref})

    def resolved(self, id_to_name: Mapping[str, str]) -> "FieldMap":
        """The map with every field id replaced by the field's current name (unknown ids are kept)."""
        return FieldMap({logical: id_to_name.get(ref, ref) for logical, ref in self.refs.items()})

    @property
    def uses_ids_only(self) -> bool:
        return bool(self.refs) and all(is_field_id(ref) for ref in self.refs.values())

    def missing(self, known: set[str]) -> dict[str, str]:
        """Logical field -> configured ref, for every ref that is not among `known` names or ids."""
        return {logical: ref for logical, ref in self.refs.items() if ref not in known}


# Invisible characters that a copy from a web page or a chat leaves around an address.
_AROUND_ADDRESS = "\u200b\u200c\u200d\u2060\ufeff\u00a0"


def describe(refs: Mapping[str, str]) -> str:
    """Logical field -> ref as the settings a person would fix: `AIRTABLE_FIELD_EMAIL='E-mail', …`."""
    return ", ".join(f"{SETTINGS[logical]}={ref!r}" for logical, ref in refs.items())


def lead_fields(record_fields: Mapping[str, Any], field_map: FieldMap) -> LeadFields:
    """The logical values of one record; odd values (lists, numbers, objects) become text, never errors."""
    values = LeadFields()
    for logical, ref in field_map.refs.items():
        raw = record_fields.get(ref)
        raw = addresses(raw) if logical == "email" else raw  # a collaborator in the email field: their address
        if logical == "date_messaged":
            values["date_messaged"] = parse_date(raw)
        elif logical == "email":
            values["email"] = trimmed_address(as_text(raw))
        else:
            values[logical] = as_text(raw)
    return values


def trimmed_address(text: str) -> str:
    """What is around an address removed, never what is inside it.

    Spaces, zero-width characters, a `mailto:` in front and a dot at the end (pasted from
    a sentence) go; `a b@example.com` keeps its space, so the engager skips it as
    `invalid_email` for a person to fix, rather than writing to `ab@example.com`,
    someone else's mailbox.
    """
    previous = None
    while text != previous:  # " mailto: jane@acme.com. " needs more than one round
        previous = text
        text = text.strip().strip(_AROUND_ADDRESS)
        if text[:7].casefold() == "mailto:":
            text = text[7:]
        text = text.removesuffix(".")
    return text


def airtable_fields(values: Mapping[str, Any], field_map: FieldMap) -> dict[str, Any]:
    """The Airtable `fields` dict for logical values; fields without a configured ref are not written."""
    fields: dict[str, Any] = {}
    for logical, value in values.items():
        ref = field_map.refs.get(logical)
        if not ref:
            continue
        if isinstance(value, datetime.date):
            value = value.isoformat()
        fields[ref] = value if value not in ("", None) else None  # None clears the cell
    return fields


def as_text(value: Any) -> str:
    """A cell as one line of text: lists joined, numbers written out in full, objects by what the sheet shows."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):  # a checkbox (Airtable leaves an unticked one out)
        return "yes" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, list | tuple):  # multiple selects, lookups, rollups, attachments, collaborators
        return ", ".join(text for text in (as_text(item) for item in value) if text)
    if isinstance(value, Mapping):
        return _object_text(value)
    return str(value).strip()


def number_text(value: float) -> str:
    """12345678.9 -> '12345678.9', 3.0 -> '3', 1e20 -> '100000000000000000000': never exponent notation."""
    if not math.isfinite(value):
        return ""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")  # repr: the shortest text that reads back as the same number


def _object_text(value: Mapping[str, Any]) -> str:
    if is_airtable_error(value):  # {"error": "#ERROR!"} or {"specialValue": "NaN"}: the cell holds no value
        return ""
    if "state" in value and "isStale" in value:  # AI text; its value is None while empty or failed
        return as_text(value.get("value"))
    if "url" in value and "filename" in value:  # an attachment: the sheet shows its file name
        return as_text(value["filename"])
    if "label" in value:  # a button
        return as_text(value["label"])
    for key in ("name", "email", "text", "value", "url"):  # collaborator (name, else email), barcode, select
        if isinstance(value.get(key), str) and value[key].strip():
            return value[key].strip()
    return json.dumps(value, sort_keys=True, default=str)


def addresses(value: Any) -> Any:
    """For the email field: a collaborator stands for their address, not their name."""
    if isinstance(value, list | tuple):
        return [addresses(item) for item in value]
    if isinstance(value, Mapping) and isinstance(value.get("email"), str):
        return value["email"]
    return value


def parse_date(value: Any) -> datetime.date | None:
    """An Airtable date (`2024-03-01`) or date-time (`2024-03-01T23:30:00.000Z`, the day in TIME_ZONE)."""
    if isinstance(value, list) and value:  # a lookup of a date field
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "T" in text:
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def storable(value: Any) -> Any:
    """`value` (a record's fields, at any depth) with text every database takes: lone surrogates
    become U+FFFD, NUL characters (which PostgreSQL refuses in text and JSON) are removed."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)  # isascii: the common case, fast
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):  # JSON columns refuse NaN and Infinity
        return None
    return value
