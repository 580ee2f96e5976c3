"""Follow-ups through the engage stage and a real SMTP server: touch 2..n in touch 1's thread,
when due, from the same mailbox, never past the sequence, never after an answer, never blind."""

import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from leads.models import EmailStatus, FollowUpMessage, InboundMessage, InboxState, Lead, OutboundEmail
from pipeline import engage, review
from pipeline.engage import followup_claims, schedule, stage
from pipeline.summary import Tally
from tests.builders import make_lead, make_leads

pytestmark = pytest.mark.django_db

# Tomorrow, 10:00: a run's clock never goes back before the real one (emails are sent at the later of the two).
T0 = (timezone.now() + timedelta(days=1)).astimezone(UTC).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def _sequence(settings):
    settings.OUTREACH_FOLLOWUP_DAYS = [3, 5]
    settings.INBOX_URL = "imaps://team:secret@imap.example:993/INBOX"
    settings.INBOX_MAX_AGE_MINUTES = 30
    settings.ANYMAIL_WEBHOOK_SECRET = ""


def _inbox_read(at: datetime) -> None:
    """The inbox stage read the mailbox to its end at `at`."""
    InboxState.objects.update_or_create(mailbox="default", folder="INBOX", defaults={"last_read_at": at})


def _run(at: datetime, **options):
    _inbox_read(at - timedelta(minutes=5))
    return engage.run(now=at, **options)


def _first_touch(smtp, count=1):
    leads = make_leads(count)
    assert _run(T0).extra["touches"] == {"1": count}
    return leads, list(smtp.received)


