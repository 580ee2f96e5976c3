"""Several mailboxes, each with its own SMTP server, cap, gap, warm-up and pause; windows in each lead's zone."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from leads.models import EmailStatus, MailboxState, OutboundEmail
from pipeline import engage
from pipeline.engage import mailboxes
from tests.builders import make_lead, make_leads

pytestmark = pytest.mark.django_db

MONDAY_10_UTC = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_each_mailbox_sends_from_its_own_server_up_to_its_own_cap(two_mailboxes):
    make_leads(8)
    summary = engage.run(now=MONDAY_10_UTC)
    assert (summary.succeeded, summary.deferred) == (6, 2)
    assert summary.extra["deferred_by"] == {"daily_cap": 2}
    assert summary.extra["touches"] == {"1": 6}
    for name, server in two_mailboxes.items():
        assert len(server.received) == 3
        assert {item.message["From"] for item in server.received} == {
            "Ann <ann@alpha.example>" if name == "alpha" else "Bob <bob@beta.example>"
        }
        assert OutboundEmail.objects.filter(mailbox=name, status=EmailStatus.SENT).count() == 3
    # Another run that day sends nothing more; the next day each mailbox has room again.
    assert engage.run(now=MONDAY_10_UTC + timedelta(hours=1)).extra["deferred_by"] == {"daily_cap": 2}
    assert engage.run(now=MONDAY_10_UTC + timedelta(days=1)).succeeded == 2


def test_first_emails_are_spread_over_the_mailbox_with_most_room(two_mailboxes, settings):
    settings.MAILBOX_SETTINGS["beta"]["daily_cap"] = 5
    make_leads(4)
    engage.run(now=MONDAY_10_UTC)
    counts = {name: len(server.received) for name, server in two_mailboxes.items()}
    assert counts == {"alpha": 1, "beta": 3}  # beta had 5, alpha 3: beta until they are even, then alternately


def test_one_mailbox_sends_nothing_while_its_gap_runs_and_the_other_does_not_wait(two_mailboxes, settings):
    settings.OUTREACH_SEND_GAP_SECONDS = (60.0, 120.0)
    settings.MAILBOX_SETTINGS["alpha"]["daily_cap"] = settings.MAILBOX_SETTINGS["beta"]["daily_cap"] = 10
    make_leads(6)
    first = engage.run(now=MONDAY_10_UTC)
    assert first.succeeded == 2  # one from each mailbox
    assert first.extra["deferred_by"] == {"not_due": 4}
    assert engage.run(now=MONDAY_10_UTC + timedelta(seconds=59)).succeeded == 0
    states = MailboxState.objects.in_bulk(field_name="name")
    for state in states.values():
        assert timedelta(seconds=60) <= state.next_send_at - state.last_sent_at <= timedelta(seconds=121)
    later = engage.run(now=MONDAY_10_UTC + timedelta(seconds=125))
    assert later.succeeded == 2
    sent = sorted(OutboundEmail.objects.filter(mailbox="alpha").values_list("sent_at", flat=True))
    assert sent[1] - sent[0] >= timedelta(seconds=60)


def test_a_dead_workers_hold_on_a_mailbox_expires(two_mailboxes, settings):
    settings.OUTREACH_SEND_GAP_SECONDS = (60.0, 60.0)
    make_leads(2)
    mailboxes.ensure_states()
    # A worker claimed both mailboxes and died before it sent: their holds run to 10:02.
    MailboxState.objects.update(claimed_until=MONDAY_10_UTC + mailboxes.HOLD)
    assert engage.run(now=MONDAY_10_UTC + timedelta(seconds=30)).extra["deferred_by"] == {"not_due": 2}
    assert engage.run(now=MONDAY_10_UTC + mailboxes.HOLD + timedelta(seconds=1)).succeeded == 2


def test_warm_up_starts_small_and_grows_on_each_day_the_mailbox_sent(two_mailboxes, settings):
    settings.OUTREACH_MAILBOXES = ["alpha"]
    settings.MAILBOX_SETTINGS["alpha"]["daily_cap"] = 6
    settings.OUTREACH_WARMUP_START = 2
    settings.OUTREACH_WARMUP_STEP = 3
    make_leads(20)
    sent = [engage.run(now=MONDAY_10_UTC + timedelta(days=day)).succeeded for day in range(4)]
    assert sent == [2, 5, 6, 6]  # 2, 2+3, then the cap of 6
    state = MailboxState.objects.get(name="alpha")
    assert (state.first_send_day, state.send_days) == (MONDAY_10_UTC.date(), 4)


def test_a_day_without_sending_does_not_count_for_warm_up(two_mailboxes, settings):
    settings.OUTREACH_MAILBOXES = ["alpha"]
    settings.MAILBOX_SETTINGS["alpha"]["daily_cap"] = 50
    settings.OUTREACH_WARMUP_START = 2
    make_leads(2)
    assert engage.run(now=MONDAY_10_UTC).succeeded == 2
    make_leads(10)
    assert engage.run(now=MONDAY_10_UTC + timedelta(days=3)).succeeded == 4  # its second sending day


def test_a_mailbox_whose_bounces_climb_pauses_itself_until_resumed(two_mailboxes, settings, caplog):
    settings.OUTREACH_MAILBOXES = ["alpha"]
    settings.MAILBOX_SETTINGS["alpha"]["daily_cap"] = 100
    bounced = [f"gone{n}@nowhere.example" for n in range(3)]
    two_mailboxes["alpha"].refuse = set(bounced)
    for address in bounced:
        make_lead(email=address)
    make_leads(17)
    assert engage.run(now=MONDAY_10_UTC).failed == 3  # 3 of 20 sends refused with 5xx: 15% > 5%
    make_leads(5)
    with caplog.at_level(logging.WARNING, logger="pipeline.engage.stage"):
        summary = engage.run(now=MONDAY_10_UTC + timedelta(minutes=1))
        engage.run(now=MONDAY_10_UTC + timedelta(minutes=2))
    assert summary.succeeded == 0
    assert summary.extra["deferred_by"] == {"mailbox_paused": 5}
    assert [record.message for record in caplog.records].count("mailbox paused") == 1
    state = MailboxState.objects.get(name="alpha")
    assert "hard bounces 3 of the last 20 sends" in state.pause_reason
    assert mailboxes.resume(["alpha"], now=MONDAY_10_UTC + timedelta(minutes=3)) == 1
    assert engage.run(now=MONDAY_10_UTC + timedelta(minutes=4)).succeeded == 5


def test_leads_are_emailed_only_inside_their_own_working_hours(two_mailboxes, settings):
    settings.OUTREACH_SEND_WINDOW = "09:00-17:00"
    settings.OUTREACH_SEND_DAYS = "mon-fri"
    settings.OUTREACH_TIME_ZONE = "America/New_York"
    berlin = make_lead(time_zone="Europe/Berlin")  # 11:00 there
    kolkata = make_lead(time_zone="UTC+05:30")  # 15:30 there
    tokyo = make_lead(time_zone="Japan")  # 19:00 there
    no_zone = make_lead(time_zone="")  # New York: 05:00
    summary = engage.run(now=MONDAY_10_UTC)
    assert summary.succeeded == 2
    assert summary.extra["deferred_by"] == {"outside_window": 2}
    assert set(OutboundEmail.objects.values_list("lead_id", flat=True)) == {berlin.pk, kolkata.pk}
    later = engage.run(now=MONDAY_10_UTC + timedelta(hours=5))  # 10:00 in New York, 00:00 in Tokyo
    assert later.succeeded == 1
    assert OutboundEmail.objects.filter(lead=no_zone).exists()
    assert not OutboundEmail.objects.filter(lead=tokyo).exists()


def test_the_dry_run_says_when_each_deferred_lead_will_go(two_mailboxes, settings):
    settings.OUTREACH_SEND_WINDOW = "09:00-17:00"
    settings.OUTREACH_SEND_GAP_SECONDS = (60.0, 60.0)
    make_lead(time_zone="Asia/Tokyo")
    make_leads(3, time_zone="Europe/Berlin")
    summary = engage.run(now=MONDAY_10_UTC, dry_run=True)
    details = {item["reason"]: item["detail"] for item in summary.items}
    assert details["outside_window"] == "next window Tue 09:00 Asia/Tokyo"
    assert "gap ends" in details["not_due"]
    assert summary.extra["deferred_by"] == {"not_due": 1, "outside_window": 1}
    assert summary.succeeded == 2
    assert not OutboundEmail.objects.exists()


def test_engage_json_reports_deferred_by_reason_and_touches(two_mailboxes, capsys):
    make_leads(7)
    call_command("engage", "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["succeeded"], data["deferred"]) == (6, 1)
    assert data["deferred_by"] == {"daily_cap": 1}
    assert data["touches"] == {"1": 6}


def test_the_tick_keeps_sending_as_each_gap_ends_within_its_minute(two_mailboxes, settings):
    settings.OUTREACH_MAILBOXES = ["alpha"]
    settings.OUTREACH_SEND_GAP_SECONDS = (0.5, 0.5)
    make_leads(3)
    summary = engage.run_due(seconds=5)
    assert summary.succeeded == 3
    sent = sorted(OutboundEmail.objects.values_list("sent_at", flat=True))
    assert all(later - earlier >= timedelta(seconds=0.5) for earlier, later in zip(sent, sent[1:], strict=False))


def test_the_inbox_hard_bounces_of_a_mailbox_count_toward_its_pause(two_mailboxes, settings):
    from leads.models import InboundMessage

    settings.OUTREACH_MAILBOXES = ["alpha"]
    settings.MAILBOX_SETTINGS["alpha"]["daily_cap"] = 100
    make_leads(20)
    assert engage.run(now=MONDAY_10_UTC).succeeded == 20
    for n, email in enumerate(OutboundEmail.objects.all()[:2]):
        InboundMessage.objects.create(mailbox="alpha", message_id=f"<b{n}@mx>", kind="bounce_hard", email=email)
    make_leads(1)
    assert engage.run(now=MONDAY_10_UTC + timedelta(minutes=1)).extra["deferred_by"] == {"mailbox_paused": 1}
    assert "hard bounces 2 of the last 20 sends" in MailboxState.objects.get(name="alpha").pause_reason


def test_the_inbox_reads_the_same_mailboxes_the_engager_sends_from(two_mailboxes, settings):
    from pipeline.inbox import mailboxes as inbox_mailboxes

    settings.MAILBOX_SETTINGS["beta"]["inbox_url"] = "imaps://bob:secret@imap.beta.example/INBOX"
    assert [(inbox.mailbox, inbox.setting) for inbox in inbox_mailboxes.inboxes()] == [
        ("beta", "MAILBOX_BETA_INBOX_URL")
    ]
    settings.OUTREACH_MAILBOXES = []
    settings.INBOX_URL = "imaps://team:secret@imap.example/INBOX"
    assert [(inbox.mailbox, inbox.setting) for inbox in inbox_mailboxes.inboxes()] == [("default", "INBOX_URL")]
