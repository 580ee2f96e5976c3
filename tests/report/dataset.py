"""A fixed data set with known outcomes, for the report, the dashboard and the browser test.

Nine leads, six emails (five sent in the last 30 days, one sent 40 days ago that was
answered yesterday, one failed), nine inbound messages, skip logs and engage runs; the
figures it must give are in `EXPECTED` (and `expected_days` for the days it touches).
"""

from datetime import date, datetime, timedelta

from django.utils import timezone

from leads.models import Job, PipelineRun, RunOutcome, SkipLog
from tests.builders import make_email, make_inbound, make_lead

DAY = timedelta(days=1)


def build(now: datetime) -> None:
    """Write the data set, its times relative to `now`."""

    def message(source: str, generated: datetime, *, approved: bool = True) -> dict:
        return {
            "message_subject": "A quick idea",
            "message_body": "Hello there",
            "message_source": source,
            "message_generated_at": generated,
            "message_approved_at": generated if approved else None,
        }

    replied = make_lead(
        name="Ada Replied",
        **message("ai", now - 2 * DAY),
        sequence_stop_reason="replied",
        sequence_stopped_at=now,
        last_pulled_at=now - 2 * DAY,
        scraped_at=now - 2 * DAY,
    )
    make_inbound("reply", make_email(replied, sent_at=now - DAY), received_at=now)

    followed_up = make_lead(
        name="Bob Followed",
        **message("ai", now - 3 * DAY),
        last_pulled_at=now - 3 * DAY,
        scraped_at=now - 3 * DAY,
        scrape_error="timeout",
    )
    first = make_email(followed_up, mailbox="second", sent_at=now - 2 * DAY)
    second = make_email(followed_up, touch=2, mailbox="second", sent_at=now - DAY)
    make_inbound("auto_reply", second, received_at=now - DAY)
    make_inbound("bounce_soft", first, received_at=now - 2 * DAY)

    bounced = make_lead(
        name="Cy Bounced", **message("fallback", now - DAY), sequence_stop_reason="bounced", sequence_stopped_at=now
    )
    make_inbound("bounce_hard", make_email(bounced, message_source="fallback", sent_at=now), received_at=now)

    complained = make_lead(
        name="Di Complained",
        **message("manual", now - 4 * DAY),
        sequence_stop_reason="complained",
        sequence_stopped_at=now - DAY,
    )
    email = make_email(complained, message_source="manual", mailbox="second", sent_at=now - 3 * DAY)
    make_inbound("complaint", email, received_at=now - DAY)
    make_inbound("unsubscribe", email, received_at=now - DAY)

    # Emailed 40 days ago (outside the period), answered yesterday (inside it).
    old = make_lead(
        name="Ed Late",
        **message("fallback", now - 60 * DAY),
        sequence_stop_reason="replied",
        sequence_stopped_at=now - DAY,
        last_pulled_at=now - 60 * DAY,
    )
    make_inbound("reply", make_email(old, message_source="fallback", sent_at=now - 40 * DAY), received_at=now - DAY)

    failed = make_lead(name="Fay Failed", **message("ai", now - 5 * DAY))
    make_email(failed, status="failed", sent_at=None)

    make_lead(name="Gus Waiting", **message("ai", now, approved=False))  # the review queue

    no_email = make_lead(name="Hal Nomail", email="", skip_reason="no_email")
    invalid = make_lead(name="Ivy Invalid", email="not an address", skip_reason="invalid_email")
    for lead, reason, when in (
        (no_email, "no_email", now - DAY),
        (no_email, "no_email", now),
        (invalid, "invalid_email", now - 40 * DAY),
    ):
        log = SkipLog.objects.create(lead=lead, stage="engage", reason=reason)
        SkipLog.objects.filter(pk=log.pk).update(created_at=when)

    make_inbound("other", None, received_at=now)  # answers nothing we sent: not counted

    _run(Job.ENGAGE, now - 2 * DAY, deferred=5, extra={"deferred_by": {"daily_cap": 5}})
    _run(Job.ENGAGE, now - DAY, deferred=3, extra={"deferred_by": {"awaiting_approval": 2, "daily_cap": 1}})
    _run(
        Job.CHECK_INBOX, now - DAY / 2, outcome=RunOutcome.FAILED, error="The IMAP server refused the login (INBOX_URL)"
    )


def _run(job: str, started: datetime, *, outcome: str = RunOutcome.SUCCEEDED, **fields) -> None:
    run = PipelineRun.objects.create(job=job, outcome=outcome, finished_at=started + timedelta(minutes=1), **fields)
    PipelineRun.objects.filter(pk=run.pk).update(started_at=started)


def _zero(sent: int, **counts) -> dict:
    return {
        "sent": sent,
        "replied": 0,
        "auto_replied": 0,
        "bounced": {"hard": 0, "soft": 0},
        "complained": 0,
        "unsubscribed": 0,
        **counts,
    }


EXPECTED = {
    "days": 30,
    "sent": 5,
    "replied": 2,
    "auto_replied": 1,
    "bounced": {"hard": 1, "soft": 1},
    "complained": 1,
    "unsubscribed": 1,
    "by_touch": {
        "1": _zero(4, replied=2, bounced={"hard": 1, "soft": 1}, complained=1, unsubscribed=1, reply_rate=0.5),
        "2": _zero(1, auto_replied=1, reply_rate=0.0),
    },
    "by_source": {
        "ai": {"sent": 3, "replied": 1, "reply_rate": 0.3333},
        "fallback": {"sent": 1, "replied": 1, "reply_rate": 1.0},
        "manual": {"sent": 1, "replied": 0, "reply_rate": 0.0},
    },
    "by_mailbox": {
        "default": {
            "sent": 2,
            "sent_today": 1,
            "cap_today": 50,
            "bounced": {"hard": 1, "soft": 0},
            "complained": 0,
            "bounce_rate": 0.5,
            "complaint_rate": 0.0,
            "paused": False,
            "pause_reason": "",
        },
        "second": {  # not configured (any more): no cap, no paused state
            "sent": 3,
            "sent_today": 0,
            "cap_today": None,
            "bounced": {"hard": 0, "soft": 1},
            "complained": 1,
            "bounce_rate": 0.0,
            "complaint_rate": 0.3333,
            "paused": None,
            "pause_reason": "",
        },
    },
    "pulled": 2,
    "scraped": 2,
    "scrape_failed": 1,
    "messages": {"ai": 4, "fallback": 1, "manual": 1},
    "stopped": {
        "replied": 2,
        "auto_replied": 0,
        "bounced": 1,
        "complained": 1,
        "unsubscribed": 0,
        "status_changed": 0,
    },
    "skipped": {"no_email": 2},
    "deferred": {"awaiting_approval": 2, "daily_cap": 1},
    "deferred_total": 3,
    "funnel": {"leads": 9, "with_message": 7, "approved": 6, "sent": 5, "replied": 2},
    "review_queue": 1,
}


def expected_days(today: date) -> dict[str, dict]:
    """The days of the period that saw something: today, and one, two and three days ago."""
    return {
        today.isoformat(): {"sent": 1, "answers": 2, "replied": 1},
        (today - DAY).isoformat(): {"sent": 2, "answers": 4, "replied": 1},
        (today - 2 * DAY).isoformat(): {"sent": 1, "answers": 1, "replied": 0},
        (today - 3 * DAY).isoformat(): {"sent": 1, "answers": 0, "replied": 0},
    }


def today() -> date:
    return timezone.localdate()
