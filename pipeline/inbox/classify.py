"""What an inbound message is: raw bytes -> Verdict. Pure: no database, no network.

Each message is exactly one kind, decided in this order:

1. A report: an RFC 5965 feedback report -> `complaint`; an RFC 3464 delivery-status
   report or a server's bounce notice -> `bounce_hard` (5.x.x) or `bounce_soft`
   (4.x.x, or a delay). Reports come first because real bounces often carry
   `Auto-Submitted: auto-replied`.
2. A mail to our List-Unsubscribe mailto (subject "unsubscribe") -> `unsubscribe`; mail
   clients send it with `Auto-Submitted`, so it comes before the auto-reply headers.
3. An automatic answer, by its headers or its localised subject -> `auto_reply`; bulk
   and list mail that answers nothing -> `other`.
4. The reply's own text, quotes removed: asks to stop -> `unsubscribe`, else `reply`.

Whether a reply answers anything we sent is the stage's question (matching.py): one that
matches nothing becomes `other` there.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import date as Day  # `date` is a field of Verdict
from email.message import Message
from email.utils import parsedate_to_datetime

import quotequail

from leads.models import InboundKind
from pipeline.inbox import parsing, reports, returns, wording
from pipeline.inbox.findings import Recipient

_MAX_TEXT = 10_000  # characters of a reply's own text kept; the rest is not needed to act on it
# A person writes above the quote: lines past this many are taken as quoted without being read
# (quotequail tries every pattern on every line, the costliest step of a long thread).
_MAX_OWN_LINES = 200
_NO_AUTO_SUBMITTED = {"", "no"}


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # an InboundKind value
    detail: str  # why, in a few words a person can check
    message_id: str  # the message's own Message-ID, or a digest of its bytes when it has none
    sender: str  # lower-cased address
    subject: str
    recipients: tuple[Recipient, ...] = ()  # a report's recipients
    original_message_id: str | None = None  # the email it answers or reports on
    references: tuple[str, ...] = ()  # every id it names, most likely first, to match our emails by
    text: str = ""  # a reply's own words
    date: datetime | None = None
    returns_on: Day | None = None  # an auto-reply's return date, when it names one


def classify(raw: bytes) -> Verdict:
    """The verdict on one raw message; any bytes give one (empty or damaged mail is `other`)."""
    message = parsing.parse(raw or b"")
    message_id = _own_id(message, raw)
    sender = parsing.address(parsing.header(message, "From")) or parsing.address(parsing.header(message, "Return-Path"))
    subject = parsing.header(message, "Subject")[:255]
    answered = parsing.message_ids(parsing.header(message, "In-Reply-To"))
    answered += reversed(parsing.message_ids(parsing.header(message, "References")))
    facts = {"message_id": message_id, "sender": sender, "subject": subject, "date": _date(message)}
    if not raw or not raw.strip() or not message.keys():
        return Verdict(InboundKind.OTHER, "empty message", **facts)

    report = reports.read(message, sender=sender, subject=subject)
    if report is not None:
        named = [report.original_message_id] if report.original_message_id else []
        references = tuple(dict.fromkeys([*named, *answered]))
        return Verdict(
            report.kind,
            report.detail,
            recipients=report.recipients,
            original_message_id=report.original_message_id,
            references=references,
            **facts,
        )
    facts |= {"original_message_id": answered[0] if answered else None, "references": tuple(dict.fromkeys(answered))}
    if wording.bare_subject(subject).casefold() == "unsubscribe":
        return Verdict(InboundKind.UNSUBSCRIBE, "a mail to the List-Unsubscribe address", **facts)
    automatic = _automatic(message, subject, answers=bool(answered))
    if automatic is not None:
        back = None
        if automatic[0] == InboundKind.AUTO_REPLY:
            written_on = (facts["date"] or datetime.now(tz=UTC)).date()
            back = returns.return_date(f"{subject}\n{parsing.body_text(message)}", written_on=written_on)
        return Verdict(automatic[0], automatic[1], returns_on=back, **facts)

    text = own_text(parsing.body_text(message))
    asked = wording.stop_request(text) or (
        "" if wording.is_reply_subject(subject) else wording.stop_request(wording.bare_subject(subject))
    )
    if asked:
        return Verdict(InboundKind.UNSUBSCRIBE, f"asks to stop: {asked[:60]!r}", text=text, **facts)
    return Verdict(InboundKind.REPLY, "a person's answer" if answered else "a person's mail", text=text, **facts)


def own_text(text: str) -> str:
    """A reply's own words: the quoted original (quotequail) and `>` lines removed."""
    text = parsing.clean(text).replace("\r\n", "\n").replace("\r", "\n")
    quoted = quotequail.quote(text[: _MAX_TEXT * 4], limit=_MAX_OWN_LINES, quote_intro_line=True)
    kept = "\n".join(part for expanded, part in quoted if expanded)
    lines = [line for line in kept.split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()[:_MAX_TEXT]


def _automatic(message: Message, subject: str, *, answers: bool) -> tuple[str, str] | None:
    """(kind, detail) for an automatic answer or for bulk mail; None for a person's mail."""
    auto_submitted = parsing.header(message, "Auto-Submitted").lower()
    if auto_submitted.split(";")[0].strip() not in _NO_AUTO_SUBMITTED:
        return InboundKind.AUTO_REPLY, f"header Auto-Submitted: {auto_submitted[:40]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if parsing.has_header(message, name):
            return InboundKind.AUTO_REPLY, f"header {name}"
    precedence = parsing.header(message, "Precedence").lower()
    if precedence == "auto_reply":
        return InboundKind.AUTO_REPLY, "header Precedence: auto_reply"
    empty_return_path = parsing.header(message, "Return-Path").replace(" ", "") == "<>"
    if parsing.has_header(message, "X-Auto-Response-Suppress") and empty_return_path:
        return InboundKind.AUTO_REPLY, "header X-Auto-Response-Suppress with an empty Return-Path"
    if wording.is_auto_reply_subject(subject):
        return InboundKind.AUTO_REPLY, f"subject {wording.bare_subject(subject)[:40]!r}"
    if precedence in ("bulk", "junk", "list"):
        if answers:
            return InboundKind.AUTO_REPLY, f"header Precedence: {precedence} on an answer"
        return InboundKind.OTHER, f"bulk mail (Precedence: {precedence})"
    if not answers and (parsing.has_header(message, "List-Id") or parsing.has_header(message, "List-Unsubscribe")):
        return InboundKind.OTHER, "list mail or a newsletter"
    return None


def _own_id(message: Message, raw: bytes) -> str:
    """The message's Message-ID; mail without one is named by a digest of its bytes, the same on every read."""
    ids = parsing.message_ids(parsing.header(message, "Message-ID"))
    if ids and len(ids[0]) <= 255:
        return ids[0]
    return f"<{hashlib.sha256(raw or b'').hexdigest()[:40]}@no-message-id>"


def _date(message: Message) -> datetime | None:
    value = parsing.header(message, "Date")
    try:
        found = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    return found if found is not None and found.tzinfo is not None else None
