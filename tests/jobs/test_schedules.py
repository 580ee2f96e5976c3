"""`setup_schedules` keeps one pipeline schedule in step with the settings; running it twice changes nothing."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from pipeline.jobs import schedules
from tests.processes import PROJECT_DIR, django_env

pytestmark = pytest.mark.django_db


def _rows() -> list[dict]:
    return list(Schedule.objects.values())


def test_running_setup_schedules_twice_changes_nothing(settings, capsys):
    settings.PIPELINE_SCHEDULE_MINUTES = 30
    call_command("setup_schedules")
    first = _rows()
    call_command("setup_schedules")

    assert _rows() == first
    first = [row for row in first if row["name"] == schedules.PIPELINE_SCHEDULE]
    assert len(first) == 1
    assert (first[0]["func"], first[0]["schedule_type"], first[0]["minutes"], first[0]["repeats"]) == (
        "pipeline.jobs.tasks.run_pipeline",
        Schedule.MINUTES,
        30,
        -1,
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("pipeline schedule: created, every 30 minutes")
    assert any(line.startswith("pipeline schedule: unchanged, every 30 minutes") for line in lines)


def test_a_new_interval_updates_the_one_schedule_and_brings_the_next_run_forward(settings):
    now = timezone.now()
    settings.PIPELINE_SCHEDULE_MINUTES = 1440
    schedules.ensure_pipeline_schedule(now=now)
    Schedule.objects.update(next_run=now + timedelta(hours=20))

    settings.PIPELINE_SCHEDULE_MINUTES = 15
    assert schedules.ensure_pipeline_schedule(now=now).action == "updated"

    schedule = Schedule.objects.get()
    assert schedule.minutes == 15
    assert schedule.next_run == now + timedelta(minutes=15)


def test_zero_minutes_removes_the_schedule(settings):
    schedules.ensure_pipeline_schedule()
    settings.PIPELINE_SCHEDULE_MINUTES = 0
    assert schedules.ensure_pipeline_schedule().action == "removed"
    assert schedules.ensure_pipeline_schedule().action == "off"
    assert not Schedule.objects.exists()


def test_duplicates_left_by_two_set_ups_at_once_collapse_into_one(settings):
    for _ in range(2):
        Schedule.objects.create(name=schedules.PIPELINE_SCHEDULE, func=schedules.PIPELINE_TASK, minutes=60)
    schedules.ensure_pipeline_schedule()
    assert Schedule.objects.filter(name=schedules.PIPELINE_SCHEDULE).count() == 1


def test_other_schedules_are_left_alone(settings):
    Schedule.objects.create(name="someone else's", func="math.floor", args="2.5", minutes=5)
    schedules.ensure_pipeline_schedule()
    settings.PIPELINE_SCHEDULE_MINUTES = 0
    schedules.ensure_pipeline_schedule()
    assert list(Schedule.objects.values_list("name", flat=True)) == ["someone else's"]


def test_the_interval_comes_from_the_environment(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.PIPELINE_SCHEDULE_MINUTES)",
        ],
        cwd=PROJECT_DIR,
        env=django_env(PIPELINE_SCHEDULE_MINUTES="7"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines()[-1] == "7"


def test_the_sending_tick_runs_every_minute_beside_the_pipeline(settings):
    """Emails leave at a human pace: a per-minute tick sends what became due, while the pipeline keeps its interval."""
    settings.PIPELINE_SCHEDULE_MINUTES = 30
    assert schedules.ensure_send_schedule().action == "created"
    assert schedules.ensure_send_schedule().action == "unchanged"
    tick = Schedule.objects.get(name=schedules.SEND_SCHEDULE)
    assert (tick.func, tick.minutes) == ("pipeline.jobs.tasks.run_send_due", 1)
    settings.PIPELINE_SCHEDULE_MINUTES = 0
    assert schedules.ensure_send_schedule().action == "removed"
