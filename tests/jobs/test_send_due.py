"""The cluster's per-minute tick runs the engage stage (touch 1 and follow-ups alike), then the push."""

import pytest

from leads.models import OutboundEmail, PipelineRun
from pipeline.jobs import tasks
from tests.builders import make_lead

pytestmark = pytest.mark.django_db


def test_the_send_due_tick_sends_what_is_due_and_records_its_run(smtp):
    make_lead()
    tasks.run_send_due()  # the push after it fails here: no Airtable is configured
    assert OutboundEmail.objects.count() == len(smtp.received) == 1
    run = PipelineRun.objects.get(job="engage")
    assert (run.outcome, run.error) == ("succeeded", "")
    assert PipelineRun.objects.get(job="sync_push").outcome == "failed"  # it ran: the tick marked a lead


def test_a_tick_with_nothing_due_does_not_push(smtp, settings):
    settings.OUTREACH_APPROVAL = "first"
    make_lead(message_subject="Hi", message_body="Hello.", message_source="ai")  # waits for a person
    summary = tasks.run_send_due()
    assert (summary["deferred"], [item["stage"] for item in summary["items"]]) == (1, ["engage"])
    assert list(PipelineRun.objects.values_list("job", flat=True)) == ["engage"]
    assert smtp.received == []
