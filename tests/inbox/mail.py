"""Inbound mail for tests: the written messages in messages/ with their placeholders filled,
and bounces and complaints built from the RFC formats around one of our sent emails."""

import itertools
from email.utils import make_msgid
from pathlib import Path

from django.utils import timezone

from leads.models import EmailStatus, Lead, OutboundEmail
from tests.builders import make_lead

MESSAGES = Path(__file__).resolve().parent / "messages"
US = "outreach@example.com"
_numbers = itertools.count(1)


def load(
    name: str,
    *,
    lead: str = "jane@acme.example",
    us: str = US,
    subject: str = "A quick idea for Acme",
    message_id: str = "<original-0001@example.com>",
) -> bytes:
    """A message of messages/ (`reply-en`, `auto-de-abwesenheit` …) with its placeholders filled."""
    raw = (MESSAGES / f"{name}.eml").read_bytes()
    values = {"lead": lead, "us": us, "subject": subject, "message_id": message_id, "n": str(next(_numbers))}
    for key, value in values.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", value.encode())
    return raw


def names(prefix: str) -> list[str]:
    return sorted(path.stem for path in MESSAGES.glob(f"{prefix}*.eml"))


def sent_email(lead: Lead | None = None, **overrides) -> OutboundEmail:
    """An email we sent, with our Message-ID stored as the engager stores it."""
    lead = lead or make_lead()
    fields = {
        "lead": lead,
        "touch": 1,
        "recipient": lead.email,
        "subject": f"A quick idea for {lead.company_name}",
        "body": "Hi,\nWe help small sales teams.\n",
        "status": EmailStatus.SENT,
        "message_id": make_msgid(domain="example.com"),
        "sent_at": timezone.now(),
    }
    fields.update(overrides)
    return OutboundEmail.objects.create(**fields)


def answer(name: str, email: OutboundEmail, *, sender: str | None = None) -> bytes:
    """A written message as an answer to `email`, from its recipient (or `sender`)."""
    return load(name, lead=sender or email.recipient, subject=email.subject, message_id=email.message_id)


def _returned_headers(email: OutboundEmail) -> str:
    return (
        f"From: Outreach <{US}>\n"
        f"To: {email.recipient}\n"
        f"Subject: {email.subject}\n"
        f"Message-ID: {email.message_id}\n"
        f"Date: Mon, 02 Dec 2024 09:00:00 +0000\n"
    )


def bounce(
    email: OutboundEmail | None = None,
    *,
    recipient: str | None = None,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str = "smtp; 550 5.1.1 The email account that you tried to reach does not exist",
) -> bytes:
    """An RFC 3464 delivery-status report, as Postfix writes one, about `email` (or a `recipient` alone)."""
    recipient = recipient or email.recipient
    returned = _returned_headers(email) if email else f"To: {recipient}\nMessage-ID: {make_msgid()}\n"
    n = next(_numbers)
    return f"""\
Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: {US}
Subject: Undelivered Mail Returned to Sender
Date: Tue, 03 Dec 2024 09:00:0{n % 10} +0000
Message-ID: <bounce-{n}@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-{n}"

--dsn-{n}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.
I'm sorry to have to inform you that your message could not be delivered to one or more recipients.

--dsn-{n}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Mon,  2 Dec 2024 09:00:01 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: {diagnostic}

--dsn-{n}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{returned}
--dsn-{n}--
""".encode()


def complaint(email: OutboundEmail) -> bytes:
    """An RFC 5965 feedback report (a person pressed "spam") about `email`, with the email returned."""
    n = next(_numbers)
    return f"""\
From: Feedback Loop <fbl@isp.example>
To: abuse@example.com
Subject: Email Feedback Report
Date: Tue, 03 Dec 2024 10:00:00 +0000
Message-ID: <arf-{n}@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-{n}"

--arf-{n}
Content-Type: text/plain; charset="us-ascii"

This is an email abuse report for an email message received from IP 192.0.2.1.

--arf-{n}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <{US}>
Original-Rcpt-To: <{email.recipient}>
Arrival-Date: Mon, 02 Dec 2024 09:00:01 +0000

--arf-{n}
Content-Type: message/rfc822
Content-Disposition: inline

{_returned_headers(email)}
{email.body}
--arf-{n}--
""".encode()


def unrelated(n: int = 0) -> bytes:
    """Mail that answers nothing we sent: a colleague's note."""
    return f"""\
From: Colleague <colleague{n}@example.com>
To: {US}
Subject: Lunch on Friday?
Date: Tue, 03 Dec 2024 11:00:00 +0000
Message-ID: <lunch-{n}-{next(_numbers)}@example.com>
Content-Type: text/plain; charset=us-ascii

Are you in on Friday?
""".encode()


def with_attachment(raw: bytes, *, size: int) -> bytes:
    """`raw` (a single-part text message) with a `size`-byte attachment after its text."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    head = b"\n".join(line for line in head.split(b"\n") if not line.lower().startswith(b"content-"))
    line = b"QUFB" * 19 + b"\n"  # base64 lines of 76 characters
    payload = (line * (size // len(line) + 1))[:size]
    return (
        head
        + b'\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="att"\n\n--att\n'
        + b"Content-Type: text/plain; charset=utf-8\n\n"
        + body
        + b'\n--att\nContent-Type: application/octet-stream; name="big.bin"\nContent-Transfer-Encoding: base64\n\n'
        + payload
        + b"\n--att--\n"
    )
