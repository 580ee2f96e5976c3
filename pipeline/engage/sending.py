"""The email client: builds each message with its unsubscribe headers and hands it to
Django's email backend (EMAIL_URL). The only module that raises `SendError`."""

import smtplib
from collections.abc import Mapping
from email.utils import make_msgid, parseaddr
from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from environ import Env

from outreach_site.logs import redact
from pipeline.errors import ServiceError
from pipeline.mailboxes import Mailbox


class SendCause(StrEnum):
    """The only causes a SendError carries."""

    AUTH = "auth"  # the login was refused
    UNREACHABLE = "unreachable"  # no connection to the server
    REFUSED = "refused"  # the server answered no to the sender, the recipient or the message
    DISCONNECTED = "disconnected"  # the connection broke while the message was handed over
    NOT_ACCEPTED = "not_accepted"  # the backend returned without taking the message


class SendError(ServiceError):
    """An email could not be handed over. `maybe_delivered` is True when the server may
    have accepted it before the failure (a dropped connection, a timeout): such an
    email is left for a person to check, never sent again automatically."""

    causes = SendCause

    def __init__(
        self,
        message: str,
        *,
        cause: str,
        permanent: bool = False,
        maybe_delivered: bool = False,
        smtp_code: int | None = None,
    ) -> None:
        super().__init__(message, cause=cause, permanent=permanent)
        self.maybe_delivered = maybe_delivered
        self.smtp_code = smtp_code  # the server's answer, when it answered with a refusal
        self.recipient_refused = False  # the refusal was of the recipient's address (RCPT)

    @property
    def temporary(self) -> bool:
        """Nothing was delivered and a later try may succeed: a 4xx answer, or a connection already gone."""
        if self.maybe_delivered:
            return False
        if self.smtp_code is not None:
            return 400 <= self.smtp_code < 500
        return self.cause == SendCause.DISCONNECTED


def _server(mailbox: Mailbox | None = None) -> str:
    if mailbox is not None and mailbox.email_url:
        config = Env.email_url_config(mailbox.email_url)
        return f"{config.get('EMAIL_HOST') or 'localhost'}:{config.get('EMAIL_PORT') or 25}"
    return f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"


def backend_path(mailbox: Mailbox | None) -> str:
    """The dotted path of the email backend `mailbox` sends through."""
    if mailbox is None or not mailbox.email_url:
        return settings.EMAIL_BACKEND
    return Env.email_url_config(mailbox.email_url)["EMAIL_BACKEND"]


def _connection_for(mailbox: Mailbox | None) -> BaseEmailBackend:
    """The backend of the mailbox's MAILBOX_<NAME>_EMAIL_URL, else Django's (EMAIL_URL)."""
    if mailbox is None or not mailbox.email_url:
        return get_connection(fail_silently=False)
    config = Env.email_url_config(mailbox.email_url)
    options = {
        "host": config.get("EMAIL_HOST") or "localhost",
        "port": config.get("EMAIL_PORT") or 25,
        "username": config.get("EMAIL_HOST_USER") or "",
        "password": config.get("EMAIL_HOST_PASSWORD") or "",
        "use_tls": bool(config.get("EMAIL_USE_TLS")),
        "use_ssl": bool(config.get("EMAIL_USE_SSL")),
        "timeout": settings.EMAIL_TIMEOUT,
    }
    if config.get("EMAIL_FILE_PATH"):
        options = {"file_path": config["EMAIL_FILE_PATH"]}
    return get_connection(config["EMAIL_BACKEND"], fail_silently=False, **options)


