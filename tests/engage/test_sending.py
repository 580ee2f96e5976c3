"""The email client against a real SMTP server: headers on the wire, one error type, no addresses in errors."""

import pytest

from pipeline.engage import sending
from tests.fakes.smtp import FakeSMTP
from tests.processes import free_port

URL = "https://outreach.example/unsubscribe/7:abc"


def _message(**overrides):
    fields = {"to": "ada@engines.example", "subject": "Hello", "body": "Hi Ada", "unsubscribe_url": URL}
    fields.setdefault("message_id", sending.new_message_id())
    fields.update(overrides)
    return sending.build_message(**fields)


def test_the_server_receives_the_unsubscribe_headers_and_our_message_id(settings):
    settings.OUTREACH_FROM_EMAIL = "Grace <grace@cobol.example>"
    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        connection = sending.open_connection()
        message_id = sending.new_message_id()
        sending.send(_message(message_id=message_id), connection)
        connection.close()
    received = smtp.received[0]
    assert (received.mail_from, received.rcpt_tos) == ("grace@cobol.example", ("ada@engines.example",))
    assert received.message["Message-ID"] == message_id
    assert message_id.endswith("@cobol.example>")
    assert " ".join(str(received.message["List-Unsubscribe"]).split()) == (
        f"<{URL}>, <mailto:grace@cobol.example?subject=unsubscribe>"
    )
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.message["Reply-To"] is None


def test_a_subject_with_line_breaks_is_one_header_line(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _message(subject="Hello\r\nBcc: victim@example.com").message()["Subject"] == "Hello Bcc: victim@example.com"


def test_the_body_ends_with_the_postal_address_and_the_unsubscribe_line(settings):
    settings.OUTREACH_POSTAL_ADDRESS = "Cobol Co, 9 Navy Yard, Arlington"
    body = sending.compose_body("Hi Ada\n\n", unsubscribe_url=URL)
    assert (
        body == f"Hi Ada\n\n--\nCobol Co, 9 Navy Yard, Arlington\nNot interested? Unsubscribe with one click: {URL}\n"
    )


def test_an_unreachable_server_is_one_send_error_naming_the_variable(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with pytest.raises(sending.SendError) as caught:
        sending.open_connection()
    assert str(caught.value) == (
        f"Could not connect to the SMTP server 127.0.0.1:{settings.EMAIL_PORT} (EMAIL_URL): Connection refused"
    )
    assert caught.value.cause == "unreachable"


def test_a_refused_recipient_is_a_permanent_error_without_the_address(settings):
    with FakeSMTP(refuse={"gone@acme.example"}) as smtp:
        smtp.use_in(settings)
        connection = sending.open_connection()
        with pytest.raises(sending.SendError) as caught:
            sending.send(_message(to="gone@acme.example"), connection)
        connection.close()
    assert str(caught.value) == "The SMTP server refused the recipient: 550 5.1.1 Mailbox unavailable"
    assert caught.value.permanent
    assert not caught.value.maybe_delivered


def test_a_server_that_stalls_after_the_message_may_have_delivered_it(settings):
    with FakeSMTP(hang=True) as smtp:
        smtp.use_in(settings)
        settings.EMAIL_TIMEOUT = 1
        connection = sending.open_connection()
        with pytest.raises(sending.SendError) as caught:
            sending.send(_message(), connection)
        connection.close()
    assert caught.value.maybe_delivered
    assert "ada@" not in str(caught.value)
