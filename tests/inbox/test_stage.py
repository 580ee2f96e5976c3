"""The inbox stage against a real IMAP server (Dovecot): each message delivered to the
Maildir has its effect once, the mail stays there unread, and a second run reads nothing."""

import json
import logging
import socket
import threading

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from leads.models import InboundMessage, InboxState, Lead, LeadStatus, Suppression
from pipeline import inbox
from tests.builders import make_lead
from tests.inbox import mail
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def _run(**options) -> dict:
    return inbox.run(**options).as_dict()


def test_a_reply_marks_the_lead_replied_and_keeps_its_words(dovecot):
    email = mail.sent_email()
    dovecot.deliver(mail.answer("reply-en", email))
    summary = _run()
    assert (summary["processed"], summary["succeeded"], summary["kinds"]) == (1, 1, {"reply": 1})
    lead = Lead.objects.get(pk=email.lead_id)
    assert lead.engagement_status == LeadStatus.REPLIED
    assert lead.reply.startswith("Hi,\n\nThanks for reaching out")
    assert "Unsubscribe" not in lead.reply
    assert lead.pending_push
    row = InboundMessage.objects.get()
    assert (row.kind, row.email_id, row.lead_id, row.stop_reason) == ("reply", email.pk, email.lead_id, "replied")


def test_the_mail_stays_in_the_maildir_unread(dovecot):
    email = mail.sent_email()
    for name in ("reply-en", "auto-en-ooo", "unsubscribe-en"):
        dovecot.deliver(mail.answer(name, email))
    dovecot.deliver(mail.bounce(email))
    before = dovecot.messages()
    _run()
    after = dovecot.messages()
    assert len(after) == len(before) == 4
    assert {item.name for item in after} == {item.name for item in before}
    assert all(item.is_unread and "T" not in item.flags for item in after)


def test_a_second_run_reads_nothing_and_repeats_no_effect(dovecot):
    email = mail.sent_email()
    dovecot.deliver(mail.bounce(email))
    assert _run()["kinds"] == {"bounce_hard": 1}
    Lead.objects.update(pending_push=False)
    again = _run()
    assert (again["processed"], again["succeeded"], again["kinds"]) == (0, 0, {})
    assert not Lead.objects.filter(pending_push=True).exists()
    assert InboundMessage.objects.count() == 1


def test_only_new_mail_is_read_on_the_next_run(dovecot):
    first, second = mail.sent_email(), mail.sent_email()
    dovecot.deliver(mail.answer("reply-en", first))
    _run()
    dovecot.deliver(mail.answer("unsubscribe-fr", second))
    summary = _run()
    assert (summary["processed"], summary["kinds"]) == (1, {"unsubscribe": 1})
    state = InboxState.objects.get()
    assert (state.mailbox, state.folder, state.last_uid) == ("default", "INBOX", 2)


def test_a_new_uidvalidity_rereads_the_folder_without_repeating_any_effect(dovecot):
    email = mail.sent_email()
    dovecot.deliver(mail.answer("reply-en", email))
    dovecot.deliver(mail.bounce(mail.sent_email()))
    _run()
    old = InboxState.objects.get().uidvalidity
    dovecot.renumber()
    Lead.objects.update(pending_push=False, engagement_status="Contacted")
    summary = _run()
    assert InboxState.objects.get().uidvalidity != old
    assert (summary["processed"], summary["succeeded"], summary["skipped"]) == (2, 0, {"already_recorded": 2})
    assert not Lead.objects.filter(pending_push=True).exists()  # no effect applied again


def test_a_hard_bounce_suppresses_the_address_for_every_row_that_has_it(dovecot):
    email = mail.sent_email()
    twin = make_lead(email=email.recipient.upper())
    dovecot.deliver(mail.bounce(email, status="5.1.1"))
    _run()
    assert list(Suppression.objects.values_list("address", "reason", "source")) == [
        (email.recipient, "bounced", "bounce_hard:default")
    ]
    assert set(Lead.objects.filter(pk__in=[email.lead_id, twin.pk]).values_list("engagement_status", flat=True)) == {
        LeadStatus.BOUNCED
    }
    row = InboundMessage.objects.get()
    assert (row.address, row.status, row.action) == (email.recipient, "5.1.1", "failed")


