"""The field map held against the table, for `manage.py airtable_check`: the table's fields,
where each mapped field points, what is missing or unmapped, and the record count."""

from dataclasses import dataclass

from pipeline.airtable import client as airtable


@dataclass(frozen=True, slots=True)
class TableReport:
    """What `airtable_check` prints: the table's fields, the mapping, what is missing or unmapped."""

    # From sample records, without ids or types, when the token may not read the schema.
    fields: list[airtable.TableField]
    schema_readable: bool
    mapping: dict[str, tuple[str, airtable.TableField | None]]  # logical -> (configured ref, the field it found)
    missing: dict[str, str]  # logical -> configured ref not found in the table
    unmapped: list[str]  # table fields no setting points to
    record_count: int


def check(client: airtable.ConfigurableAirtableClient | None = None) -> TableReport:
    """Compare the field map with the table; raises AirtableError when the table cannot be read."""
    client = client or airtable.ConfigurableAirtableClient.from_settings()
    schema = client.schema()
    count = client.count_records()
    if schema is None:
        known, _ = client.known_field_names()
        table_fields = [airtable.TableField("", name, "") for name in sorted(known)]
    else:
        table_fields = schema
    lookup = {f.id: f for f in table_fields if f.id} | {f.name: f for f in table_fields}
    mapping = {logical: (ref, lookup.get(ref)) for logical, ref in client.field_map.refs.items()}
    mapped = {found.name for _, found in mapping.values() if found}
    return TableReport(
        fields=table_fields,
        schema_readable=schema is not None,
        mapping=mapping,
        missing={logical: ref for logical, (ref, found) in mapping.items() if found is None},
        unmapped=[f.name for f in table_fields if f.name not in mapped],
        record_count=count,
    )
