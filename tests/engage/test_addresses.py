"""An address from Airtable is trimmed around, never inside: an inner space is `invalid_email`, not another mailbox."""

import pytest

from leads.models import Lead
from pipeline import engage
from pipeline.airtable import sync
from tests.fakes.airtable import FakeAirtable, use
from tests.fakes.smtp import FakeSMTP

pytestmark = pytest.mark.django_db

# The cell as typed or pasted -> what the lead holds.
AROUND = {
    "  jane@acme.example  ": "jane@acme.example",
    "\u200bjane@acme.example\ufeff": "jane@acme.example",
    "jane@acme.example.": "jane@acme.example",
    "mailto:jane@acme.example": "jane@acme.example",
    " MAILTO: jane@acme.example. ": "jane@acme.example",
}
INSIDE = ["a b@acme.example", "jane@acme .example", "ja\u200bne@acme.example", "jane\t@acme.example"]


def pulled(settings, tmp_path, cells: list[str]) -> dict[str, Lead]:
    with FakeAirtable() as fake:
        use(fake, settings, tmp_path)
        ids = {cell: fake.add_record({"Name": f"Row {n}", "Email": cell}) for n, cell in enumerate(cells)}
        sync.run(direction="pull")
    leads = Lead.objects.in_bulk(list(ids.values()), field_name="airtable_id")
    return {cell: leads[record_id] for cell, record_id in ids.items()}


def test_what_is_around_an_address_is_trimmed(settings, tmp_path):
    leads = pulled(settings, tmp_path, list(AROUND))
    assert {cell: lead.email for cell, lead in leads.items()} == AROUND


def test_an_address_with_whitespace_inside_is_kept_and_skipped_as_invalid(settings, tmp_path):
    leads = pulled(settings, tmp_path, INSIDE)
    assert {cell: lead.email for cell, lead in leads.items()} == {cell: cell for cell in INSIDE}
    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        summary = engage.run()
    assert summary.skipped == {"invalid_email": len(INSIDE)}
    assert smtp.received == []
