"""`setup_schedules` keeps one inbox schedule every INBOX_POLL_MINUTES, once an inbox is configured."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from pipeline.jobs import schedules

pytestmark = pytest.mark.django_db


def test_the_inbox_is_read_every_few_minutes_and_setting_up_twice_changes_nothing(settings, capsys):
    settings.INBOX_URL = "imaps://team:pw@imap.example.com/INBOX"
    settings.INBOX_POLL_MINUTES = 5
    call_command("setup_schedules")
    first = list(Schedule.objects.filter(name=schedules.INBOX_SCHEDULE).values())
    call_command("setup_schedules")
    assert list(Schedule.objects.filter(name=schedules.INBOX_SCHEDULE).values()) == first
    assert [(row["func"], row["schedule_type"], row["minutes"], row["repeats"]) for row in first] == [
        ("pipeline.jobs.tasks.run_check_inbox", Schedule.MINUTES, 5, -1)
    ]
    lines = capsys.readouterr().out.splitlines()
    assert "inbox schedule: created, every 5 minutes" in lines
    assert "inbox schedule: unchanged, every 5 minutes" in lines


def test_the_inbox_schedule_follows_the_setting_and_leaves_the_pipelines_alone(settings):
    settings.INBOX_URL = "imaps://team:pw@imap.example.com/INBOX"
    schedules.ensure_pipeline_schedule()
    schedules.ensure_inbox_schedule()
    settings.INBOX_POLL_MINUTES = 2
    assert schedules.ensure_inbox_schedule().action == "updated"
    assert Schedule.objects.get(name=schedules.INBOX_SCHEDULE).minutes == 2
    settings.INBOX_POLL_MINUTES = 0
    assert schedules.ensure_inbox_schedule().action == "removed"
    assert list(Schedule.objects.values_list("name", flat=True)) == [schedules.PIPELINE_SCHEDULE]


def test_no_inbox_no_schedule(settings):
    settings.INBOX_URL = ""
    assert schedules.ensure_inbox_schedule().action == "off"
    assert not Schedule.objects.exists()
