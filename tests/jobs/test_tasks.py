"""The pipeline runs its stages in order, each isolated: a stage that raises is
recorded as a failed run with its error, and the next stage still runs."""

import json

import pytest
from django.core.management import call_command

from leads.models import Job, PipelineRun, RunOutcome
from pipeline import airtable, engage, generate, scrape
from pipeline.airtable import AirtableError
from pipeline.jobs import tasks
from pipeline.jobs.tasks import Step
from tests.stages import counting, failing

pytestmark = pytest.mark.django_db

OK = counting.run
FAILING = failing.run


def _runs() -> dict[str, PipelineRun]:
    return {run.job: run for run in PipelineRun.objects.all()}


def test_the_pipeline_order_is_pull_scrape_generate_engage_push():
    assert [(step.job, step.run, dict(step.options)) for step in tasks.PIPELINE] == [
        ("sync_pull", airtable.run, {"direction": "pull"}),
        ("scrape", scrape.run, {}),
        ("generate", generate.run, {}),
        ("engage", engage.run, {}),
        ("sync_push", airtable.run, {"direction": "push"}),
    ]


def test_engage_still_runs_when_scrape_and_generate_fail():
    steps = [
        Step(Job.SYNC_PULL, OK),
        Step(Job.SCRAPE, FAILING),
        Step(Job.GENERATE, FAILING, {"error": "bug"}),
        Step(Job.ENGAGE, OK),
    ]
    summary = tasks.run_steps(steps)

    assert [(item["stage"], item["outcome"]) for item in summary.items] == [
        ("sync_pull", "succeeded"),
        ("scrape", "failed"),
        ("generate", "failed"),
        ("engage", "succeeded"),
    ]
    runs = _runs()
    assert runs["scrape"].outcome == RunOutcome.FAILED
    assert runs["scrape"].error == "example.com refused the connection"
    assert runs["generate"].outcome == RunOutcome.FAILED
    assert runs["generate"].error == "'a key the code forgot'"
    assert runs["engage"].outcome == RunOutcome.SUCCEEDED
    assert (runs["engage"].processed, runs["engage"].succeeded) == (3, 2)


def test_the_summary_adds_up_the_stages_and_counts_each_failed_stage():
    steps = [Step(Job.SYNC_PULL, OK), Step(Job.SCRAPE, FAILING), Step(Job.ENGAGE, OK)]
    summary = tasks.run_steps(steps, limit=2)
    assert (summary.stage, summary.processed, summary.succeeded, summary.failed) == ("pipeline", 4, 2, 1)
    assert summary.skipped == {"no_email": 2}
    assert summary.items[1] == {"stage": "scrape", "outcome": "failed", "error": "example.com refused the connection"}


def test_a_dry_run_records_nothing_and_passes_the_options_through():
    summary = tasks.run_steps([Step(Job.SYNC_PULL, OK, {"direction": "pull"})], dry_run=True)
    assert summary.dry_run
    assert summary.items[0]["outcome"] == "succeeded"
    assert PipelineRun.objects.count() == 0


def test_run_pipeline_command_prints_one_json_object_naming_every_stage(capsys):
    call_command("run_pipeline", "--json", "--dry-run")
    out = json.loads(capsys.readouterr().out)
    assert {"stage", "dry_run", "processed", "succeeded", "skipped", "deferred", "failed"} <= out.keys()
    assert (out["stage"], out["dry_run"]) == ("pipeline", True)
    assert [item["stage"] for item in out["items"]] == [step.job for step in tasks.PIPELINE]


def test_a_stage_task_returns_its_summary_and_records_its_run():
    result = tasks.run_scrape()
    assert (result["stage"], result["processed"]) == ("scrape", 0)
    assert _runs()["scrape"].outcome == RunOutcome.SUCCEEDED


def test_a_stage_task_that_cannot_run_raises_for_the_queue_and_is_recorded_as_failed(settings):
    settings.AIRTABLE_API_KEY = ""
    with pytest.raises(AirtableError, match="Airtable is not configured: set AIRTABLE_API_KEY"):
        tasks.run_sync(direction="pull")
    assert _runs()["sync_pull"].error.startswith("Airtable is not configured")
