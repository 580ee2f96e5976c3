from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pipeline import airtable
from pipeline.airtable import check as table_check
from pipeline.airtable import fields


class Command(BaseCommand):
    help = "Show the Airtable table's fields (with ids and types), the field map, and what is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = table_check.check()
        except airtable.AirtableError as exc:
            raise CommandError(str(exc)) from exc
        write = self.stdout.write
        if report.schema_readable:
            write("Table fields (id, type, name):")
        else:
            write("Table fields seen in records (the token may not read the schema: no ids or types):")
        for field in report.fields:
            write(f"  {field.id or '-':<17}  {field.type or '-':<16}  {field.name}")
        write("Field map:")
        for logical, (ref, found) in report.mapping.items():
            where = f"{found.name} ({found.id or 'id unknown'})" if found else "MISSING"
            write(f"  {fields.SETTINGS[logical]}={ref!r} -> {where}")
        write(f"Unmapped table fields: {', '.join(report.unmapped) or 'none'}")
        write(f"Records: {report.record_count}")
        if report.missing:
            raise CommandError(f"Mapped fields missing from the table: {fields.describe(report.missing)}")
