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
