"""Reports about mail we sent: RFC 5965 feedback reports (complaints), RFC 3464
delivery-status reports, and the non-standard bounces of common servers (flufl.bounce
knows many; the text of the notice fills in what it misses). Pure: message -> Report.
"""

import logging
import re
from email.message import Message

from flufl.bounce import all_failures

from leads.models import InboundKind
from pipeline.inbox import notifications, parsing, wording
from pipeline.inbox.findings import Recipient, Report

# flufl.bounce logs every detector it runs at INFO, and a traceback for a detector that trips.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_STATUS = re.compile(r"(?<![\w.])([45])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
_DSN_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?<![\w.\-+])([45])[0-9][0-9](?=[ \-])")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-=/!#$&'*?^`{|}~]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_MESSAGE_ID = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_HEADER_LINE = re.compile(r"^[A-Za-z][\w-]*:\s")
_FINAL_RECIPIENT = re.compile(r"^\s*final-recipient:\s*[^;\n]*;\s*<?([^\s<>;]+@[^\s<>;]+)>?", re.I | re.M)
_ACTION = re.compile(r"^\s*action:\s*(\w+)", re.I | re.M)
_STATUS_FIELD = re.compile(r"^\s*status:\s*(\S+)", re.I | re.M)
_SENDER_LINE = re.compile(
    r"^\s*(?:from|mail from|sender|return-path|reply-to|envelope-from)\s*:\s*[^\n]*?<?([^\s<>@]+@[^\s<>]+?)>?\s*$",
    re.I | re.M,
)
# Feedback types that a person's complaint carries (RFC 5965); auth-failure reports are
# DMARC forensics about our domain, not a person's answer.
_COMPLAINT_TYPES = {"abuse", "fraud", "virus", "other", ""}
# Actions that say the delivery may still happen or may be retried: `expired` is SendGrid's.
_TEMPORARY_ACTIONS = {"delayed", "expired"}
_NEAR = 600  # characters after a recipient's address in which its status is looked for


def read(message: Message, *, sender: str, subject: str) -> Report | None:
    """The report `message` is, or None: a feedback report, a delivery-status report, an ESP's
    notification or a bounce notice."""
    parts: dict[str, Message] = {}  # content type -> its first part: one walk for every check below
    for part in message.walk():
        parts.setdefault(part.get_content_type(), part)
    returned = parsing.attached_messages(message)
    dsn = parts.get(_DSN_TYPES[0]) or parts.get(_DSN_TYPES[1])
    return (
        _feedback(message, parts.get("message/feedback-report"), returned, subject=subject)
        or (_delivery_status(message, dsn, returned) if dsn is not None else None)
        or notifications.read(message, sender=sender)
        or (_bounce_notice(message, returned) if _looks_like_bounce(message, returned, sender, subject) else None)
    )


# --- RFC 5965 feedback reports ------------------------------------------------------------


def _feedback(message: Message, part: Message | None, returned: list[Message], *, subject: str) -> Report | None:
    if part is None:
        if not returned or not wording.is_complaint_subject(subject):
            return None
        fields = Message()  # a provider's complaint without the machine-readable part (Microsoft JMRP)
    else:
        fields = _fields(part)[0] if _fields(part) else Message()
    feedback_type = parsing.header(fields, "Feedback-Type").lower()
    address = parsing.address(parsing.header(fields, "Original-Rcpt-To")) or next(
        (found for item in returned for found in parsing.addresses([parsing.header(item, "To")])), ""
    )
    recipients = (Recipient(address, action="complained"),) if address else ()
    original = _original_message_id(message, returned)
    if feedback_type == "opt-out":
        return Report(InboundKind.UNSUBSCRIBE, recipients, original, "feedback report: opt-out")
    if feedback_type not in _COMPLAINT_TYPES:
        return Report(InboundKind.OTHER, recipients, original, f"feedback report ({feedback_type}): no complaint")
    return Report(InboundKind.COMPLAINT, recipients, original, f"feedback report ({feedback_type or 'complaint'})")


# --- RFC 3464 delivery-status reports -----------------------------------------------------


