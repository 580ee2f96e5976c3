"""The engage stage against a real SMTP server: who is emailed, once, and why the others are not."""

import logging
import re
import time
from datetime import date, timedelta

import pytest
from django.utils import timezone

from leads.models import EmailStatus, Lead, OutboundEmail, PipelineRun, SkipLog, Suppression
from pipeline import engage
from pipeline.engage import sending
from tests.builders import make_lead, make_leads
from tests.fakes.smtp import FakeSMTP
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def test_engageable_leads_are_sent_and_skip_logs_explain_the_rest(smtp):
    sendable = make_lead(email="ada@engines.example")
    no_email = make_lead(email="")
    replied = make_lead(engagement_status="Replied")
    summary = engage.run()
    assert (summary.processed, summary.succeeded, summary.failed) == (3, 1, 0)
    assert summary.skipped == {"no_email": 1, "status_filtered": 1}
    assert smtp.recipients == ["ada@engines.example"]
    assert OutboundEmail.objects.get().status == EmailStatus.SENT
    logs = {log.lead_id: log.reason for log in SkipLog.objects.filter(stage="engage")}
    assert logs == {no_email.pk: "no_email", replied.pk: "status_filtered"}
    assert not SkipLog.objects.filter(lead=sendable).exists()


def test_a_sent_lead_is_marked_contacted_for_the_airtable_push(smtp):
    lead = make_lead(message_subject="About your pipeline", message_body="Hi Ada,\n\nA thought.", message_source="ai")
    engage.run(now=timezone.now())
    lead.refresh_from_db()
    email = lead.emails.get()
    assert lead.engagement_status == "Contacted"
    assert lead.date_messaged == timezone.localdate()
    assert lead.custom_message == "Hi Ada,\n\nA thought."
    assert lead.pending_push
    assert (email.subject, email.message_source, email.touch) == ("About your pipeline", "ai", 1)
    assert email.message_id == smtp.received[0].message["Message-ID"]
    assert email.sent_at is not None


def test_a_second_run_right_after_the_first_sends_nothing(smtp):
    make_leads(5)
    assert engage.run().succeeded == 5
    second = engage.run()
    assert (second.processed, second.succeeded) == (0, 0)
    assert len(smtp.received) == 5


def test_skipped_leads_are_decided_again_but_logged_once(smtp):
    lead = make_lead(email="")
    engage.run()
    again = engage.run()
    assert again.skipped == {"no_email": 1}
    assert SkipLog.objects.filter(lead=lead).count() == 1
    Lead.objects.filter(pk=lead.pk).update(email="fixed@acme.example")
    assert engage.run().succeeded == 1
    lead.refresh_from_db()
    assert lead.skip_reason == ""
    assert smtp.recipients == ["fixed@acme.example"]


def test_a_lead_without_a_message_gets_the_fallback_recorded_as_such(smtp):
    lead = make_lead(name="Grace Hopper", company_name="Cobol Co", message_body="")
    engage.run()
    lead.refresh_from_db()
    email = lead.emails.get()
    assert (lead.message_source, email.message_source) == ("fallback", "fallback")
    received = smtp.received[0].message
    assert received["Subject"] == "A quick idea for Cobol Co"
    assert received.get_content().startswith("Hi Grace,")


def test_the_email_is_plain_text_with_sender_reply_to_postal_address_and_unsubscribe_headers(smtp, settings):
    settings.OUTREACH_FROM_EMAIL = "Ada at Engines <ada@engines.example>"
    settings.OUTREACH_REPLY_TO = "replies@engines.example"
    settings.OUTREACH_POSTAL_ADDRESS = "Engines Ltd, 12 Babbage Row, London"
    settings.SITE_URL = "https://outreach.engines.example"
    make_lead(email="grace@cobol.example")
    engage.run()
    message = smtp.received[0].message
    assert smtp.received[0].mail_from == "ada@engines.example"
    assert message["From"] == "Ada at Engines <ada@engines.example>"
    assert message["Reply-To"] == "replies@engines.example"
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    body = message.get_content()
    assert "Engines Ltd, 12 Babbage Row, London" in body
    links = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    assert links[0].startswith("https://outreach.engines.example/unsubscribe/")
    assert links[1] == "mailto:ada@engines.example?subject=unsubscribe"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Unsubscribe with one click: {links[0]}" in body


