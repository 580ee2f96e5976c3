"""The daily full pull: `setup_schedules` keeps its one schedule in step with AIRTABLE_FULL_PULL_HOURS,
and the task it runs reads every record and archives the leads of deleted ones."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from leads.models import Job, Lead, PipelineRun
from pipeline.airtable import sync
from pipeline.jobs import schedules, tasks
from tests.fakes.airtable import FakeAirtable, demo_table, use

pytestmark = pytest.mark.django_db


def _full_pull_rows() -> list[dict]:
    return list(Schedule.objects.filter(name=schedules.FULL_PULL_SCHEDULE).values())


def test_setup_schedules_adds_one_daily_full_pull_and_running_it_again_changes_nothing(capsys):
    now = timezone.now()
    call_command("setup_schedules")
    first = _full_pull_rows()
    call_command("setup_schedules")
    assert _full_pull_rows() == first
    [row] = first
    assert (row["func"], row["schedule_type"], row["minutes"], row["repeats"]) == (
        "pipeline.jobs.tasks.run_full_pull",
        Schedule.MINUTES,
        24 * 60,
        -1,
    )
    assert row["next_run"] >= now + timedelta(hours=23)  # the first pipeline pull reads every record anyway
    out = capsys.readouterr().out
    assert "airtable full pull schedule: created, every 24 hours" in out
    assert "airtable full pull schedule: unchanged, every 24 hours" in out


def test_zero_hours_removes_the_full_pull_schedule_and_leaves_the_pipeline_one(settings):
    call_command("setup_schedules")
    settings.AIRTABLE_FULL_PULL_HOURS = 0
    assert schedules.ensure_full_pull_schedule().action == "removed"
    assert schedules.ensure_full_pull_schedule().action == "off"
    assert set(Schedule.objects.values_list("name", flat=True)) == {
        schedules.PIPELINE_SCHEDULE,
        schedules.SEND_SCHEDULE,
    }


def test_the_scheduled_task_pulls_every_record_and_archives_deleted_ones(settings, tmp_path):
    with FakeAirtable(table=demo_table(3)) as fake:
        use(fake, settings, tmp_path)
        sync.run(direction="pull")
        fake.delete_record(fake.records[0]["id"])
        result = tasks.run_full_pull()
    assert (result["mode"], result["archived"], result["processed"]) == ("full", 1, 2)
    assert Lead.objects.exclude(archived_at=None).count() == 1
    assert PipelineRun.objects.filter(job=Job.SYNC_PULL).count() == 1