def test_touch_2_goes_when_due_threaded_under_touch_1_from_the_same_sender(smtp):
    [lead], [first] = _first_touch(smtp)
    early = _run(T0 + timedelta(days=2, hours=23))
    assert (early.succeeded, early.extra["deferred_by"]) == (0, {"not_due": 1})
    summary = _run(T0 + timedelta(days=3, minutes=1))
    assert (summary.succeeded, summary.extra["touches"]) == (1, {"2": 1})
    second = smtp.received[-1].message
    assert second["Subject"] == f"Re: {first.message['Subject']}"
    assert second["In-Reply-To"] == first.message["Message-ID"]
    assert second["References"] == first.message["Message-ID"]
    assert second["From"] == first.message["From"]
    assert second["Message-ID"] != first.message["Message-ID"]
    assert smtp.received[-1].rcpt_tos == first.rcpt_tos
    assert second["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    email = OutboundEmail.objects.get(lead=lead, touch=2)
    assert (email.status, email.mailbox, email.message_id) == (EmailStatus.SENT, "default", second["Message-ID"])
    lead.refresh_from_db()
    assert (lead.engagement_status, lead.touches) == ("Contacted", 2)


def test_touch_3_after_its_own_delay_and_no_touch_beyond_the_sequence(smtp):
    _first_touch(smtp)
    _run(T0 + timedelta(days=3, minutes=1))
    touch_2 = T0 + timedelta(days=3, minutes=1)
    assert _run(touch_2 + timedelta(days=4, hours=23)).extra["deferred_by"] == {"not_due": 1}
    third = _run(touch_2 + timedelta(days=5, minutes=1))
    assert third.extra["touches"] == {"3": 1}
    ids = [received.message["Message-ID"] for received in smtp.received]
    last = smtp.received[-1].message
    assert last["In-Reply-To"] == ids[1]
    assert last["References"].split() == ids[:2]
    assert last["Subject"] == f"Re: {smtp.received[0].message['Subject']}"
    after = _run(T0 + timedelta(days=60))
    assert (after.processed, after.succeeded) == (0, 0)
    assert len(smtp.received) == 3


def test_without_follow_up_days_one_email_per_lead(smtp, settings):
    settings.OUTREACH_FOLLOWUP_DAYS = []
    _first_touch(smtp)
    later = _run(T0 + timedelta(days=30))
    assert (later.processed, later.extra["touches"]) == (0, {})


def test_the_follow_up_written_ahead_is_sent_else_the_touchs_fallback(smtp):
    (written, plain), _ = _first_touch(smtp, count=2)
    FollowUpMessage.objects.create(lead=written, touch=2, body="Hi,\n\nA second, better thought.\n", generated_at=T0)
    _run(T0 + timedelta(days=3, minutes=1))
    bodies = {r.to: r.message.get_content().replace("\r\n", "\n") for r in smtp.received[2:]}
    assert bodies[written.email].startswith("Hi,\n\nA second, better thought.")
    assert "A short follow-up on my note" in bodies[plain.email]
    sources = dict(OutboundEmail.objects.filter(touch=2).values_list("lead_id", "message_source"))
    assert sources == {written.pk: "ai", plain.pk: "fallback"}


def test_a_follow_up_written_ahead_that_fails_the_output_check_gets_the_fallback(smtp):
    [lead], _ = _first_touch(smtp)
    FollowUpMessage.objects.create(
        lead=lead, touch=2, body="Hi,\n\nLog in at http://evil.example/login to see it.\n", generated_at=T0
    )
    summary = _run(T0 + timedelta(days=3, minutes=1))
    assert summary.extra["touches"] == {"2": 1}
    body = smtp.received[-1].message.get_content()
    assert "evil.example" not in body
    assert "A short follow-up on my note" in body
    assert OutboundEmail.objects.get(lead=lead, touch=2).message_source == "fallback"


def _answer(lead, kind, **fields):
    email = OutboundEmail.objects.get(lead=lead, touch=1)
    return InboundMessage.objects.create(
        mailbox="default",
        message_id=f"<{kind}-{lead.pk}@answers.example>",
        kind=kind,
        lead=lead,
        email=email,
        address=email.recipient,
        sender=email.recipient,
        received_at=T0 + timedelta(days=1),
        **fields,
    )


def test_an_answer_or_a_persons_status_stops_the_sequence_counted_once(smtp):
    (replied, unsubscribed, booked, quiet), _ = _first_touch(smtp, count=4)
    _answer(replied, "reply")
    _answer(unsubscribed, "unsubscribe")
    Lead.objects.filter(pk=booked.pk).update(engagement_status="Meeting booked")
    summary = _run(T0 + timedelta(days=3, minutes=1))
    assert summary.extra["stopped"] == {"replied": 1, "status_changed": 1, "unsubscribed": 1}
    assert [received.to for received in smtp.received[4:]] == [quiet.email]
    again = _run(T0 + timedelta(days=9))
    assert again.extra["stopped"] == {}
    stops = dict(Lead.objects.exclude(sequence_stop_reason="").values_list("pk", "sequence_stop_reason"))
    assert stops == {replied.pk: "replied", unsubscribed.pk: "unsubscribed", booked.pk: "status_changed"}


def test_an_auto_reply_with_a_return_date_holds_the_next_touch_until_after_it(smtp):
    [lead], _ = _first_touch(smtp)
    _answer(lead, "auto_reply", returns_on=T0.date() + timedelta(days=8))
    assert _run(T0 + timedelta(days=5)).extra["deferred_by"] == {"not_due": 1}
    day_after = datetime.combine(T0.date() + timedelta(days=9), time(0, 1), tzinfo=UTC)
    assert _run(day_after).extra["touches"] == {"2": 1}


def test_follow_ups_wait_while_the_inbox_is_stale_or_missing_but_touch_1_does_not(smtp, settings):
    _first_touch(smtp)
    InboxState.objects.update(last_read_at=T0)
    stale = engage.run(now=T0 + timedelta(days=3, minutes=1))
    assert (stale.succeeded, stale.extra["deferred_by"]) == (0, {"inbox_stale": 1})
    settings.INBOX_URL = ""
    make_lead()
    blind = engage.run(now=T0 + timedelta(days=3, minutes=1))
    assert (blind.extra["touches"], blind.extra["deferred_by"]) == ({"1": 1}, {"no_inbox": 1})


def test_esp_webhooks_let_follow_ups_go_without_an_inbox(smtp, settings):
    _first_touch(smtp)
    settings.INBOX_URL = ""
    settings.ANYMAIL_WEBHOOK_SECRET = "hook:secret"
    assert engage.run(now=T0 + timedelta(days=3, minutes=1)).extra["touches"] == {"2": 1}


def test_a_reply_between_the_claim_and_the_send_stops_the_follow_up(smtp):
    [lead], _ = _first_touch(smtp)
    now = T0 + timedelta(days=3, minutes=1)
    _inbox_read(now)
    win = schedule.window("", "")
    batch = followup_claims.claim(cursor=0, size=10, lead_ids=None, now=now, dry_run=False, planned={}, win=win)
    assert [email.touch for email in batch.emails] == [2]
    _answer(lead, "reply")
    stage._send_batch(batch, stage._Run(tally=Tally(stage="engage", dry_run=False), now=now, started=clock.monotonic()))
    assert len(smtp.received) == 1
    assert not OutboundEmail.objects.filter(touch=2).exists()
    lead.refresh_from_db()
    assert lead.sequence_stop_reason == "replied"


def test_the_dry_run_shows_which_touch_each_lead_would_get(smtp):
    (sent,), _ = _first_touch(smtp)
    new = make_lead()
    preview = _run(T0 + timedelta(days=3, minutes=1), dry_run=True)
    touches = {item["lead"]: (item["touch"], item["decision"]) for item in preview.items}
    assert touches == {sent.pk: (2, "send"), new.pk: (1, "send")}
    assert preview.extra["touches"] == {"1": 1, "2": 1}
    assert len(smtp.received) == 1
    assert OutboundEmail.objects.count() == 1


@pytest.mark.parametrize("count", [20, 200])
def test_the_follow_up_dry_run_costs_the_same_queries_per_batch(smtp, settings, count, django_assert_max_num_queries):
    settings.OUTREACH_BATCH_SIZE = 200
    settings.OUTREACH_DAILY_CAP = 1000
    _first_touch(smtp, count=count)
    _inbox_read(T0 + timedelta(days=3, minutes=1))
    # The batch: its leads, the mailboxes' states and today's counts, the leads' emails, inbound answers,
    # suppressions, return dates, inbox reads, follow-ups written ahead (9); an empty follow-up batch (1);
    # the touch-1 batch: the mailboxes again and its (no) leads (3).
    with django_assert_max_num_queries(13):
        summary = engage.run(now=T0 + timedelta(days=3, minutes=1), dry_run=True)
    assert summary.extra["touches"] == {"2": count}


def test_with_approval_of_every_email_a_follow_up_waits_for_a_person(smtp, settings, admin_user):
    [lead], _ = _first_touch(smtp)
    settings.OUTREACH_APPROVAL = "all"
    FollowUpMessage.objects.create(lead=lead, touch=2, body="Hi,\n\nA reviewed second note.\n", generated_at=T0)
    waiting = _run(T0 + timedelta(days=3, minutes=1))
    assert (waiting.succeeded, waiting.extra["deferred_by"]) == (0, {"awaiting_approval": 1})
    assert review.approve(Lead.objects.filter(pk=lead.pk), user=admin_user).followups == 1
    assert _run(T0 + timedelta(days=3, minutes=2)).extra["touches"] == {"2": 1}
    assert "A reviewed second note." in smtp.received[-1].message.get_content()
