"""Engagers as real processes: several at once send each lead exactly once, and one
killed in the middle of a send sends nothing twice and loses nothing."""

import os
import signal
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import EmailStatus, OutboundEmail, SkipLog
from pipeline import engage
from tests.builders import lead_fields, make_leads
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, json_commands_at_once, running, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENGAGE = [sys.executable, "manage.py", "engage", "--json"]


def _engage_at_once(workers: int, env: dict[str, str]) -> list[dict]:
    return json_commands_at_once(ENGAGE, processes=workers, env=env)


def _leads_with_duplicates(unique: int, duplicates: int) -> list[str]:
    """`unique` addresses; `duplicates` of them also on the next row in upper case, where a
    second worker skipping the first row's lock picks the twin up at the same moment."""
    from leads.models import Lead

    step = unique // duplicates
    rows = []
    for n in range(unique):
        rows.append(Lead(**lead_fields()))
        if n % step == 0:
            rows.append(Lead(**lead_fields(email=rows[-1].email.upper())))
    Lead.objects.bulk_create(rows)
    return [row.email for row in rows if row.email == row.email.lower()]


def _check_exactly_once(unique: int, duplicates: int, batch_size: int) -> None:
    addresses = _leads_with_duplicates(unique, duplicates)
    with FakeSMTP() as smtp:
        env = django_env(
            EMAIL_URL=smtp.email_url(),
            OUTREACH_DAILY_CAP="1000000",
            OUTREACH_BATCH_SIZE=str(batch_size),
            LOG_LEVEL="WARNING",
        )
        summaries = _engage_at_once(3, env)
        received = [recipient.lower() for recipient in smtp.recipients]
    assert sum(summary["succeeded"] for summary in summaries) == unique
    # Each worker walks the skipped leads, but a reason is logged once, by whichever came first.
    assert SkipLog.objects.filter(reason="already_contacted").count() == duplicates
    assert len(received) == unique
    assert Counter(received).most_common(1)[0][1] == 1  # no address twice
    assert set(received) == {address.lower() for address in addresses}
    assert OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == unique
    assert sum(1 for summary in summaries if summary["succeeded"]) >= 2, summaries  # they did overlap


@pytest.mark.postgres
def test_three_engagers_at_once_on_postgresql_send_each_lead_exactly_once():
    _check_exactly_once(unique=1000, duplicates=100, batch_size=3)


def test_three_engagers_at_once_on_any_database_send_each_lead_exactly_once():
    _check_exactly_once(unique=300, duplicates=30, batch_size=3)


def _check_cap(leads: int, cap: int, batch_size: int) -> None:
    make_leads(leads)
    with FakeSMTP() as smtp:
        env = django_env(
            EMAIL_URL=smtp.email_url(),
            OUTREACH_DAILY_CAP=str(cap),
            OUTREACH_BATCH_SIZE=str(batch_size),
            LOG_LEVEL="WARNING",
        )
        summaries = _engage_at_once(3, env)
        assert len(smtp.received) == cap
    assert sum(summary["succeeded"] for summary in summaries) == OutboundEmail.objects.count() == cap
    assert all(summary["deferred"] for summary in summaries), summaries


@pytest.mark.postgres
def test_three_engagers_at_once_on_postgresql_keep_to_the_daily_cap():
    _check_cap(leads=600, cap=100, batch_size=30)


def test_three_engagers_at_once_on_any_database_keep_to_the_daily_cap():
    _check_cap(leads=200, cap=50, batch_size=10)


def test_a_worker_killed_in_the_middle_of_a_send_sends_nothing_twice_and_loses_nothing(
    tmp_path, settings, client, plain_static_storage
):
    leads = make_leads(30)
    with FakeSMTP(hang=True) as stalled:
        env = django_env(EMAIL_URL=stalled.email_url(), OUTREACH_BATCH_SIZE="10", EMAIL_TIMEOUT="120")
        with running([sys.executable, "manage.py", "engage"], env=env, log=tmp_path / "engage.log") as process:
            # The server holds the first message after receiving all of it: claimed, handed over, unanswered.
            wait_until(lambda: stalled.hanging == 1 or process.poll() is not None)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    statuses = Counter(OutboundEmail.objects.values_list("status", flat=True))
    assert statuses == {EmailStatus.SENDING: 1, EmailStatus.PENDING: 9}, (tmp_path / "engage.log").read_text()
    in_flight = OutboundEmail.objects.get(status=EmailStatus.SENDING)

    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        # At once: the 20 leads never claimed go out; the 9 fresh claims could still be a live worker's.
        assert engage.run().succeeded == 20
        # Later, the dead worker's claims are released and sent; the email in flight never again.
        assert engage.run(now=timezone.now() + timedelta(minutes=20)).succeeded == 9
        assert engage.run(now=timezone.now() + timedelta(days=3)).processed == 0
        received = smtp.recipients
    assert len(received) == len(set(received)) == 29
    assert in_flight.recipient not in received
    assert set(received) | {in_flight.recipient} == {lead.email for lead in leads}

    # A person sees it in the admin, under "needs a decision".
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("reviewer", "reviewer@example.com", "pw"))
    page = client.get("/admin/leads/outboundemail/", {"stuck": "yes"})
    assert list(page.context["cl"].result_list) == [in_flight]


@pytest.mark.postgres
def test_three_engagers_over_two_mailboxes_keep_each_cap_and_gap_and_send_each_lead_once():
    make_leads(20)
    with FakeSMTP() as alpha, FakeSMTP() as beta:
        env = django_env(
            OUTREACH_MAILBOXES="alpha,beta",
            MAILBOX_ALPHA_FROM="Ann <ann@alpha.example>",
            MAILBOX_ALPHA_EMAIL_URL=alpha.email_url(),
            MAILBOX_ALPHA_DAILY_CAP="3",
            MAILBOX_BETA_FROM="Bob <bob@beta.example>",
            MAILBOX_BETA_EMAIL_URL=beta.email_url(),
            MAILBOX_BETA_DAILY_CAP="3",
            OUTREACH_SEND_GAP_SECONDS="1",
            LOG_LEVEL="WARNING",
        )
        rounds = []
        for _ in range(5):  # three engagers at once, again and again, until both caps are spent
            rounds.append(sum(summary["succeeded"] for summary in _engage_at_once(3, env)))
            time.sleep(1.1)
        received = alpha.recipients + beta.recipients
    assert max(rounds) <= 2, rounds  # at most one email per mailbox while its gap runs, whatever the workers
    assert (len(alpha.received), len(beta.received)) == (3, 3)
    assert Counter(received).most_common(1)[0][1] == 1
    for name in ("alpha", "beta"):
        sent = sorted(
            OutboundEmail.objects.filter(mailbox=name, status=EmailStatus.SENT).values_list("sent_at", flat=True)
        )
        assert all(later - earlier >= timedelta(seconds=1) for earlier, later in zip(sent, sent[1:], strict=False))