@pytest.mark.parametrize(("delivered", "suppressed"), [(2, False), (3, True)])
def test_soft_bounces_count_as_hard_at_the_limit(dovecot, settings, delivered, suppressed):
    settings.OUTREACH_SOFT_BOUNCE_LIMIT = 3
    email = mail.sent_email()
    for _ in range(delivered):
        dovecot.deliver(mail.bounce(email, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"))
    summary = _run()
    assert summary["kinds"] == {"bounce_soft": delivered}
    assert Suppression.objects.filter(address__iexact=email.recipient, reason="bounced").exists() is suppressed
    expected = LeadStatus.BOUNCED if suppressed else ""
    assert Lead.objects.get(pk=email.lead_id).engagement_status == expected


def test_soft_bounces_over_several_runs_add_up(dovecot, settings):
    settings.OUTREACH_SOFT_BOUNCE_LIMIT = 2
    email = mail.sent_email()
    dovecot.deliver(mail.bounce(email, status="4.4.7", action="delayed", diagnostic="smtp; 451 4.4.7 later"))
    _run()
    assert not Suppression.objects.exists()
    dovecot.deliver(mail.bounce(email, status="4.4.7", action="delayed", diagnostic="smtp; 451 4.4.7 later"))
    _run()
    assert Suppression.objects.get().reason == "bounced"
    assert list(InboundMessage.objects.order_by("id").values_list("stop_reason", flat=True)) == ["", "bounced"]


def test_a_complaint_suppresses_and_marks_do_not_contact(dovecot):
    email = mail.sent_email()
    dovecot.deliver(mail.complaint(email))
    assert _run()["kinds"] == {"complaint": 1}
    assert Suppression.objects.get().reason == "complained"
    assert Lead.objects.get(pk=email.lead_id).engagement_status == LeadStatus.DO_NOT_CONTACT


@pytest.mark.parametrize("name", ["unsubscribe-en", "unsubscribe-de", "unsubscribe-es", "unsubscribe-mailto"])
def test_an_unsubscribe_request_suppresses_and_marks_unsubscribed(dovecot, name):
    email = mail.sent_email()
    dovecot.deliver(mail.answer(name, email))
    assert _run()["kinds"] == {"unsubscribe": 1}
    assert list(Suppression.objects.values_list("address", "reason")) == [(email.recipient, "unsubscribed")]
    assert Lead.objects.get(pk=email.lead_id).engagement_status == LeadStatus.UNSUBSCRIBED


def test_the_mailto_unsubscribe_is_matched_by_its_sender_when_nothing_was_sent_from_this_database(dovecot):
    lead = make_lead()
    dovecot.deliver(mail.load("unsubscribe-mailto", lead=lead.email.upper()))
    assert _run()["kinds"] == {"unsubscribe": 1}
    assert Lead.objects.get(pk=lead.pk).engagement_status == LeadStatus.UNSUBSCRIBED


@pytest.mark.parametrize("stop", [False, True])
def test_an_auto_reply_is_only_recorded_unless_it_stops_the_sequence(dovecot, settings, stop):
    settings.OUTREACH_STOP_ON_AUTO_REPLY = stop
    email = mail.sent_email()
    dovecot.deliver(mail.answer("auto-de-abwesenheit", email))
    assert _run()["kinds"] == {"auto_reply": 1}
    lead = Lead.objects.get(pk=email.lead_id)
    assert (lead.engagement_status, lead.pending_push, Suppression.objects.count()) == ("", False, 0)
    assert InboundMessage.objects.get().stop_reason == ("auto_replied" if stop else "")


def test_mail_that_answers_nothing_we_sent_is_other_and_left_alone(dovecot):
    make_lead(email="gone@acme.example")
    dovecot.deliver(mail.unrelated(1))
    dovecot.deliver(mail.bounce(recipient="gone@acme.example"))  # a report about an address we never emailed
    summary = _run()
    assert summary["kinds"] == {"other": 2}
    assert not Suppression.objects.exists()
    assert Lead.objects.get().engagement_status == ""
    details = sorted(InboundMessage.objects.values_list("detail", flat=True))
    assert details[0].startswith("bounce_hard about an address we never emailed")


def test_a_reply_never_undoes_an_unsubscribe(dovecot):
    email = mail.sent_email()
    dovecot.deliver(mail.answer("unsubscribe-en", email))
    _run()
    dovecot.deliver(mail.answer("reply-fr", email))
    _run()
    lead = Lead.objects.get(pk=email.lead_id)
    assert lead.engagement_status == LeadStatus.UNSUBSCRIBED
    assert lead.reply.startswith("Bonjour")


BAD_INPUT = ["bad-truncated-mime", "bad-unknown-charset", "bad-8bit-headers", "bad-empty"]


def test_damaged_mail_is_classified_read_once_and_never_stops_the_stage(dovecot):
    email = mail.sent_email()
    for name in BAD_INPUT:
        dovecot.deliver(mail.answer(name, email))
    dovecot.deliver(mail.with_attachment(mail.answer("reply-en", email), size=10 * 1024 * 1024))
    dovecot.deliver(mail.bounce(recipient="never-mailed@nowhere.example"))
    summary = _run()
    assert (summary["processed"], summary["succeeded"], summary["failed"]) == (6, 6, 0)
    assert summary["kinds"] == {"reply": 4, "other": 2}
    assert _run()["processed"] == 0


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(dovecot):
    email = mail.sent_email()
    dovecot.deliver(mail.answer("reply-en", email))
    dovecot.deliver(mail.bounce(email))
    summary = _run(dry_run=True)
    assert (summary["dry_run"], summary["kinds"]) == (True, {"reply": 1, "bounce_hard": 1})
    assert [item["kind"] for item in summary["items"]] == ["reply", "bounce_hard"]
    assert summary["items"][0]["from"].startswith(email.recipient[0] + "***@")
    assert not InboundMessage.objects.exists()
    assert not InboxState.objects.exists()
    assert not Suppression.objects.exists()
    assert Lead.objects.get(pk=email.lead_id).engagement_status == ""


def test_limit_reads_the_oldest_first_and_leaves_the_rest_for_the_next_run(dovecot):
    emails = [mail.sent_email() for _ in range(3)]
    for email in emails:
        dovecot.deliver(mail.answer("reply-en", email))
    assert _run(limit=2)["processed"] == 2
    assert InboxState.objects.get().last_read_at is None  # not all new mail was read
    assert _run()["processed"] == 1
    assert InboxState.objects.get().last_read_at is not None


def test_the_time_the_inbox_was_last_read_is_recorded(dovecot):
    now = timezone.now()
    _run(now=now)
    assert InboxState.objects.get().last_read_at == now


def test_check_inbox_json_has_the_kinds(dovecot, capsys):
    dovecot.deliver(mail.answer("auto-fr-subject", mail.sent_email()))
    call_command("check_inbox", "--json")
    out = json.loads(capsys.readouterr().out)
    assert {"stage", "dry_run", "processed", "succeeded", "skipped", "deferred", "failed", "kinds"} <= out.keys()
    assert (out["stage"], out["kinds"]) == ("check_inbox", {"auto_reply": 1})


def test_a_refused_login_stops_the_stage_with_one_line_naming_inbox_url(dovecot, settings):
    settings.INBOX_URL = dovecot.inbox_url(password="wrong-password")
    with pytest.raises(CommandError) as raised:
        call_command("check_inbox")
    message = str(raised.value)
    assert "INBOX_URL" in message
    assert "refused the login" in message
    assert "wrong-password" not in message
    assert "imap-secret" not in message
    assert "\n" not in message


def test_a_server_that_is_down_stops_the_stage_with_one_line(settings):
    settings.INBOX_URL = f"imap://team:secret-pass@127.0.0.1:{free_port()}/INBOX"
    masked = r"could not connect to the inbox imap://t\*\*\*:\*\*\*@127\.0\.0\.1"
    with pytest.raises(CommandError, match=masked) as raised:
        call_command("check_inbox")
    assert "secret-pass" not in str(raised.value)


def test_a_server_that_never_answers_times_out(settings):
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    settings.INBOX_URL = f"imap://team:pw@127.0.0.1:{listener.getsockname()[1]}/INBOX"
    settings.INBOX_TIMEOUT = 0.5
    try:
        with pytest.raises(inbox.InboxError, match="did not answer in time") as raised:
            inbox.run()
        assert raised.value.cause == "timeout"
    finally:
        listener.close()
        for connection, _ in accepted:
            connection.close()


def test_a_folder_that_does_not_exist_is_named(dovecot, settings):
    settings.INBOX_URL = dovecot.inbox_url(folder="Replies")
    with pytest.raises(inbox.InboxError, match="has no folder 'Replies'"):
        inbox.run()


@pytest.mark.parametrize("url", ["", "https://example.com/inbox", "imap://no-user-here"])
def test_a_missing_or_malformed_inbox_url_is_refused_with_its_name(settings, url):
    settings.INBOX_URL = url
    with pytest.raises(inbox.InboxError, match="INBOX_URL"):
        inbox.run()


def test_log_lines_mask_the_senders_address(dovecot, caplog):
    email = mail.sent_email()
    dovecot.deliver(mail.answer("reply-en", email))
    with caplog.at_level(logging.INFO, logger="pipeline"):
        _run()
    assert caplog.records
    assert not any(email.recipient in record.getMessage() + str(record.__dict__) for record in caplog.records)
