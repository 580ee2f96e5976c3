"""What a pull stores from each kind of Airtable cell: every shape pyairtable documents, read as a
person reading the sheet would; text no database could store, cleaned; and what the scraper found."""

import datetime

import pytest

from leads.models import Lead
from pipeline.airtable import sync
from tests.fakes.airtable import FakeAirtable, use

pytestmark = pytest.mark.django_db

ADA = {"id": "usrAda0000000001", "email": "ada@engines.example", "name": "Ada Lovelace"}
ATTACHMENT = {"id": "att0000000000001", "url": "https://dl.example/f/logo.png", "filename": "logo.png", "size": 1}

# Shape -> (the field it sits in, the cell as Airtable's API sends it, what the lead holds).
SHAPES = {
    "single line text": ("Job Title", "  Head of Sales ", "Head of Sales"),
    "long text": ("Company Description", "Engines.\nAnd looms.\n", "Engines.\nAnd looms."),
    "whole number": ("Job Title", 42, "42"),
    "decimal number": ("Job Title", 12345678.9, "12345678.9"),
    "large number": ("Job Title", 1e20, "100000000000000000000"),
    "small number": ("Job Title", 0.000015, "0.000015"),
    "whole number sent as a float": ("Job Title", 3.0, "3"),
    "checkbox": ("Job Title", True, "yes"),
    "single select": ("Email Confidence Level", "Verified", "Verified"),
    "multiple selects": ("Job Title", ["Founder", "CEO"], "Founder, CEO"),
    "lookup of text": ("Company Name", ["Analytical Engines Ltd"], "Analytical Engines Ltd"),
    "rollup of numbers": ("Job Title", [1, 2.5], "1, 2.5"),
    "collaborator": ("Name", ADA, "Ada Lovelace"),
    "collaborator with an address only": ("Name", {"id": "usrX", "email": "x@y.example"}, "x@y.example"),
    "collaborator in the email field": ("Email", ADA, "ada@engines.example"),
    "attachments": ("Job Title", [ATTACHMENT], "logo.png"),
    "date in a text field": ("Job Title", "2024-03-01", "2024-03-01"),
    "button": ("Website", {"label": "engines.example", "url": "https://engines.example"}, "engines.example"),
    "barcode": ("Job Title", {"text": "0123456", "type": "upce"}, "0123456"),
    "AI text": ("Company Description", {"state": "generated", "isStale": False, "value": "Engines."}, "Engines."),
    "AI text that failed": (
        "Company Description",
        {"state": "error", "errorType": "x", "isStale": False, "value": None},
        "",
    ),
    "formula error": ("Job Title", {"error": "#ERROR!"}, ""),
    "formula special value": ("Job Title", {"specialValue": "NaN"}, ""),
    "date": ("Date Messaged", "2024-03-01", datetime.date(2024, 3, 1)),
    "date and time (the day in TIME_ZONE)": ("Date Messaged", "2024-03-01T23:30:00.000Z", datetime.date(2024, 3, 2)),
    "lookup of a date": ("Date Messaged", ["2024-03-01"], datetime.date(2024, 3, 1)),
}
_COLUMNS = {
    "Job Title": "job_title",
    "Company Description": "company_description",
    "Email Confidence Level": "email_confidence_level",
    "Company Name": "company_name",
    "Name": "name",
    "Email": "email",
    "Website": "website",
    "Date Messaged": "date_messaged",
}


def test_every_cell_shape_reads_as_the_sheet_shows_it(settings, tmp_path):
    settings.TIME_ZONE = "Europe/Paris"
    with FakeAirtable() as fake:
        use(fake, settings, tmp_path)
        ids = {
            shape: fake.add_record({"Name": f"Row {n}", field: cell} if field != "Name" else {field: cell})
            for n, (shape, (field, cell, _)) in enumerate(SHAPES.items())
        }
        sync.run(direction="pull")
    leads = Lead.objects.in_bulk(list(ids.values()), field_name="airtable_id")
    read = {shape: getattr(leads[ids[shape]], _COLUMNS[field]) for shape, (field, _, _) in SHAPES.items()}
    assert read == {shape: expected for shape, (_, _, expected) in SHAPES.items()}


def _pull_text_no_database_can_store(fake) -> None:
    broken = fake.add_record(
        {"Name": "Ada \ud83d Lovelace", "Job Title": "CTO\x00", "Company Description": ["\udc00", "ok\x00"]}
    )
    summary = sync.run(direction="pull")
    assert (summary.processed, summary.succeeded, summary.failed) == (6, 6, 0)  # the page went through
    lead = Lead.objects.get(airtable_id=broken)
    assert (lead.name, lead.job_title, lead.company_description) == ("Ada \ufffd Lovelace", "CTO", "\ufffd, ok")
    assert lead.raw_fields == {
        "Name": "Ada \ufffd Lovelace",
        "Job Title": "CTO",
        "Company Description": ["\ufffd", "ok"],
    }
    assert Lead.objects.count() == 6


def test_text_no_database_can_store_is_cleaned_and_its_page_stored(fake):
    _pull_text_no_database_can_store(fake)


@pytest.mark.postgres
def test_text_no_database_can_store_is_cleaned_and_its_page_stored_on_postgresql(fake):
    _pull_text_no_database_can_store(fake)


def test_the_company_name_the_scraper_found_survives_an_empty_cell(fake):
    record_id = fake.add_record({"Name": "Ada", "Website": "engines.example"})
    sync.run(direction="pull")
    Lead.objects.filter(airtable_id=record_id).update(company_name="Analytical Engines", company_description="Engines.")
    fake.edit_record(record_id, {"Job Title": "CTO"})
    sync.run(direction="pull")
    lead = Lead.objects.get(airtable_id=record_id)
    assert (lead.company_name, lead.company_description, lead.job_title) == ("Analytical Engines", "Engines.", "CTO")
    fake.edit_record(record_id, {"Company Name": "Engines Ltd"})
    sync.run(direction="pull")
    assert Lead.objects.get(airtable_id=record_id).company_name == "Engines Ltd"  # Airtable's own name wins
