"""Done when: a scheduled pipeline run through the cluster, with the scraper and the
generator forced to fail, still ends with emails sent by the engager.

Everything is real: the schedule made by `setup_schedules`, `manage.py qcluster`
with its scheduler, the stages, Airtable (the fake on loopback), the LLM (a
closed port), the websites (loopback addresses, which the scraper refuses) and
SMTP (aiosmtpd). Failures come from configuration only.
"""

import time

import pytest
from django.core.management import call_command
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from leads.models import Lead, MessageSource, PipelineRun, RunOutcome, SkipLog
from pipeline.jobs import schedules
from tests.builders import make_leads
from tests.fakes.airtable import FakeAirtable, record_fields
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEADS = 6


def _failing_scraper_and_generator() -> dict[str, str]:
    return {
        # Every lead's website is on loopback, which the scraper refuses to fetch.
        "SCRAPER_ALLOW_PRIVATE": "false",
        # An LLM that is configured but answers nothing: a closed port.
        "OPENAI_API_KEY": "sk-test-0123456789abcdef",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT": "5",
        "OUTREACH_DAILY_CAP": "1000",
        "LOG_LEVEL": "WARNING",
    }


def _wait_for_pipeline_runs(count: int, *, timeout: float, log) -> list[PipelineRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(PipelineRun.objects.filter(job="pipeline").exclude(outcome=RunOutcome.RUNNING))
        if len(runs) >= count:
            return runs
        time.sleep(0.5)
    raise TimeoutError(f"{count} pipeline run(s) did not finish within {timeout}s:\n{log.read_text()[-3000:]}")


def _stage_runs() -> dict[str, PipelineRun]:
    return {run.job: run for run in PipelineRun.objects.exclude(job="pipeline")}


def test_a_scheduled_run_sends_emails_though_the_scraper_and_the_generator_fail(tmp_path, settings):
    table = [{**record_fields(n), "Website": f"http://127.0.0.1:{free_port()}/"} for n in range(1, LEADS + 1)]
    settings.PIPELINE_SCHEDULE_MINUTES = 60
    call_command("setup_schedules")  # next run: now; the cluster's scheduler picks it up
    # This test follows one pipeline run; the per-minute sending tick (tests/jobs/test_schedules.py)
    # would engage beside it and split its counts.
    Schedule.objects.filter(name=schedules.SEND_SCHEDULE).delete()
    log = tmp_path / "qcluster.log"
    with FakeAirtable(table=table, rate_limit=None) as airtable, FakeSMTP() as smtp:
        env = django_env(
            **_failing_scraper_and_generator(),
            EMAIL_URL=smtp.email_url(),
            AIRTABLE_ENDPOINT_URL=airtable.url,
            AIRTABLE_API_KEY=airtable.token,
            AIRTABLE_BASE_ID=airtable.base_id,
            AIRTABLE_TABLE_NAME=airtable.table_name,
        )
        with running(["python", "manage.py", "qcluster"], env=env, log=log):
            [pipeline_run] = _wait_for_pipeline_runs(1, timeout=120, log=log)
        statuses = [record["fields"].get("Engagement Status") for record in airtable.records]

    stages = _stage_runs()
    # The scraper refused every website and the LLM answered nothing ...
    assert (stages["scrape"].processed, stages["scrape"].failed) == (LEADS, LEADS)
    assert SkipLog.objects.filter(stage="scrape", detail__contains="blocked address").count() == LEADS
    assert set(Lead.objects.values_list("message_source", flat=True)) == {MessageSource.FALLBACK}
    # ... and still every lead was emailed, and Airtable was told.
    assert stages["engage"].succeeded == LEADS
    assert sorted(smtp.recipients) == sorted(row["Email"] for row in table)
    assert statuses == ["Contacted"] * LEADS
    assert stages["sync_pull"].succeeded == LEADS
    assert stages["sync_push"].outcome == RunOutcome.SUCCEEDED
    # Run by the cluster from the schedule, not called by the test.
    task = Task.objects.get(func="pipeline.jobs.tasks.run_pipeline")
    assert task.success
    assert task.group == "outreach pipeline"
    assert pipeline_run.outcome == RunOutcome.SUCCEEDED


def test_two_runs_at_once_email_each_lead_once_and_a_failing_stage_stops_no_other(tmp_path, settings):
    """Two pipeline tasks at once, as when two clusters pick up the same work; Airtable is
    not configured, so both syncs raise and are recorded as failed runs."""
    leads = make_leads(20, website="http://127.0.0.1:9/")
    log = tmp_path / "qcluster.log"

    with FakeSMTP() as smtp:
        env = django_env(
            **_failing_scraper_and_generator(),
            EMAIL_URL=smtp.email_url(),
            AIRTABLE_API_KEY="",
            Q_WORKERS="2",
            OUTREACH_BATCH_SIZE="3",
        )
        for _ in range(2):
            async_task("pipeline.jobs.tasks.run_pipeline")
        with running(["python", "manage.py", "qcluster"], env=env, log=log):
            _wait_for_pipeline_runs(2, timeout=120, log=log)

    assert sorted(smtp.recipients) == sorted(lead.email for lead in leads)
    failed = PipelineRun.objects.filter(outcome=RunOutcome.FAILED)
    assert sorted(failed.values_list("job", flat=True)) == ["sync_pull", "sync_pull", "sync_push", "sync_push"]
    assert all(run.error.startswith("Airtable is not configured") for run in failed)
    assert PipelineRun.objects.filter(job="engage", outcome=RunOutcome.SUCCEEDED).count() == 2
