"""Classification is pure: bytes in, one kind out, with the reasons a person can check."""

import pytest

from pipeline.inbox.classify import classify, own_text
from tests.inbox import mail

EXPECTED = {
    "reply-en": "reply",
    "reply-de-outlook": "reply",
    "reply-fr": "reply",
    "reply-es-html": "reply",
    "reply-html-only": "reply",
    "unsubscribe-en": "unsubscribe",
    "unsubscribe-de": "unsubscribe",
    "unsubscribe-fr": "unsubscribe",
    "unsubscribe-es": "unsubscribe",
    "unsubscribe-mailto": "unsubscribe",
    "auto-en-ooo": "auto_reply",
    "auto-de-abwesenheit": "auto_reply",
    "auto-fr-subject": "auto_reply",
    "auto-es-xautoreply": "auto_reply",
    "auto-precedence": "auto_reply",
    "bad-truncated-mime": "reply",
    "bad-unknown-charset": "reply",
    "bad-8bit-headers": "reply",
    "bad-empty": "other",
}


def test_every_written_message_has_an_expected_kind():
    assert sorted(EXPECTED) == mail.names("")


@pytest.mark.parametrize(("name", "kind"), sorted(EXPECTED.items()))
def test_written_messages_get_their_kind(name, kind):
    assert classify(mail.load(name)).kind == kind


@pytest.mark.parametrize("name", mail.names("reply-"))
def test_a_reply_keeps_its_own_words_and_drops_the_quoted_unsubscribe_line(name):
    verdict = classify(mail.load(name, message_id="<ours-1@example.com>"))
    assert verdict.text
    assert "unsubscribe" not in verdict.text.lower()
    assert "abmelden" not in verdict.text.lower()
    assert verdict.original_message_id == "<ours-1@example.com>"


def test_reply_text_is_the_persons_words_in_their_charset():
    verdict = classify(mail.load("reply-de-outlook"))
    assert verdict.text.startswith("Hallo,\n\nvielen Dank für Ihre Nachricht.")
    assert "Ursprüngliche Nachricht" not in verdict.text
    assert verdict.sender == "jane@acme.example"


def test_the_message_answered_comes_first_among_the_references():
    verdict = classify(mail.load("reply-de-outlook", message_id="<ours-2@example.com>"))
    assert verdict.references[0] == "<ours-2@example.com>"
    assert "<unrelated-older@outreach.example>" in verdict.references


def test_an_auto_reply_that_mentions_unsubscribing_stays_an_auto_reply():
    verdict = classify(mail.load("auto-en-ooo"))
    assert (verdict.kind, verdict.detail) == ("auto_reply", "header Auto-Submitted: auto-replied")


def test_a_localised_auto_reply_subject_is_enough():
    verdict = classify(mail.load("auto-fr-subject"))
    assert verdict.kind == "auto_reply"
    assert verdict.detail.startswith("subject 'Réponse automatique")


def test_the_unsubscribe_mailto_wins_over_its_auto_submitted_header():
    verdict = classify(mail.load("unsubscribe-mailto"))
    assert (verdict.kind, verdict.detail) == ("unsubscribe", "a mail to the List-Unsubscribe address")


def test_a_stop_request_names_the_words_it_found():
    assert classify(mail.load("unsubscribe-de")).detail == "asks to stop: 'keine weiteren E-Mails'"


def test_own_text_removes_quotes_in_every_common_style():
    text = "Yes please.\n\nOn Mon, Dec 2, 2024 at 9:00 AM Us <us@example.com> wrote:\n> unsubscribe here\n"
    assert own_text(text) == "Yes please."
    assert own_text("Sure.\n> Unsubscribe: link\n>> older") == "Sure."


def test_a_hard_bounce_names_its_recipient_status_and_the_email_it_reports_on():
    verdict = classify(mail.bounce(recipient="gone@acme.example", status="5.1.1"))
    assert verdict.kind == "bounce_hard"
    assert [(r.address, r.status, r.action) for r in verdict.recipients] == [("gone@acme.example", "5.1.1", "failed")]
    assert verdict.original_message_id is not None


def test_a_temporary_failure_is_a_soft_bounce_even_when_the_action_is_failed():
    verdict = classify(mail.bounce(recipient="full@acme.example", status="4.2.2", action="failed"))
    assert (verdict.kind, verdict.recipients[0].status) == ("bounce_soft", "4.2.2")


def test_a_delay_report_is_a_soft_bounce():
    verdict = classify(mail.bounce(recipient="slow@acme.example", status="4.4.7", action="delayed"))
    assert verdict.kind == "bounce_soft"


def test_a_success_notice_is_no_bounce():
    notice = mail.bounce(recipient="ok@acme.example", status="2.0.0", action="delivered", diagnostic="smtp; 250 OK")
    verdict = classify(notice)
    assert verdict.kind == "other"


@pytest.mark.django_db
def test_a_complaint_names_the_complaining_address_and_our_message_id():
    email = mail.sent_email()
    verdict = classify(mail.complaint(email))
    assert verdict.kind == "complaint"
    assert [r.address for r in verdict.recipients] == [email.recipient.lower()]
    assert verdict.original_message_id == email.message_id


def test_a_ten_megabyte_attachment_still_classifies():
    raw = mail.with_attachment(mail.load("reply-en"), size=10 * 1024 * 1024)
    verdict = classify(raw)
    assert verdict.kind == "reply"
    assert verdict.text.startswith("Hi,")


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"garbage without headers", b"\xff\xfe\x00\x01" * 50])
def test_nothing_at_all_is_other_and_never_raises(raw):
    assert classify(raw).kind in ("other", "reply")


def test_raw_8bit_headers_are_read_as_the_charset_they_are_in():
    verdict = classify(mail.load("bad-8bit-headers"))
    assert "Grüße" in verdict.subject


def test_mail_without_message_id_is_named_the_same_on_every_read():
    raw = b"From: someone@example.com\nSubject: hello\n\nhi\n"
    assert classify(raw).message_id == classify(raw).message_id
    assert classify(raw).message_id.endswith("@no-message-id>")


def test_a_newsletter_is_other():
    raw = b"From: news@vendor.example\nSubject: December news\nList-Unsubscribe: <mailto:x@vendor.example>\n\nNews\n"
    assert classify(raw).kind == "other"