def _reason(exc: BaseException) -> str:
    """One short line for a library error, without addresses."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return redact(f"{exc.smtp_code} {' '.join(text.split())}")[:200]
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return redact(" ".join(str(exc).split()))[:200] or type(exc).__name__


def open_connection(mailbox: Mailbox | None = None) -> BaseEmailBackend:
    """One open connection for a batch of emails from `mailbox` (None: Django's email settings);
    raises SendError when the server cannot be reached."""
    connection = _connection_for(mailbox)
    variable = mailbox.setting("EMAIL_URL") if mailbox is not None else "EMAIL_URL"
    try:
        connection.open()
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"The SMTP server {_server(mailbox)} refused the login ({_reason(exc)}): "
            f"check the user and password in {variable}",
            cause=SendCause.AUTH,
            permanent=True,
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(
            f"Could not connect to the SMTP server {_server(mailbox)} ({variable}): {_reason(exc)}",
            cause=SendCause.UNREACHABLE,
        ) from exc
    return connection


def compose_body(body: str, *, unsubscribe_url: str) -> str:
    """The message followed by the postal address and an unsubscribe line (CAN-SPAM)."""
    return (
        f"{body.rstrip()}\n\n"
        f"--\n"
        f"{settings.OUTREACH_POSTAL_ADDRESS}\n"
        f"Not interested? Unsubscribe with one click: {unsubscribe_url}\n"
    )


def new_message_id(from_email: str = "") -> str:
    """A fresh Message-ID in the sender's domain, `<…@domain>`: ours, stored before the email is sent."""
    from_address = parseaddr(from_email or settings.OUTREACH_FROM_EMAIL)[1]
    return make_msgid(domain=from_address.rpartition("@")[2] or "localhost")


def build_message(
    *,
    to: str,
    subject: str,
    body: str,
    unsubscribe_url: str,
    message_id: str,
    connection: BaseEmailBackend | None = None,
    headers: Mapping[str, str] | None = None,
    from_email: str = "",
) -> EmailMessage:
    """A plain-text email with From, Reply-To, our Message-ID and the RFC 8058 one-click unsubscribe headers.

    `body` is sent as given: pass it through `compose_body` first. `headers` adds more (a
    follow-up's In-Reply-To and References).
    """
    from_email = from_email or settings.OUTREACH_FROM_EMAIL
    from_address = parseaddr(from_email)[1]
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:{from_address}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Recorded before sending: replies and bounces name it, and it names the message in the provider's logs.
        "Message-ID": message_id,
        **(headers or {}),
    }
    return EmailMessage(
        subject=" ".join(subject.split()),  # a header: one line, or Django refuses it
        body=body,
        from_email=from_email,
        to=[to],
        reply_to=[settings.OUTREACH_REPLY_TO] if settings.OUTREACH_REPLY_TO else None,
        headers=headers,
        connection=connection,
    )


def is_open(connection: BaseEmailBackend) -> bool:
    """False when the SMTP connection was closed under us (smtplib closes it on a 421 answer); other
    backends have no connection to lose."""
    smtp = getattr(connection, "connection", None)
    if smtp is None:
        return not hasattr(connection, "connection")  # Django's SMTP backend before open(): closed
    return getattr(smtp, "sock", None) is not None


def _answer(code: int, text: bytes | str) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return redact(f"{code} {' '.join(text.split())}")[:200]


def send(message: EmailMessage, connection: BaseEmailBackend) -> None:
    """Hand one message to the open connection; raises SendError.

    A 4xx answer (`temporary`) means "try later": nothing was delivered. A 5xx answer to the
    recipient (`recipient_refused` and `permanent`) means the address takes no email."""
    try:
        count = connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        answers = sorted(exc.recipients.values())
        codes = sorted({code for code, _ in answers})
        error = SendError(
            f"The SMTP server refused the recipient: {_answer(*answers[-1])}",
            cause=SendCause.REFUSED,
            permanent=all(code >= 500 for code in codes),
            smtp_code=max(codes),
        )
        error.recipient_refused = True
        raise error from exc
    except smtplib.SMTPResponseException as exc:  # a refusal of the sender or of the message itself
        raise SendError(
            f"The SMTP server refused the message: {_reason(exc)}",
            cause=SendCause.REFUSED,
            permanent=exc.smtp_code >= 500,
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPServerDisconnected as exc:
        # "please run connect() first": the connection was gone before this message began, so the
        # server never saw it; otherwise it broke during the handover and the server may have it.
        never_sent = "connect() first" in str(exc)
        raise SendError(
            f"The SMTP server {_server()} closed the connection: {_reason(exc)}",
            cause=SendCause.DISCONNECTED,
            maybe_delivered=not never_sent,
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:  # TimeoutError is an OSError
        raise SendError(
            f"Sending through {_server()} failed: {_reason(exc)}", cause=SendCause.DISCONNECTED, maybe_delivered=True
        ) from exc
    if count != 1:
        raise SendError(f"The email backend {settings.EMAIL_BACKEND} accepted no message", cause=SendCause.NOT_ACCEPTED)
