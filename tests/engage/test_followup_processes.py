"""Follow-ups sent by engagers as real processes: three at once send each touch once, and one killed
between its claim and the send sends nothing twice and loses nothing."""

import os
import signal
import sys
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import EmailStatus, InboxState, Lead, OutboundEmail
from pipeline import engage
from tests.builders import lead_fields, sent_first_touches
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, json_commands_at_once, running, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENGAGE = [sys.executable, "manage.py", "engage", "--json"]
INBOX = "imaps://team:secret@imap.example:993/INBOX"


def _contacted(count: int) -> list[OutboundEmail]:
    """`count` leads whose touch 1 went out four days ago; the inbox was read a minute ago."""
    sent = timezone.now() - timedelta(days=4)
    leads = Lead.objects.bulk_create([Lead(**lead_fields(engagement_status="Contacted")) for _ in range(count)])
    emails = sent_first_touches(leads, sent_at=sent)
    InboxState.objects.create(mailbox="default", folder="INBOX", last_read_at=timezone.now() - timedelta(minutes=1))
    return emails


def _check_each_touch_once(count: int, batch_size: int) -> None:
    first = {email.recipient: email.message_id for email in _contacted(count)}
    with FakeSMTP() as smtp:
        env = django_env(
            EMAIL_URL=smtp.email_url(),
            OUTREACH_DAILY_CAP="1000000",
            OUTREACH_BATCH_SIZE=str(batch_size),
            OUTREACH_FOLLOWUP_DAYS="3,5",
            INBOX_URL=INBOX,
            LOG_LEVEL="WARNING",
        )
        summaries = json_commands_at_once(ENGAGE, processes=3, env=env)
        received = list(smtp.received)
    assert sum(summary["touches"].get("2", 0) for summary in summaries) == count
    assert Counter(r.to for r in received).most_common(1)[0][1] == 1  # nobody twice
    assert {r.to for r in received} == set(first)
    assert all(r.message["In-Reply-To"] == first[r.to] for r in received)
    assert OutboundEmail.objects.filter(touch=2, status=EmailStatus.SENT).count() == count
    assert sum(1 for summary in summaries if summary["succeeded"]) >= 2, summaries  # they did overlap


@pytest.mark.postgres
def test_three_engagers_at_once_on_postgresql_send_each_follow_up_once():
    _check_each_touch_once(count=600, batch_size=3)


def test_three_engagers_at_once_on_any_database_send_each_follow_up_once():
    _check_each_touch_once(count=150, batch_size=3)


def test_a_worker_killed_between_claim_and_send_of_a_follow_up_sends_nothing_twice_and_loses_nothing(
    tmp_path, settings
):
    emails = _contacted(30)
    settings.OUTREACH_DAILY_CAP = 1000  # touch 1 was created today too, as the test set it up
    settings.OUTREACH_FOLLOWUP_DAYS = [3, 5]
    settings.INBOX_URL = INBOX
    env_extra = {
        "OUTREACH_BATCH_SIZE": "10",
        "EMAIL_TIMEOUT": "120",
        "OUTREACH_FOLLOWUP_DAYS": "3,5",
        "INBOX_URL": INBOX,
    }
    with FakeSMTP(hang=True) as stalled:
        env = django_env(EMAIL_URL=stalled.email_url(), **env_extra)
        with running([sys.executable, "manage.py", "engage"], env=env, log=tmp_path / "engage.log") as process:
            wait_until(lambda: stalled.hanging == 1 or process.poll() is not None)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    statuses = Counter(OutboundEmail.objects.filter(touch=2).values_list("status", flat=True))
    assert statuses == {EmailStatus.SENDING: 1, EmailStatus.PENDING: 9}, (tmp_path / "engage.log").read_text()
    in_flight = OutboundEmail.objects.get(status=EmailStatus.SENDING)

    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        now = timezone.now()
        InboxState.objects.update(last_read_at=now)
        assert engage.run(now=now).extra["touches"] == {"2": 20}  # the 9 fresh claims may be a live worker's
        later = now + timedelta(minutes=20)
        InboxState.objects.update(last_read_at=later)
        assert engage.run(now=later).extra["touches"] == {"2": 9}  # the dead worker's claims, released
        received = [r.to for r in smtp.received]
        # Five days on, touch 3 follows for all but the lead whose touch 2 may or may not have gone:
        # it waits for a person (Outbound emails -> "needs a decision").
        week = now + timedelta(days=6)
        InboxState.objects.update(last_read_at=week)
        assert engage.run(now=week).extra["touches"] == {"3": 29}
    assert len(received) == len(set(received)) == 29
    assert in_flight.recipient not in received
    assert set(received) | {in_flight.recipient} == {email.recipient for email in emails}
    assert not OutboundEmail.objects.filter(lead_id=in_flight.lead_id, touch=3).exists()
