"""Status back to Airtable, end to end: pull from the fake Airtable, run the engage task
(engage into a real SMTP server, then push), and read what was pushed into the table.

The engager never calls Airtable itself: the task layer pushes after it, so the emails
go out whatever Airtable does."""

import json
import logging
import time
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.models import Job, Lead, PipelineRun, RunOutcome, SkipLog
from pipeline.airtable import sync
from pipeline.jobs import tasks
from tests.fakes.airtable import FakeAirtable, record_fields, renamed_settings, use
from tests.fakes.smtp import FakeSMTP
from tests.processes import free_port

pytestmark = pytest.mark.django_db

# Records the rules skip, by the reason the engager gives.
SKIPPED = {
    "no_email": {"Name": "Nobody", "Email": "", "Engagement Status": "New"},
    "invalid_email": {"Name": "Typo", "Email": "typo@@example", "Engagement Status": "New"},
    "status_filtered": {"Name": "Replied", "Email": "replied@acme.example", "Engagement Status": "Replied"},
}


@pytest.fixture
def fake(settings, tmp_path):
    with FakeAirtable(table=[record_fields(n) for n in range(1, 4)]) as server:
        server.add_field("Skip Reason")  # in the table; written only when AIRTABLE_FIELD_SKIP_REASON names it
        yield use(server, settings, tmp_path)


def _add_skipped(fake: FakeAirtable) -> dict[str, str]:
    """Adds a record for each skip reason; returns record id -> reason."""
    return {fake.add_record(fields): reason for reason, fields in SKIPPED.items()}


def _engage_and_push() -> SimpleNamespace:
    """The engage task's two steps; returns the engage step's counts."""
    summary = tasks.engage_then_push()
    assert [item["stage"] for item in summary.items] == [Job.ENGAGE, Job.SYNC_PUSH]
    return SimpleNamespace(**summary.items[0])


def _sent_ids(fake: FakeAirtable, smtp: FakeSMTP) -> set[str]:
    emailed = set(smtp.recipients)
    return {record["id"] for record in fake.records if record["fields"].get("Email") in emailed}


def test_a_sent_lead_shows_its_status_date_and_message_in_airtable(fake, smtp):
    """After sending, the record holds the engagement status, the date messaged and the message sent."""
    sync.run(direction="pull")
    summary = _engage_and_push()
    assert summary.succeeded == 3
    today = timezone.localdate().isoformat()
    for record in fake.records:
        lead = Lead.objects.get(airtable_id=record["id"])
        sent = next(item.message for item in smtp.received if item.to == lead.email)
        assert record["fields"]["Engagement Status"] == "Contacted"
        assert record["fields"]["Date Messaged"] == today
        assert record["fields"]["Custom Message"] == lead.message_body
        assert sent.get_content().replace("\r\n", "\n").startswith(lead.message_body)
    assert not Lead.objects.filter(pending_push=True).exists()


def test_statuses_are_pushed_in_batches_of_ten_once_at_the_end_of_the_run(settings, tmp_path, smtp):
    """Engaged 7 leads at a time, the 25 sent go back in 3 requests of at most 10, after the last send."""
    settings.OUTREACH_BATCH_SIZE = 7
    with FakeAirtable(table=[record_fields(n) for n in range(1, 26)]) as fake:
        use(fake, settings, tmp_path)
        sync.run(direction="pull")
        assert _engage_and_push().succeeded == 25
        assert fake.patched_batches == [10, 10, 5]
        assert {r["fields"]["Engagement Status"] for r in fake.records} == {"Contacted"}


def test_each_skipped_lead_gets_its_reason_written_back_when_the_field_is_set(fake, smtp, settings):
    settings.AIRTABLE_FIELD_SKIP_REASON = "Skip Reason"
    skipped = _add_skipped(fake)
    sync.run(direction="pull")
    summary = _engage_and_push()
    assert summary.skipped == {"no_email": 1, "invalid_email": 1, "status_filtered": 1}
    written = {r["id"]: r["fields"].get("Skip Reason") for r in fake.records}
    assert {record_id: written[record_id] for record_id in skipped} == skipped
    assert {written[record_id] for record_id in _sent_ids(fake, smtp)} == {None}  # sent: no reason
    assert not Lead.objects.filter(pending_push=True).exists()


def test_without_the_skip_reason_field_skipped_leads_are_not_written(fake, smtp):
    skipped = _add_skipped(fake)
    before = {r["id"]: r["fields"] for r in fake.records if r["id"] in skipped}
    sync.run(direction="pull")
    assert _engage_and_push().succeeded == 3
    assert fake.patched_batches == [3]  # the sent leads only
    assert {r["id"]: r["fields"] for r in fake.records if r["id"] in skipped} == before
    assert not any("Skip Reason" in r["fields"] for r in fake.records)


def test_a_second_run_pushes_nothing_new(fake, smtp, settings):
    settings.AIRTABLE_FIELD_SKIP_REASON = "Skip Reason"
    _add_skipped(fake)
    sync.run(direction="pull")
    _engage_and_push()
    pushed = list(fake.patched_batches)
    again = _engage_and_push()
    assert (again.succeeded, again.skipped) == (0, {"no_email": 1, "invalid_email": 1, "status_filtered": 1})
    assert fake.patched_batches == pushed


