"""Edits made in the admin survive the pulls: a pushed field goes to Airtable, any other pulled
field keeps its local value until it changes in Airtable, and the lead's page says which is which."""

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from leads.models import Lead
from pipeline import engage
from pipeline.airtable import sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def _change_page(admin_client, lead: Lead) -> HTMLParser:
    return HTMLParser(admin_client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode())


def _save_in_admin(admin_client, lead: Lead, **changes: str) -> None:
    """Submit the lead's change form as a person would: every field as shown, some of them edited."""
    form = _change_page(admin_client, lead).css_first("form#lead_form")
    data = {}
    for field in form.css("input, textarea, select"):
        name = field.attributes.get("name")
        if not name or field.attributes.get("type") in {"submit", "button"}:
            continue
        if field.tag == "textarea":
            data[name] = field.text()
        elif field.tag == "select":
            chosen = field.css_first("option[selected]")
            data[name] = chosen.attributes.get("value", "") if chosen else ""
        elif field.attributes.get("type") == "checkbox":
            if "checked" in field.attributes:
                data[name] = "on"
        else:
            data[name] = field.attributes.get("value") or ""
    data.update(changes)
    response = admin_client.post(f"/admin/leads/lead/{lead.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_status_set_in_the_admin_is_pushed_and_survives_the_pull_before_it(fake, admin_client, smtp):
    sync.run(direction="pull")
    lead = Lead.objects.get(airtable_id=fake.records[0]["id"])
    _save_in_admin(admin_client, lead, engagement_status="Do Not Contact")
    sync.run(direction="pull")  # before any push
    lead.refresh_from_db()
    assert (lead.engagement_status, lead.pending_push) == ("Do Not Contact", True)
    assert engage.run(lead_ids=[lead.pk]).skipped == {"status_filtered": 1}
    assert smtp.recipients == []
    sync.run(direction="push")
    assert fake.record(lead.airtable_id)["Engagement Status"] == "Do Not Contact"


def test_an_address_fixed_in_the_admin_is_kept_until_airtable_changes_it(fake, admin_client):
    sync.run(direction="pull")
    lead = Lead.objects.get(airtable_id=fake.records[0]["id"])
    _save_in_admin(admin_client, lead, email="fixed@company1.example")
    lead.refresh_from_db()
    assert (lead.local_edits, lead.pending_push) == (["email"], False)  # the address is not pushed
    fake.edit_record(lead.airtable_id, {"Job Title": "CTO"})  # another field changes in Airtable
    sync.run(direction="pull")
    lead.refresh_from_db()
    assert (lead.email, lead.job_title) == ("fixed@company1.example", "CTO")
    fake.edit_record(lead.airtable_id, {"Email": "new@company1.example"})
    sync.run(direction="pull")
    lead.refresh_from_db()
    assert (lead.email, lead.local_edits) == ("new@company1.example", [])


def test_saving_without_changes_marks_nothing(fake, admin_client):
    sync.run(direction="pull")
    lead = Lead.objects.get(airtable_id=fake.records[0]["id"])
    _save_in_admin(admin_client, lead)
    lead.refresh_from_db()
    assert (lead.local_edits, lead.pending_push) == ([], False)


def test_the_lead_page_says_which_fields_are_airtables(fake, admin_client, settings):
    settings.AIRTABLE_FIELD_JOB_TITLE = "Role"
    sync.run(direction="pull")
    page = _change_page(admin_client, Lead.objects.first())
    help_of = {
        node.attributes["id"].removesuffix("_helptext"): node.text(strip=True)
        for node in page.css("div.help[id$=_helptext]")
    }
    assert help_of["id_email"] == "Airtable's field 'Email': an edit here is kept until the field changes in Airtable."
    assert help_of["id_job_title"].startswith("Airtable's field 'Role':")
    assert help_of["id_engagement_status"] == (
        "Airtable's field 'Engagement Status': an edit here is written to Airtable by the next push."
    )
    assert "id_message_body" not in help_of  # ours alone