def _delivery_status(message: Message, part: Message, returned: list[Message]) -> Report | None:
    recipients = []
    for block in _fields(part):
        address = _dsn_address(parsing.header(block, "Final-Recipient")) or _dsn_address(
            parsing.header(block, "Original-Recipient")
        )
        if not address:
            continue
        field = _DSN_STATUS.search(parsing.header(block, "Status"))  # 2.x.x too: a success notice says so
        status = ".".join(field.groups()) if field else _first_status(parsing.header(block, "Diagnostic-Code"))
        action = parsing.header(block, "Action").lower().split(" ")[0]
        recipients.append(Recipient(address, status or _status_from_action(action, block), action))
    if not recipients:
        return None  # a damaged report: the notice's text may still say who bounced
    kind = _kind_of(recipients)
    detail = ", ".join(sorted({f"{r.status} ({r.action or 'no action'})" for r in recipients}))
    original = _original_message_id(message, returned)
    return Report(kind, tuple(recipients), original, f"delivery-status report: {detail}")


def _fields(part: Message) -> list[Message]:
    """The header blocks of a report part, whether the parser split them or left them as text."""
    payload = part.get_payload()
    if isinstance(payload, list) and all(isinstance(item, Message) for item in payload) and payload:
        return payload
    text = parsing.part_bytes(part).replace(b"\r\n", b"\n")
    return [parsing.parse_headers(block.strip() + b"\n") for block in re.split(rb"\n\s*\n", text) if block.strip()]


def _dsn_address(value: str) -> str:
    """`rfc822; Jane@Example.com` -> `jane@example.com`."""
    found = _ADDRESS.search(value.rpartition(";")[2] or value)
    return found.group(0).strip(".").lower() if found else ""


def _status_from_action(action: str, block: Message) -> str:
    if action in _TEMPORARY_ACTIONS or wording.is_temporary(parsing.header(block, "Diagnostic-Code")):
        return "4.0.0"
    return "5.0.0" if action == "failed" else ""


def _kind_of(recipients: list[Recipient]) -> str:
    classes = {r.status[:1] for r in recipients}
    if "5" in classes:
        return InboundKind.BOUNCE_HARD
    if "4" in classes or any(r.action in _TEMPORARY_ACTIONS for r in recipients):
        return InboundKind.BOUNCE_SOFT
    return InboundKind.OTHER  # delivered, relayed, expanded: a success notice is no bounce


# --- non-standard bounce notices ----------------------------------------------------------


def _looks_like_bounce(message: Message, returned: list[Message], sender: str, subject: str) -> bool:
    """A notice from a mail server: its sender, X-Failed-Recipients, a bounce subject that is no "Re:", or
    a returned message under a notice's words."""
    local = sender.partition("@")[0]
    from_header = parsing.header(message, "From").lower()
    return (
        bool(wording.BOUNCE_SENDER.match(local))
        or "mailer-daemon" in from_header
        or parsing.has_header(message, "X-Failed-Recipients")
        or (wording.is_bounce_subject(subject) and not wording.is_reply_subject(subject))
        or (
            not wording.is_reply_subject(subject)
            and bool(returned)
            and wording.is_bounce_text(parsing.body_text(message)[:2000])
        )
    )


def _bounce_notice(message: Message, returned: list[Message]) -> Report | None:
    text = parsing.all_text(message)
    returned = returned or _quoted_headers(text)
    original = _original_message_id(message, returned, text)
    inline = _inline_delivery_status(text)  # a report whose parts lost their MIME structure
    if inline:
        detail = ", ".join(sorted({f"{r.status} ({r.action or 'no action'})" for r in inline}))
        return Report(_kind_of(inline), inline, original, f"delivery-status report (as text): {detail}")
    diagnostic = _diagnostic(text)
    ours = set(parsing.addresses([parsing.header(message, name) for name in ("From", "To", "Cc")]))
    temporary, permanent = _flufl(message)
    addresses = (
        parsing.addresses([parsing.header(message, "X-Failed-Recipients")])
        or sorted(permanent | temporary)
        or _addresses_in(diagnostic, exclude=ours)
        or [found for item in returned for found in parsing.addresses([parsing.header(item, "To")])]
    )
    addresses = list(dict.fromkeys(addresses))
    if not addresses:
        # Nothing names the recipient; a notice that answers our email still says which one failed.
        code = _first_status(diagnostic) or _smtp_class(diagnostic)
        if not code or not (original or parsing.message_ids(parsing.header(message, "In-Reply-To"))):
            return None
        addresses = [""]
    recipients = []
    for address in addresses:
        status = _status_near(diagnostic, address) or _status_near(text, address)
        if not status:
            hinted = address in temporary or wording.is_temporary(diagnostic)
            status = "4.0.0" if hinted else "5.0.0"
        recipients.append(Recipient(address, status, "delayed" if status[0] == "4" else "failed"))
    kind = _kind_of(recipients)
    detail = ", ".join(sorted({r.status for r in recipients}))
    return Report(kind, tuple(recipients), _original_message_id(message, returned, text), f"bounce notice: {detail}")


