"""The schedules the cluster runs (the pipeline, the daily Airtable full pull), kept in step with
the settings by `manage.py setup_schedules`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from pipeline.inbox import mailboxes as inbox_mailboxes

PIPELINE_SCHEDULE = "outreach pipeline"  # Schedule.name: how this module finds its own row
PIPELINE_TASK = "pipeline.jobs.tasks.run_pipeline"
FULL_PULL_SCHEDULE = "airtable full pull"  # finds deletions, which incremental pulls cannot see
FULL_PULL_TASK = "pipeline.jobs.tasks.run_full_pull"
SEND_SCHEDULE = "send due emails"  # every minute: emails go out at a human pace, not in the pipeline's burst
SEND_TASK = "pipeline.jobs.tasks.run_send_due"
INBOX_SCHEDULE = "check inbox"
INBOX_TASK = "pipeline.jobs.tasks.run_check_inbox"


@dataclass(frozen=True, slots=True)
class Outcome:
    action: str  # created | updated | unchanged | removed | off
    minutes: int


def ensure_pipeline_schedule(*, now: datetime | None = None) -> Outcome:
    """Make the pipeline's schedule match PIPELINE_SCHEDULE_MINUTES (0: no schedule).

    Running it again with the same settings changes nothing (settings.py keeps the
    interval within what Schedule can hold).
    """
    now = now or timezone.now()
    return _ensure_repeating(
        PIPELINE_SCHEDULE, PIPELINE_TASK, settings.PIPELINE_SCHEDULE_MINUTES, first_run=now, now=now
    )


def ensure_send_schedule(*, now: datetime | None = None) -> Outcome:
    """Make the per-minute sending tick exist (off only with PIPELINE_SCHEDULE_MINUTES=0, as the pipeline's).

    The pipeline (sync, scrape, generate, engage, push) keeps its own interval; this tick
    sends what became due since: a window that opened, a gap that ended."""
    now = now or timezone.now()
    minutes = 1 if settings.PIPELINE_SCHEDULE_MINUTES else 0
    return _ensure_repeating(SEND_SCHEDULE, SEND_TASK, minutes, first_run=now, now=now)


def ensure_inbox_schedule(*, now: datetime | None = None) -> Outcome:
    """Make the inbox's schedule match INBOX_POLL_MINUTES; no schedule when it is 0 or no inbox is configured."""
    now = now or timezone.now()
    minutes = settings.INBOX_POLL_MINUTES if inbox_mailboxes.inboxes() else 0
    return _ensure_repeating(INBOX_SCHEDULE, INBOX_TASK, minutes, first_run=now, now=now)


def ensure_full_pull_schedule(*, now: datetime | None = None) -> Outcome:
    """Make the Airtable full pull's schedule match AIRTABLE_FULL_PULL_HOURS (0: no schedule).

    Incremental pulls cannot see a record deleted in Airtable (nor a lookup changed by
    another table); this pull reads every record. Running it again changes nothing.
    """
    now = now or timezone.now()
    minutes = settings.AIRTABLE_FULL_PULL_HOURS * 60
    # The first pipeline run pulls every record anyway: the first full pull is one interval away.
    return _ensure_repeating(
        FULL_PULL_SCHEDULE, FULL_PULL_TASK, minutes, first_run=now + timedelta(minutes=minutes), now=now
    )


def _ensure_repeating(name: str, func: str, minutes: int, *, first_run: datetime, now: datetime) -> Outcome:
    """One schedule named `name` running `func` every `minutes` (0: none), whatever rows there were."""
    wanted = {"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1}
    with transaction.atomic():
        # Locked, so that two set-ups at once (two containers starting) leave one row.
        rows = list(Schedule.objects.select_for_update().filter(name=name).order_by("id"))
        if minutes == 0:
            for row in rows:
                row.delete()
            return Outcome("removed" if rows else "off", 0)
        if not rows:
            Schedule.objects.create(name=name, next_run=first_run, **wanted)
            return Outcome("created", minutes)
        schedule, duplicates = rows[0], rows[1:]
        for row in duplicates:
            row.delete()
        if all(getattr(schedule, key) == value for key, value in wanted.items()) and not duplicates:
            return Outcome("unchanged", minutes)
        for key, value in wanted.items():
            setattr(schedule, key, value)
        # A shorter interval takes effect now, not after the old, longer wait.
        schedule.next_run = min(schedule.next_run or now, now + timedelta(minutes=minutes))
        schedule.save()
        return Outcome("updated", minutes)
