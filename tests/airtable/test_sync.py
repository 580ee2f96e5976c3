"""The sync stage and `manage.py sync_airtable` against the fake Airtable."""

import datetime
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from leads.models import Lead, PipelineRun, RunOutcome
from pipeline.airtable import sync
from tests.builders import make_lead
from tests.fakes.airtable import FakeAirtable, demo_table, record_fields, renamed_settings, use
from tests.processes import django_env, manage

pytestmark = pytest.mark.django_db


def _logged(caplog, key: str) -> list[str]:
    return [getattr(record, key) for record in caplog.records if hasattr(record, key)]


def test_pull_stores_every_record_with_its_raw_fields(fake):
    summary = sync.run(direction="pull")
    assert summary.succeeded == Lead.objects.count() == 5
    lead = Lead.objects.get(airtable_id=fake.records[0]["id"])
    assert (lead.email, lead.name, lead.company_name) == ("person1@company1.example", "Person 1", "Company 1")
    assert lead.raw_fields == fake.records[0]["fields"]
    assert lead.last_pulled_at is not None


@pytest.mark.parametrize("count", [50, 1000])
def test_pull_costs_a_fixed_number_of_queries_per_page(settings, tmp_path, django_assert_max_num_queries, count):
    with FakeAirtable(table=demo_table(count)) as server:
        use(server, settings, tmp_path)
        settings.AIRTABLE_REQUESTS_PER_SECOND = 0
        server.rate_limit = None
        pages = -(-count // 100)
        # The database's cap on parameters splits one page's insert into a few (SQLite: 999 parameters,
        # so it depends on the lead's number of columns, not on the number of leads).
        rows_per_insert = connection.ops.bulk_batch_size(Lead._meta.concrete_fields, [None] * 100)
        inserts = -(-100 // rows_per_insert)
        # Per page: read the known ids; savepoint, the inserts, release, and a little slack.
        # Per run: read the cursor; list the known ids (a full pull finds deletions); write the cursor
        # (update, then savepoint, insert, release when there was none).
        with django_assert_max_num_queries((4 + inserts) * pages + 6):
            sync.run(direction="pull")
        for record in server.records[: count // 2]:
            server._rows[[r["id"] for r in server.records].index(record["id"])]["cells"][
                server.field_id("Job Title")
            ] = "CTO"
        # Again, now updating half of them: read, savepoint, update (in a few batches), touch the rest, release;
        # per run: read and update the cursor.
        with django_assert_max_num_queries(8 * pages + 2):
            sync.run(direction="pull")
    assert Lead.objects.filter(job_title="CTO").count() == count // 2


def test_pull_never_overwrites_a_change_not_yet_pushed(fake):
    record_id = fake.records[0]["id"]
    make_lead(airtable_id=record_id, engagement_status="Contacted", pending_push=True)
    sync.run(direction="pull")
    lead = Lead.objects.get(airtable_id=record_id)
    assert lead.engagement_status == "Contacted"
    assert lead.raw_fields["Engagement Status"] == "New"


def test_odd_values_are_stored_as_well_as_they_can_be(fake):
    fake.add_field("Lookup", "multipleLookupValues")
    odd = fake.add_record(
        {
            "Name": ["Ada", "Lovelace"],
            "Email": " ada@example.com. ",
            "Job Title": 42,
            "Company Description": "x" * 100_000,
            "Company Name": "y" * 1000,
            "Date Messaged": "2024-03-01",
            "Lookup": [{"id": "usr1", "name": "Grace"}],
        }
    )
    sparse = fake.add_record({"Website": "sparse.example"})
    bad_date = fake.add_record({"Name": "Bad date", "Date Messaged": "next week"})
    assert sync.run(direction="pull").succeeded == 8
    lead = Lead.objects.get(airtable_id=odd)
    assert (lead.name, lead.email, lead.job_title) == ("Ada, Lovelace", "ada@example.com", "42")
    assert len(lead.company_description) == 100_000
    assert lead.company_name == "y" * 255
    assert lead.date_messaged == datetime.date(2024, 3, 1)
    assert Lead.objects.get(airtable_id=sparse).email == ""
    assert Lead.objects.get(airtable_id=bad_date).date_messaged is None


def test_push_writes_pending_changes_and_clears_the_flag(fake):
    sync.run(direction="pull")
    Lead.objects.filter(airtable_id=fake.records[1]["id"]).update(
        engagement_status="Contacted",
        custom_message="Hi there",
        date_messaged=datetime.date(2025, 1, 2),
        skip_reason="",
        pending_push=True,
    )
    summary = sync.run(direction="push")
    assert (summary.processed, summary.succeeded, summary.failed) == (1, 1, 0)
    written = fake.records[1]["fields"]
    assert (written["Engagement Status"], written["Custom Message"], written["Date Messaged"]) == (
        "Contacted",
        "Hi there",
        "2025-01-02",
    )
    assert not Lead.objects.filter(pending_push=True).exists()


def test_skip_reason_is_written_only_when_its_field_is_configured(fake, settings):
    fake.add_field("Skip Reason")
    lead = make_lead(airtable_id=fake.records[0]["id"], skip_reason="no_email", pending_push=True)
    sync.run(direction="push")
    assert "Skip Reason" not in fake.records[0]["fields"]
    settings.AIRTABLE_FIELD_SKIP_REASON = "Skip Reason"
    Lead.objects.filter(pk=lead.pk).update(pending_push=True)
    sync.run(direction="push")
    assert fake.records[0]["fields"]["Skip Reason"] == "no_email"


def test_push_with_a_missing_field_writes_the_rest_and_keeps_the_lead_pending(fake, settings, caplog):
    settings.AIRTABLE_FIELD_CUSTOM_MESSAGE = "Message"
    make_lead(airtable_id=fake.records[0]["id"], engagement_status="Contacted", custom_message="Hi", pending_push=True)
    with caplog.at_level(logging.ERROR):
        summary = sync.run(direction="push")
    assert summary.failed == 1
    assert fake.records[0]["fields"]["Engagement Status"] == "Contacted"
    assert Lead.objects.get().pending_push
    assert _logged(caplog, "missing_fields") == ["AIRTABLE_FIELD_CUSTOM_MESSAGE='Message'"]


def test_dry_run_reads_and_reports_but_writes_nothing(fake):
    make_lead(airtable_id=fake.records[0]["id"], engagement_status="Contacted", pending_push=True)
    summary = sync.run(direction="both", dry_run=True)
    assert summary.succeeded == 6  # 1 to push, 5 to pull
    assert {item["action"] for item in summary.items} == {"push", "keep_local", "create"}
    assert Lead.objects.count() == 1
    assert Lead.objects.get().pending_push
    assert fake.patched_batches == []
    assert fake.records[0]["fields"]["Engagement Status"] == "New"


def test_command_prints_json_and_exits_zero_with_a_wrong_field_name(fake, settings, capsys, caplog):
    settings.AIRTABLE_FIELD_EMAIL = "E-mail"
    with caplog.at_level(logging.ERROR):
        call_command("sync_airtable", "--direction", "pull", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["stage"], out["succeeded"], out["failed"]) == ("sync", 5, 0)
    assert _logged(caplog, "missing_fields") == ["AIRTABLE_FIELD_EMAIL='E-mail'"]
    assert "Email, Email Confidence Level" in _logged(caplog, "table_fields")[0]


def test_command_fails_with_one_line_and_records_the_run(fake, settings):
    settings.AIRTABLE_API_KEY = "patWrongToken00001.0123456789"
    with pytest.raises(CommandError, match=r"^Airtable refused the token: check AIRTABLE_API_KEY$"):
        call_command("sync_airtable", "--direction", "pull")
    run = PipelineRun.objects.get()
    assert run.outcome == RunOutcome.FAILED
    assert "AIRTABLE_API_KEY" in run.error


def test_command_without_configuration_names_the_variables(settings):
    settings.AIRTABLE_API_KEY = ""
    with pytest.raises(CommandError, match="Airtable is not configured: set AIRTABLE_API_KEY"):
        call_command("sync_airtable")


@pytest.mark.django_db(transaction=True)
def test_a_renamed_table_syncs_after_changing_only_the_environment(settings, tmp_path):
    with FakeAirtable(table=[record_fields(n) for n in range(1, 4)]) as server:
        renames = server.rename_all()
        env = {
            "AIRTABLE_ENDPOINT_URL": server.url,
            "AIRTABLE_API_KEY": server.token,
            "AIRTABLE_BASE_ID": server.base_id,
            "AIRTABLE_TABLE_NAME": server.table_name,
            "REDIS_URL": "",
        }
        env.update(renamed_settings(settings, renames))
        result = manage("sync_airtable", "--json", env=django_env(**env))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["succeeded"] == 3
    assert "refused" not in result.stderr
    assert sorted(Lead.objects.values_list("email", flat=True)) == [f"person{n}@company{n}.example" for n in (1, 2, 3)]