def _flufl(message: Message) -> tuple[set[str], set[str]]:
    """flufl.bounce's temporary and permanent recipients; a detector that trips on odd mail finds none."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001 - a third-party detector failing on damaged mail must not stop the batch
        return set(), set()

    def decoded(items) -> set[str]:
        found = (item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in items)
        return {item.strip().strip("<>").lower() for item in found if "@" in item}

    return decoded(temporary), decoded(permanent)


def _diagnostic(text: str) -> str:
    """The notice's own words: the text before the copy of the returned message."""
    found = wording.RETURNED_MESSAGE.search(text)
    return text[: found.start()] if found and found.start() > 0 else text[:8000]


def _quoted_headers(text: str) -> list[Message]:
    """The headers of the returned message when a notice quotes them in its text."""
    found = wording.RETURNED_MESSAGE.search(text)
    if not found:
        return []
    lines = text[found.start() :].replace("\r\n", "\n").split("\n")
    if lines and not _HEADER_LINE.match(lines[0]):
        lines = lines[1:]  # the marker line ("Message headers follow.")
    while lines and not lines[0].strip():
        lines = lines[1:]
    block = "\n".join(lines).split("\n\n", 1)[0]
    return [parsing.parse_headers(block.encode("utf-8", "replace") + b"\n")] if block else []


def _inline_delivery_status(text: str) -> tuple[Recipient, ...]:
    """Recipients of `Final-Recipient:` blocks written in a notice's text."""
    recipients = []
    for found in _FINAL_RECIPIENT.finditer(text):
        block = text[found.end() : found.end() + _NEAR]
        block = block[: _FINAL_RECIPIENT.search(block).start()] if _FINAL_RECIPIENT.search(block) else block
        action = _ACTION.search(block)
        action = action.group(1).lower() if action else ""
        status = _first_status(" ".join(_STATUS_FIELD.findall(block))) or _first_status(block)
        status = status or ("4.0.0" if action in _TEMPORARY_ACTIONS else "5.0.0")
        recipients.append(Recipient(found.group(1).lower(), status, action))
    return tuple(recipients)


def _addresses_in(text: str, *, exclude: set[str]) -> list[str]:
    """Addresses a notice names, but not its own, a server's, or the sender's (`From:`, `MAIL FROM:`)."""
    senders = {found.group(1).lower() for found in _SENDER_LINE.finditer(text)}
    found = (match.group(0).strip(".").lower() for match in _ADDRESS.finditer(text))
    return [
        item
        for item in found
        if item not in exclude and item not in senders and not wording.BOUNCE_SENDER.match(item.partition("@")[0])
    ]


def _status_near(text: str, address: str) -> str:
    """The first status code after the address (or anywhere, when the address is not written)."""
    where = text.lower().find(address)
    window = text[where : where + _NEAR] if where >= 0 else text
    return _first_status(window) or _smtp_class(window)


def status_in(text: str) -> str:
    """The first enhanced status code in a server's answer (`550 5.1.1 …` -> 5.1.1), else its SMTP class."""
    return _first_status(text) or _smtp_class(text)


def _first_status(text: str) -> str:
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else ""


def _smtp_class(text: str) -> str:
    found = _SMTP_CODE.search(text)
    return f"{found.group(1)}.0.0" if found else ""


def _original_message_id(message: Message, returned: list[Message], text: str = "") -> str | None:
    """The Message-ID of the email the report is about: the returned message's, else one quoted in the text."""
    own = parsing.header(message, "Message-ID")
    for item in returned:
        ids = parsing.message_ids(parsing.header(item, "Message-ID"))
        if ids and ids[0] != own:
            return ids[0]
    for found in _MESSAGE_ID.finditer(text):
        if found.group(1) != own:
            return found.group(1)
    return None
