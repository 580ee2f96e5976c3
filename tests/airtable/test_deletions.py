"""Records deleted in Airtable: the push goes on around them, their leads are archived, and every
stage leaves an archived lead alone."""

import json
import logging

import pytest
from django.core.management import call_command

from leads.models import Lead
from pipeline import engage, generate, scrape
from pipeline.airtable import sync
from tests.builders import make_lead

pytestmark = pytest.mark.django_db


def _pending_changes(fake, count: int) -> list[Lead]:
    sync.run(direction="pull")
    leads = list(Lead.objects.order_by("id")[:count])
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        engagement_status="Do Not Contact", pending_push=True
    )
    return leads


def test_a_deleted_record_does_not_hold_back_the_rest_of_its_batch(fake, caplog):
    for n in range(6, 11):
        fake.add_record({"Name": f"Person {n}", "Email": f"person{n}@company{n}.example"})
    leads = _pending_changes(fake, 10)  # one batch of 10
    gone = leads[3]
    fake.delete_record(gone.airtable_id)
    with caplog.at_level(logging.WARNING, logger="pipeline.airtable"):
        summary = sync.run(direction="push")
    assert (summary.succeeded, summary.failed, summary.extra["archived"]) == (9, 0, 1)
    assert {record["fields"]["Engagement Status"] for record in fake.records} == {"Do Not Contact"}
    assert list(Lead.objects.filter(pending_push=True)) == [gone]
    assert Lead.objects.get(pk=gone.pk).archived_at is not None
    [refusal] = [r for r in caplog.records if r.message == "airtable refused a record"]
    assert (refusal.record, refusal.lead_id, refusal.cause) == (gone.airtable_id, gone.pk, "record_deleted")


def test_a_record_airtable_refuses_for_another_cause_stays_pending_with_the_cause_logged(fake, caplog):
    leads = _pending_changes(fake, 3)
    refused = leads[1]
    fake.refuse_record(refused.airtable_id)
    with caplog.at_level(logging.WARNING, logger="pipeline.airtable"):
        summary = sync.run(direction="push")
    assert (summary.succeeded, summary.failed, summary.extra["archived"]) == (2, 1, 0)
    assert list(Lead.objects.filter(pending_push=True)) == [refused]
    assert Lead.objects.get(pk=refused.pk).archived_at is None
    [refusal] = [r for r in caplog.records if r.message == "airtable refused a record"]
    assert (refusal.record, refusal.cause) == (refused.airtable_id, "invalid_request")
    assert 'Field "Date Messaged" cannot accept the value' in refusal.error


def test_a_full_pull_archives_the_leads_of_deleted_records_and_an_incremental_one_does_not(fake):
    sync.run(direction="pull")
    gone = fake.records[2]["id"]
    fake.delete_record(gone)
    assert sync.run(direction="pull").extra == {"mode": "incremental", "archived": 0}
    assert Lead.objects.get(airtable_id=gone).archived_at is None
    assert sync.run(direction="pull", full=True).extra == {"mode": "full", "archived": 1}
    lead = Lead.objects.get(airtable_id=gone)
    assert lead.archived_at is not None
    assert lead.email == "person3@company3.example"  # kept for history
    assert Lead.objects.filter(archived_at=None).count() == 4


def test_a_limited_or_dry_full_pull_archives_nothing(fake):
    sync.run(direction="pull")
    fake.delete_record(fake.records[0]["id"])
    assert sync.run(direction="pull", full=True, limit=2).extra["archived"] == 0
    dry = sync.run(direction="pull", full=True, dry_run=True)
    assert dry.extra["archived"] == 1  # what a real run would archive
    assert not Lead.objects.exclude(archived_at=None).exists()


def test_a_restored_record_brings_its_lead_back(fake):
    sync.run(direction="pull")
    record_id = fake.records[0]["id"]
    fake.delete_record(record_id)
    sync.run(direction="pull", full=True)
    fake.restore_record(record_id)
    sync.run(direction="pull")
    assert Lead.objects.get(airtable_id=record_id).archived_at is None


def test_the_json_summary_counts_archived_leads(fake, capsys):
    sync.run(direction="pull")
    fake.delete_record(fake.records[0]["id"])
    call_command("sync_airtable", "--direction", "pull", "--full", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["mode"], out["archived"]) == ("full", 1)


def test_every_stage_leaves_an_archived_lead_alone(settings, smtp):
    settings.OPENAI_API_KEY = ""
    settings.OUTREACH_APPROVAL = "none"
    archived = make_lead(website="http://127.0.0.1:9/", archived_at="2025-01-01T00:00:00Z")
    assert scrape.run(dry_run=True).processed == 0
    assert generate.run(dry_run=True).processed == 0
    assert engage.run().processed == 0
    assert smtp.recipients == []
    archived.archived_at = None
    archived.save()
    assert generate.run(dry_run=True).processed == 1


def test_the_scrape_dry_run_says_an_archived_lead_is_left_alone(settings):
    lead = make_lead(website="http://127.0.0.1:9/", archived_at="2025-01-01T00:00:00Z")
    [item] = scrape.run(dry_run=True).items
    assert (item["lead"], item["reason"]) == (lead.pk, "archived (its record was deleted in Airtable)")


@pytest.mark.usefixtures("plain_static_storage")
def test_the_admin_filters_archived_leads(admin_client):
    make_lead(name="Kept Person")
    make_lead(name="Gone Person", archived_at="2025-01-01T00:00:00Z")
    page = admin_client.get("/admin/leads/lead/", {"archived": "yes"}).content.decode()
    assert "Gone Person" in page
    assert "Kept Person" not in page
    page = admin_client.get("/admin/leads/lead/", {"archived": "no"}).content.decode()
    assert "Kept Person" in page
    assert "Gone Person" not in page