def test_skip_reasons_already_in_airtable_still_get_a_skip_log(fake, smtp, settings):
    """A fresh database pulling a table the engager wrote to before: every skip is explained here too."""
    settings.AIRTABLE_FIELD_SKIP_REASON = "Skip Reason"
    skipped = {fake.add_record({**fields, "Skip Reason": reason}): reason for reason, fields in SKIPPED.items()}
    sync.run(direction="pull")
    _engage_and_push()
    logged = {log.lead.airtable_id: log.reason for log in SkipLog.objects.filter(stage="engage")}
    assert logged == skipped


def _airtable_down(fake: FakeAirtable, settings, how: str) -> None:
    settings.AIRTABLE_RETRY_BACKOFF_SECONDS = 0.01  # retries as in production, without the waiting
    if how == "server errors":
        fake.fail_next(500, times=1 + settings.AIRTABLE_MAX_RETRIES)  # the first request and every retry
    else:
        settings.AIRTABLE_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.mark.parametrize("how", ["server errors", "closed port"])
def test_with_airtable_down_the_engager_sends_and_the_next_sync_pushes(fake, smtp, settings, caplog, how):
    sync.run(direction="pull")
    _airtable_down(fake, settings, how)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="pipeline"):
        engaged = _engage_and_push()
    assert time.monotonic() - started < 10  # retries without their production backoff: no 31 s wait
    assert (engaged.succeeded, engaged.failed) == (3, 0)
    assert len(smtp.received) == 3
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING and r.getMessage() == "stage failed"]
    assert [(r.stage, r.error_type) for r in failures] == [(Job.SYNC_PUSH, "AirtableError")]
    expected = "answered 500 after every retry" if how == "server errors" else "could not be reached"
    assert expected in failures[0].error
    assert "\n" not in failures[0].error
    push_run = PipelineRun.objects.get(job=Job.SYNC_PUSH)
    assert (push_run.outcome, push_run.error) == (RunOutcome.FAILED, failures[0].error)
    assert Lead.objects.filter(pending_push=True).count() == 3
    assert not any(r["fields"]["Engagement Status"] == "Contacted" for r in fake.records)

    settings.AIRTABLE_ENDPOINT_URL = fake.url
    pushed = sync.run(direction="push")
    assert (pushed.succeeded, pushed.failed) == (3, 0)
    assert {r["fields"]["Engagement Status"] for r in fake.records} == {"Contacted"}
    assert not Lead.objects.filter(pending_push=True).exists()


def test_without_airtable_configured_the_engager_sends_and_the_push_says_why_once(smtp, settings, caplog):
    settings.AIRTABLE_API_KEY = ""
    Lead.objects.bulk_create([Lead(airtable_id=f"recLocal{n:09d}", email=f"p{n}@acme.example") for n in range(3)])
    with caplog.at_level(logging.INFO, logger="pipeline"):
        assert _engage_and_push().succeeded == 3
    notes = [(r.getMessage(), r.stage, r.error) for r in caplog.records if r.levelno >= logging.WARNING]
    assert notes == [
        (
            "stage failed",
            Job.SYNC_PUSH,
            "Airtable is not configured: set AIRTABLE_API_KEY, AIRTABLE_BASE_ID, AIRTABLE_TABLE_NAME",
        )
    ]
    assert Lead.objects.filter(pending_push=True).count() == 3


def test_the_engage_command_exits_normally_when_airtable_is_unreachable(fake, smtp, settings, capsys):
    sync.run(direction="pull")
    settings.AIRTABLE_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    call_command("engage", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["succeeded"], summary["failed"]) == (3, 0)
    assert Lead.objects.filter(pending_push=True).count() == 3


def test_a_renamed_table_gets_the_push_in_its_own_fields(fake, smtp, settings):
    """Every field renamed in Airtable and mapped only through settings: the push lands in the new names."""
    _add_skipped(fake)
    renames = fake.rename_all()
    settings.AIRTABLE_FIELD_SKIP_REASON = "Skip Reason"
    for name, value in renamed_settings(settings, renames).items():
        setattr(settings, name, value)
    sync.run(direction="pull")
    summary = _engage_and_push()
    assert summary.succeeded == 3
    assert sum(summary.skipped.values()) == 3
    statuses = [r["fields"][renames["Engagement Status"]] for r in fake.records]
    assert statuses.count("Contacted") == 3
    reasons = sorted(r["fields"].get(renames["Skip Reason"]) or "" for r in fake.records)
    assert reasons == ["", "", "", "invalid_email", "no_email", "status_filtered"]
    contacted = [r["fields"] for r in fake.records if r["fields"][renames["Engagement Status"]] == "Contacted"]
    assert all(f[renames["Date Messaged"]] == timezone.localdate().isoformat() for f in contacted)
    assert all(f[renames["Custom Message"]] for f in contacted)
    assert not any(name in r["fields"] for r in fake.records for name in renames)  # nothing under the old names