def test_one_smtp_connection_per_batch(smtp, settings):
    settings.OUTREACH_BATCH_SIZE = 10
    make_leads(25)
    assert engage.run().succeeded == 25
    assert smtp.connections == 3


def test_an_address_emailed_from_another_row_in_other_case_is_already_contacted(smtp):
    make_lead(email="Ada@Engines.example")
    engage.run()
    duplicate = make_lead(email="  ada@ENGINES.example ")
    summary = engage.run()
    assert summary.skipped == {"already_contacted": 1}
    assert SkipLog.objects.get(lead=duplicate).detail.startswith("this address was emailed on")
    assert smtp.recipients == ["Ada@engines.example"]  # email-validator lower-cases the domain


def test_duplicates_in_one_batch_are_emailed_once(smtp):
    make_lead(email="ada@engines.example")
    make_lead(email="ADA@engines.example")
    summary = engage.run()
    assert (summary.succeeded, summary.skipped) == (1, {"already_contacted": 1})
    assert smtp.recipients == ["ada@engines.example"]


def test_duplicates_in_two_batches_are_emailed_once(smtp, settings):
    settings.OUTREACH_BATCH_SIZE = 1
    make_lead(email="ada@engines.example")
    make_lead(email="ADA@engines.example")
    assert engage.run().succeeded == 1
    assert len(smtp.received) == 1


def test_recontact_window_counts_from_any_row(smtp, settings):
    settings.OUTREACH_RECONTACT_DAYS = 30
    old, recent = make_lead(email="old@acme.example"), make_lead(email="recent@acme.example")
    for lead, days in ((old, 40), (recent, 10)):
        OutboundEmail.objects.create(lead=lead, recipient=lead.email, subject="s", body="b", status=EmailStatus.SENT)
        OutboundEmail.objects.filter(lead=lead).update(created_at=timezone.now() - timedelta(days=days))
    make_lead(email="OLD@acme.example")
    make_lead(email="Recent@acme.example")
    summary = engage.run()
    assert (summary.succeeded, summary.skipped) == (1, {"already_contacted": 1})
    assert smtp.recipients == ["OLD@acme.example"]


def test_a_row_marked_messaged_in_airtable_counts_for_its_address(smtp):
    make_lead(email="ada@engines.example", date_messaged=timezone.localdate() - timedelta(days=3))
    duplicate = make_lead(email="Ada@engines.example")
    summary = engage.run()
    assert summary.skipped == {"already_contacted": 2}
    assert SkipLog.objects.get(lead=duplicate).reason == "already_contacted"
    assert smtp.received == []


def test_a_failed_email_does_not_count_as_contact(smtp):
    refused = make_lead(email="gone@acme.example")
    OutboundEmail.objects.create(lead=refused, recipient=refused.email, subject="s", body="b", status="failed")
    make_lead(email="gone@acme.example")
    assert engage.run().succeeded == 1


def test_status_and_confidence_filters_come_from_settings(smtp, settings):
    settings.OUTREACH_EXCLUDED_STATUSES = ["lost"]
    settings.OUTREACH_EXCLUDED_CONFIDENCE = ["low"]
    make_lead(engagement_status="LOST")
    make_lead(email_confidence_level="Low")
    make_lead(engagement_status="Replied")  # no longer excluded
    summary = engage.run()
    assert summary.skipped == {"confidence_filtered": 1, "status_filtered": 1}
    assert summary.succeeded == 1


def test_a_suppressed_address_is_never_emailed_whatever_its_case(smtp):
    Suppression.objects.create(address="Ada@Engines.example", reason="unsubscribed")
    lead = make_lead(email="ada@engines.EXAMPLE")
    assert engage.run().skipped == {"suppressed": 1}
    assert SkipLog.objects.get(lead=lead).detail.startswith("unsubscribed ")
    assert smtp.received == []


def test_each_skip_logs_one_line_with_the_masked_address(smtp, caplog):
    make_lead(email="ada@engines.example", engagement_status="Replied")
    with caplog.at_level(logging.INFO, logger="pipeline.engage"):
        engage.run()
    skips = [record for record in caplog.records if record.getMessage() == "lead skipped"]
    assert len(skips) == 1
    assert (skips[0].email, skips[0].reason, skips[0].stage) == ("a***@engines.example", "status_filtered", "engage")
    assert "ada@engines.example" not in caplog.text


