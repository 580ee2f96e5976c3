"""Follow-ups with several mailboxes: each leaves from its touch 1's mailbox, keeps that mailbox's
pause, and waits for the lead's own working hours."""

from datetime import UTC, datetime, timedelta

import pytest

from leads.models import InboxState, MailboxState, OutboundEmail
from pipeline import engage
from tests.builders import make_lead, make_leads

pytestmark = pytest.mark.django_db

MONDAY_10_UTC = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
THURSDAY_10_UTC = MONDAY_10_UTC + timedelta(days=3, minutes=1)


@pytest.fixture
def mailboxes_with_inboxes(two_mailboxes, settings):
    settings.OUTREACH_FOLLOWUP_DAYS = [3]
    settings.ANYMAIL_WEBHOOK_SECRET = ""
    for name in ("alpha", "beta"):
        settings.MAILBOX_SETTINGS[name]["inbox_url"] = f"imaps://{name}:secret@imap.example:993/INBOX"
    return two_mailboxes


def _read(at: datetime) -> None:
    for name in ("alpha", "beta"):
        InboxState.objects.update_or_create(mailbox=name, folder="INBOX", defaults={"last_read_at": at})


def test_each_follow_up_leaves_from_the_mailbox_of_its_touch_1(mailboxes_with_inboxes):
    make_leads(4)
    assert engage.run(now=MONDAY_10_UTC).extra["touches"] == {"1": 4}
    first = {r.to: (name, r.message) for name, server in mailboxes_with_inboxes.items() for r in server.received}
    assert {name for name, _ in first.values()} == {"alpha", "beta"}
    _read(THURSDAY_10_UTC)
    assert engage.run(now=THURSDAY_10_UTC).extra["touches"] == {"2": 4}
    for name, server in mailboxes_with_inboxes.items():
        for received in server.received[2:]:
            sent_from, original = first[received.to]
            assert sent_from == name
            assert received.message["From"] == original["From"]
            assert received.message["In-Reply-To"] == original["Message-ID"]
    assert set(OutboundEmail.objects.filter(touch=2).values_list("mailbox", flat=True)) == {"alpha", "beta"}


def test_a_paused_mailbox_holds_its_follow_ups_and_the_other_sends_its_own(mailboxes_with_inboxes):
    make_leads(4)
    engage.run(now=MONDAY_10_UTC)
    MailboxState.objects.filter(name="alpha").update(paused_at=MONDAY_10_UTC, pause_reason="by hand")
    _read(THURSDAY_10_UTC)
    summary = engage.run(now=THURSDAY_10_UTC)
    assert (summary.extra["touches"], summary.extra["deferred_by"]) == ({"2": 2}, {"mailbox_paused": 2})
    assert set(OutboundEmail.objects.filter(touch=2).values_list("mailbox", flat=True)) == {"beta"}


def test_a_mailbox_whose_inbox_is_stale_holds_only_its_own_follow_ups(mailboxes_with_inboxes):
    make_leads(4)
    engage.run(now=MONDAY_10_UTC)
    _read(THURSDAY_10_UTC)
    InboxState.objects.filter(mailbox="beta").update(last_read_at=MONDAY_10_UTC)
    summary = engage.run(now=THURSDAY_10_UTC)
    assert (summary.extra["touches"], summary.extra["deferred_by"]) == ({"2": 2}, {"inbox_stale": 2})


def test_a_follow_up_waits_for_the_leads_working_hours(mailboxes_with_inboxes, settings):
    settings.OUTREACH_SEND_WINDOW = "09:00-17:00"
    settings.OUTREACH_SEND_DAYS = "mon-fri"
    lead = make_lead(time_zone="Europe/Berlin")
    engage.run(now=MONDAY_10_UTC)  # 11:00 in Berlin
    evening = MONDAY_10_UTC + timedelta(days=3, hours=10)  # Thursday 21:00 in Berlin
    _read(evening)
    assert engage.run(now=evening).extra["deferred_by"] == {"outside_window": 1}
    morning = MONDAY_10_UTC + timedelta(days=4, hours=-1)  # Friday 10:00 in Berlin
    _read(morning)
    assert engage.run(now=morning).extra["touches"] == {"2": 1}
    assert OutboundEmail.objects.filter(lead=lead, touch=2).exists()
