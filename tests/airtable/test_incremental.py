"""Incremental pulls: after a complete pull, ask Airtable only for the records changed since it began."""

import datetime
import json
import logging

import pytest
from django.core.management import call_command

from leads.models import Lead
from pipeline.airtable import sync
from tests.fakes.airtable import FakeAirtable, demo_table, use

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(settings, tmp_path):
    """Five records last modified an hour ago, as in a table a team built earlier."""
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    with FakeAirtable(table=demo_table(5), modified=an_hour_ago) as server:
        yield use(server, settings, tmp_path)


def _list_requests(fake) -> int:
    return sum(1 for method, path in fake.requests if method in ("GET", "POST") and "/meta/" not in path)


def test_the_second_pull_reads_only_the_records_changed_since_the_first(table):
    first = sync.run(direction="pull")
    assert (first.extra["mode"], first.processed) == ("full", 5)
    table.edit_record(table.records[1]["id"], {"Job Title": "CTO"})
    table.edit_record(table.records[3]["id"], {"Name": "Grace Hopper"})
    second = sync.run(direction="pull")
    assert (second.extra["mode"], second.processed, second.succeeded) == ("incremental", 2, 2)
    assert "IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('" in table.formulas[-1]
    assert Lead.objects.get(airtable_id=table.records[1]["id"]).job_title == "CTO"
    assert Lead.objects.get(airtable_id=table.records[3]["id"]).name == "Grace Hopper"


def test_a_pull_with_nothing_changed_reads_one_empty_page(table):
    sync.run(direction="pull")
    before = _list_requests(table)
    summary = sync.run(direction="pull")
    assert (summary.extra["mode"], summary.processed) == ("incremental", 0)
    assert _list_requests(table) - before == 1


def test_full_reads_every_record_and_json_says_so(table, capsys):
    sync.run(direction="pull")
    call_command("sync_airtable", "--direction", "pull", "--full", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["mode"], out["archived"], out["processed"]) == ("full", 0, 5)
    call_command("sync_airtable", "--direction", "pull", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["mode"], out["archived"], out["processed"]) == ("incremental", 0, 0)


def test_a_base_that_cannot_filter_by_time_gets_a_full_pull_said_once(table, caplog):
    sync.run(direction="pull")
    table.refuse_function("LAST_MODIFIED_TIME")
    table.delete_record(table.records[0]["id"])
    with caplog.at_level(logging.WARNING, logger="pipeline.airtable"):
        summary = sync.run(direction="pull")
    assert (summary.extra["mode"], summary.processed, summary.extra["archived"]) == ("full", 4, 1)
    said = [
        r for r in caplog.records if r.message == "airtable cannot filter by modification time, pulling every record"
    ]
    assert len(said) == 1
    assert "Unknown function LAST_MODIFIED_TIME" in said[0].error


def test_a_wrong_field_name_still_pulls_only_what_changed(table, settings, caplog):
    settings.AIRTABLE_FIELD_EMAIL = "E-mail"
    assert sync.run(direction="pull").processed == 5
    table.edit_record(table.records[2]["id"], {"Job Title": "CTO"})
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pipeline.airtable"):
        summary = sync.run(direction="pull")
    assert (summary.extra["mode"], summary.processed) == ("incremental", 1)
    assert [r.missing_fields for r in caplog.records if r.message == "airtable refused the filter"] == [
        "AIRTABLE_FIELD_EMAIL='E-mail'"
    ]
    assert "LAST_MODIFIED_TIME()" in table.formulas[-1]


def test_an_edit_stamped_by_an_airtable_clock_behind_ours_is_still_pulled(table, settings):
    table.clock_offset = -120  # Airtable's clock two minutes behind: the edit seems older than our last pull
    sync.run(direction="pull")
    table.edit_record(table.records[0]["id"], {"Job Title": "CTO"})
    summary = sync.run(direction="pull")
    assert (summary.extra["mode"], summary.processed) == ("incremental", 1)
    assert Lead.objects.get(airtable_id=table.records[0]["id"]).job_title == "CTO"


def test_a_pull_cut_short_or_dry_leaves_the_next_one_full(table):
    sync.run(direction="pull", limit=2)
    sync.run(direction="pull", dry_run=True)
    assert sync.run(direction="pull").extra["mode"] == "full"


def test_a_changed_field_map_reads_every_record_again(table, settings):
    sync.run(direction="pull")
    table.add_field("Role")
    settings.AIRTABLE_FIELD_JOB_TITLE = "Role"
    assert sync.run(direction="pull").extra["mode"] == "full"