def test_skip_logs_are_linked_to_the_recorded_run(smtp):
    from pipeline.jobs import runs

    make_lead(email="")
    runs.record("engage", engage.run)
    assert SkipLog.objects.get().run == PipelineRun.objects.get(job="engage")


def test_the_skip_reason_is_marked_for_the_push_only_when_airtable_has_a_field_for_it(smtp, settings):
    quiet, pushed = make_lead(email=""), None
    engage.run()
    settings.AIRTABLE_FIELD_SKIP_REASON = "Skip Reason"
    pushed = make_lead(email="")
    engage.run()
    quiet.refresh_from_db()
    pushed.refresh_from_db()
    assert (quiet.skip_reason, quiet.pending_push) == ("no_email", False)
    assert (pushed.skip_reason, pushed.pending_push) == ("no_email", True)


def test_the_daily_cap_defers_the_rest_to_a_later_run(smtp, settings):
    settings.OUTREACH_DAILY_CAP = 3
    make_leads(5)
    today = engage.run()
    assert (today.succeeded, today.deferred) == (3, 2)
    assert engage.run().deferred == 2
    assert len(smtp.received) == 3
    tomorrow = engage.run(now=timezone.now() + timedelta(days=1))
    assert (tomorrow.succeeded, tomorrow.deferred) == (2, 0)
    assert len(set(smtp.recipients)) == 5


def test_the_daily_cap_counts_emails_of_every_worker_today(smtp, settings):
    settings.OUTREACH_DAILY_CAP = 3
    other = make_lead()
    OutboundEmail.objects.create(lead=other, recipient=other.email, subject="s", body="b", status="sent")
    make_leads(4)
    assert engage.run().succeeded == 2


def test_dry_run_decides_like_a_real_run_and_writes_nothing(smtp, settings):
    settings.OUTREACH_DAILY_CAP = 2
    make_leads(3)
    make_lead(email="")
    before = list(Lead.objects.values())
    summary = engage.run(dry_run=True)
    assert [item["decision"] for item in summary.items] == ["send", "send", "defer: daily_cap", "skip: no_email"]
    assert summary.items[0]["message_source"] == "fallback"
    assert (summary.succeeded, summary.deferred, summary.skipped) == (2, 1, {"no_email": 1})
    assert smtp.received == []
    assert smtp.connections == 0
    assert list(Lead.objects.values()) == before
    assert not OutboundEmail.objects.exists()
    assert not SkipLog.objects.exists()
    assert not PipelineRun.objects.exists()


def test_limit_and_lead_ids_restrict_the_run(smtp):
    leads = make_leads(6)
    assert engage.run(limit=2).processed == 2
    assert engage.run(lead_ids=[leads[5].pk]).succeeded == 1
    assert sorted(smtp.recipients) == sorted([leads[0].email, leads[1].email, leads[5].email])


def test_the_engager_runs_with_airtable_down(smtp, settings):
    settings.AIRTABLE_API_KEY = "patFakeFakeFake.0123456789abcdef"
    settings.AIRTABLE_BASE_ID = "appTest"
    settings.AIRTABLE_TABLE_NAME = "Leads"
    settings.AIRTABLE_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens
    lead = make_lead()
    assert engage.run().succeeded == 1
    lead.refresh_from_db()
    assert lead.pending_push  # the next sync pushes it


def test_the_engager_runs_with_airtable_not_configured(smtp, settings):
    settings.AIRTABLE_API_KEY = ""
    make_lead()
    assert engage.run().succeeded == 1
    assert Lead.objects.get().pending_push


