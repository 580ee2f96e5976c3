"""The `filterByFormula` a pull sends, built with pyairtable.formulas, and the same choice
made in Python when Airtable cannot filter."""

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyairtable.formulas import AND, IS_AFTER, LAST_MODIFIED_TIME, NE, OR, Field, Formula

from pipeline.airtable import fields

if TYPE_CHECKING:
    from pipeline.airtable.client import Record

# Airtable's own words when a formula names a field the table does not have.
_UNKNOWN_FIELD = "Unknown field name"


def any_filled(refs: Sequence[str]) -> Formula:
    """Records where any mapped field has a value: blank rows are left in Airtable."""
    return OR(*[NE(Field(ref), "") for ref in refs])


def modified_after(moment: datetime.datetime) -> Formula:
    """Records a person (or a push) changed after `moment`, by Airtable's clock."""
    return IS_AFTER(LAST_MODIFIED_TIME(), moment)


def combined(*parts: Formula | None) -> Formula | None:
    """Every given part at once; None when there is none (no filter)."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else AND(*present)


def names_unknown_fields(message: str) -> bool:
    """Whether Airtable refused a formula for the field names in it (else for the formula itself)."""
    return _UNKNOWN_FIELD.lower() in message.lower()


def unknown_field_names(message: str) -> str:
    """The part of Airtable's refusal that lists the unknown fields, else ''."""
    return message.partition(_UNKNOWN_FIELD)[2]


def is_filled(record: "Record", field_map: fields.FieldMap) -> bool:
    """What `any_filled` keeps, decided in Python for a server that could not filter."""
    present = [ref for ref in field_map.refs.values() if ref in record.raw]
    if not present:  # no mapped field exists at all: keep any row with something in it
        return any(fields.as_text(value) for value in record.raw.values())
    return any(fields.as_text(record.raw[ref]) for ref in present)
