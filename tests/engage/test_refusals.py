"""A mail server that says "later" (4xx), "no" (5xx) or closes the connection (421), against a real aiosmtpd."""

from datetime import UTC, datetime, timedelta

import pytest

from leads.models import EmailStatus, Lead, OutboundEmail, Suppression
from pipeline import engage
from tests.builders import make_lead, make_leads

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_greylisted_email_goes_out_on_a_later_run_exactly_once(smtp):
    lead = make_lead(email="grey@list.example")
    smtp.greylist["grey@list.example"] = 1
    first = engage.run(now=MONDAY)
    assert (first.succeeded, first.failed) == (0, 0)
    email = lead.emails.get()
    assert (email.status, email.attempts, email.smtp_code) == (EmailStatus.PENDING, 1, 451)
    assert "451 4.7.1" in email.error
    # Not before its retry time, then once.
    assert engage.run(now=MONDAY + timedelta(minutes=30)).succeeded == 0
    assert smtp.rcpt_attempts == ["grey@list.example"]
    assert engage.run(now=MONDAY + timedelta(hours=2)).succeeded == 1
    assert engage.run(now=MONDAY + timedelta(hours=9)).succeeded == 0
    assert smtp.recipients == ["grey@list.example"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    assert Lead.objects.get(pk=lead.pk).engagement_status == "Contacted"


def test_a_server_that_keeps_saying_later_fails_the_email_after_three_attempts_with_its_last_answer(smtp):
    lead = make_lead(email="grey@list.example")
    smtp.greylist["grey@list.example"] = 100
    runs = [engage.run(now=MONDAY + timedelta(hours=hours)) for hours in (0, 1, 2, 8, 9, 20, 30)]
    assert sum(run.failed for run in runs) == 1
    assert smtp.rcpt_attempts == ["grey@list.example"] * 3
    email = lead.emails.get()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 3)
    assert email.error.endswith("451 4.7.1 Greylisted, try again later")


def test_a_550_suppresses_the_address_so_no_other_row_with_it_is_tried(smtp):
    smtp.refuse = {"gone@nowhere.example"}
    make_lead(email="gone@nowhere.example")
    assert engage.run(now=MONDAY).failed == 1
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.source) == ("gone@nowhere.example", "bounced", "smtp")
    make_lead(email="GONE@nowhere.example")
    later = engage.run(now=MONDAY + timedelta(days=1))
    assert later.skipped == {"suppressed": 1}
    assert smtp.rcpt_attempts == ["gone@nowhere.example"]


def test_after_a_421_the_rest_of_the_batch_goes_over_a_new_connection_and_nothing_stays_sending(smtp):
    first, *rest = make_leads(4)
    smtp.close_on = {first.email}
    summary = engage.run(now=MONDAY)
    assert (summary.succeeded, summary.failed) == (3, 0)
    assert sorted(smtp.recipients) == sorted(lead.email for lead in rest)
    assert not OutboundEmail.objects.filter(status=EmailStatus.SENDING).exists()
    assert OutboundEmail.objects.get(lead=first).status == EmailStatus.PENDING  # tried again later
    assert engage.run(now=MONDAY + timedelta(hours=2)).succeeded == 1
    assert len(smtp.recipients) == 4