def test_an_unreachable_smtp_server_stops_the_run_and_releases_its_claims(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    make_leads(3)
    with pytest.raises(sending.SendError, match=r"Could not connect to the SMTP server 127\.0\.0\.1:\d+ \(EMAIL_URL\)"):
        engage.run()
    assert not OutboundEmail.objects.exists()
    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        assert engage.run().succeeded == 3


def test_a_refused_recipient_is_failed_and_not_retried(settings):
    with FakeSMTP(refuse={"gone@acme.example"}) as smtp:
        smtp.use_in(settings)
        gone = make_lead(email="gone@acme.example")
        make_lead(email="here@acme.example")
        summary = engage.run()
        assert (summary.succeeded, summary.failed) == (1, 1)
        email = gone.emails.get()
        assert email.status == EmailStatus.FAILED
        assert email.error == "The SMTP server refused the recipient: 550 5.1.1 Mailbox unavailable"
        assert engage.run().processed == 0
        assert smtp.recipients == ["here@acme.example"]


def test_an_email_left_sending_is_never_retried(smtp):
    lead = make_lead()
    OutboundEmail.objects.create(lead=lead, recipient=lead.email, subject="s", body="b", status=EmailStatus.SENDING)
    assert engage.run(now=timezone.now() + timedelta(days=2)).processed == 0
    assert smtp.received == []


def test_a_claim_abandoned_by_a_dead_worker_is_released_and_sent_once(smtp):
    lead = make_lead()
    OutboundEmail.objects.create(lead=lead, recipient=lead.email, subject="s", body="b", status=EmailStatus.PENDING)
    assert engage.run().processed == 0  # fresh: it may be a live worker's
    assert engage.run(now=timezone.now() + timedelta(minutes=20)).succeeded == 1
    assert lead.emails.get().status == EmailStatus.SENT
    assert smtp.recipients == [lead.email]


@pytest.mark.parametrize("count", [50, 5000])
def test_skipping_costs_a_constant_number_of_queries_per_batch(smtp, settings, count, django_assert_max_num_queries):
    settings.OUTREACH_BATCH_SIZE = 500
    make_leads(count, engagement_status="Replied")
    batches = -(-count // 500) + 1  # the last one finds nothing
    # Per batch: SAVEPOINT, leads, suppressions, past emails, rows messaged, today's emails,
    # skip logs (SQLite: 999 parameters per insert, so a 500-row batch takes up to 5), lead
    # updates, RELEASE SAVEPOINT; once: release abandoned claims.
    with django_assert_max_num_queries(1 + 16 * batches):
        summary = engage.run()
    assert summary.skipped == {"status_filtered": count}


@pytest.mark.parametrize("count", [5, 50])
def test_sending_costs_three_queries_per_email(smtp, settings, count, django_assert_max_num_queries):
    make_leads(count)
    # Once per run: the mailbox's state row, release abandoned claims, its health (3 queries);
    # per batch (16 + the empty last, as above), the mailbox's room (2) and, when it took emails,
    # its warm-up day (2) and last send (1); per email: pending -> sending, then SAVEPOINT,
    # email sent, lead contacted, RELEASE.
    with django_assert_max_num_queries(5 + 16 * 2 + 2 * 2 + 3 + 5 * count):
        assert engage.run().succeeded == count


def test_the_last_run_outcome_for_a_lead_shows_in_its_skip_reason(smtp):
    lead = make_lead(engagement_status="Replied")
    engage.run()
    Lead.objects.filter(pk=lead.pk).update(engagement_status="", date_messaged=date(2020, 1, 1))
    engage.run()
    assert list(SkipLog.objects.filter(lead=lead).order_by("id").values_list("reason", flat=True)) == [
        "status_filtered",
        "already_contacted",
    ]


def test_an_email_the_server_may_have_taken_stays_sending_and_is_never_retried(settings):
    settings.OUTREACH_BATCH_SIZE = 1
    with FakeSMTP(hang=True) as stalled:
        stalled.use_in(settings)
        settings.EMAIL_TIMEOUT = 1
        lead = make_lead(email="ada@engines.example")
        summary = engage.run(limit=1)
    email = lead.emails.get()
    assert (summary.succeeded, summary.failed) == (0, 1)
    assert email.status == EmailStatus.SENDING
    assert email.error.endswith("closed the connection: Connection unexpectedly closed: timed out")
    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        twin = make_lead(email="ADA@engines.example")
        assert engage.run().skipped == {"already_contacted": 1}  # it may have reached her
        assert smtp.received == []
    assert not twin.emails.exists()


def test_a_claim_released_before_its_worker_sends_it_is_not_sent_by_that_worker(smtp):
    """A worker so slow that its claim was released as abandoned must not send it any more."""
    from pipeline.engage import claims, stage
    from pipeline.summary import Tally

    make_lead()
    batch = claims.claim(cursor=0, size=10, lead_ids=None, taken=set(), now=timezone.now(), dry_run=False, planned={})
    OutboundEmail.objects.filter(pk=batch.emails[0].pk).delete()  # what the next run's release does
    tally = Tally(stage="engage", dry_run=False)
    stage._send_batch(batch, stage._Run(tally=tally, now=timezone.now(), started=time.monotonic()))
    assert (tally.succeeded, tally.failed) == (0, 0)
    assert smtp.received == []
