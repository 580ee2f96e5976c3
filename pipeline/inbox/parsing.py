"""Reading raw mail that may be damaged: bytes -> message, headers and text that never raise.

Mail arrives truncated, with unknown or wrong charsets, raw 8-bit headers, or a huge
attachment. Everything here answers with text (possibly with replacement characters)
instead of an exception, so one bad message never stops a batch.
"""

import contextlib
import email
import email.parser
import re
from email import policy
from email.errors import HeaderParseError, MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

import charset_normalizer
from selectolax.lexbor import LexborHTMLParser

# Bytes of one text part that are decoded: a report or a reply says what matters in its
# first lines; a 10 MB text attachment is never needed whole to classify a message.
_MAX_PART_BYTES = 256_000
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status", "message/feedback-report")
_ANGLE_ID = re.compile(r"<[^<>\s]+>")
_HEADER_PARSER = email.parser.BytesHeaderParser(policy=policy.compat32)


def parse(raw: bytes) -> Message:
    """The message of `raw`; compat32 is the lenient parser that keeps damaged mail readable."""
    return email.message_from_bytes(raw, policy=policy.compat32)


def parse_headers(raw: bytes) -> Message:
    """Headers alone (a text/rfc822-headers part, or headers quoted in a text bounce)."""
    return _HEADER_PARSER.parsebytes(raw)


def clean(text: str) -> str:
    """Text safe to store: raw 8-bit bytes are read as UTF-8, else as the charset they look like."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # raw 8-bit in another charset (Shift_JIS, Latin-1 …): guess it
        best = charset_normalizer.from_bytes(data).best()
        return str(best) if best is not None else data.decode("utf-8", "replace")


def header(message: Message, name: str) -> str:
    """A header decoded to one line of text; "" when it is missing."""
    wanted = name.lower()
    # raw_items: the value as received; `get` turns raw 8-bit text into replacement characters.
    text = next((str(value) for key, value in message.raw_items() if key.lower() == wanted), None)
    if text is None:
        return ""
    if "=?" in text:  # RFC 2047 encoded words; raw 8-bit text is left to clean()
        with contextlib.suppress(LookupError, UnicodeError, ValueError, HeaderParseError):  # a lying charset
            text = str(make_header(decode_header(text)))
    return " ".join(clean(text).split())


def has_header(message: Message, name: str) -> bool:
    return message.get(name) is not None


def address(value: str) -> str:
    """The lower-cased address of one `Name <a@b>` value; "" when there is none."""
    found = parseaddr(value)[1].strip().strip("<>").lower()
    return found if "@" in found else ""


def addresses(values: list[str]) -> list[str]:
    """The addresses of several header values (`To`, `Cc`), in order."""
    found = (item[1].strip().lower() for item in getaddresses(values))
    return [item for item in found if "@" in item]


def message_ids(value: str) -> list[str]:
    """Every `<…>` Message-ID in a header value (`In-Reply-To`, `References`), in order."""
    return _ANGLE_ID.findall(value)


def part_bytes(part: Message) -> bytes:
    """The decoded payload of a leaf part, at most `_MAX_PART_BYTES`."""
    try:
        payload = part.get_payload(decode=True)
    except (MessageError, ValueError, TypeError, AssertionError):  # broken base64 or quoted-printable
        payload = None
    if isinstance(payload, bytes):
        return payload[:_MAX_PART_BYTES]
    raw = part.get_payload()
    if isinstance(raw, list):  # a report part the parser split into header blocks
        raw = "\n".join(item.as_string() for item in raw if isinstance(item, Message))
    return raw.encode("utf-8", "surrogateescape")[:_MAX_PART_BYTES] if isinstance(raw, str) else b""


def part_text(part: Message) -> str:
    """A leaf part's text in its declared charset, falling back to UTF-8 when that is unknown."""
    data = part_bytes(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:  # a charset Python does not know ("x-unknown", "unknown-8bit")
        return data.decode("utf-8", "replace")


def html_text(html: str) -> str:
    """The visible text of an HTML part, without the quoted blocks mail clients mark as such."""
    tree = LexborHTMLParser(html)
    for quoted in tree.css("blockquote, div.gmail_quote, div#divRplyFwdMsg, div#appendonsend, style, script"):
        quoted.decompose()
    body = tree.body or tree.root
    return body.text(separator="\n") if body is not None else ""


def leaf_parts(message: Message) -> list[Message]:
    """Every non-multipart part, not descending into attached messages; a multipart whose boundary
    is missing (damaged mail) is a leaf of its raw text."""
    found: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop(0)
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(payload, list):
            stack[:0] = [item for item in payload if isinstance(item, Message)]
            continue
        found.append(part)
    return found


def all_text(message: Message) -> str:
    """The text of every text part (and of damaged multiparts), joined: what a notice says."""
    return "\n".join(
        part_text(part)
        for part in leaf_parts(message)
        if part.get_content_maintype() in ("text", "multipart") or part.get_content_type() in _REPORT_TYPES
    )


def body_text(message: Message) -> str:
    """The message's own text: its first text/plain part, else its first HTML part as text."""
    html = None
    for part in leaf_parts(message):
        if part.get_content_type() in ("text/plain", "multipart/alternative") and not _is_attachment(part):
            return part_text(part)
        if html is None and part.get_content_type() == "text/html" and not _is_attachment(part):
            html = part
    return html_text(part_text(html)) if html is not None else ""


def attached_messages(message: Message) -> list[Message]:
    """Messages attached whole (message/rfc822) or as headers only (text/rfc822-headers)."""
    found = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list):
                found.extend(item for item in payload if isinstance(item, Message))
            elif isinstance(payload, str):
                found.append(parse(payload.encode("utf-8", "surrogateescape")))
        elif kind in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
            found.append(parse_headers(part_bytes(part)))
    return found


def _is_attachment(part: Message) -> bool:
    return (part.get("Content-Disposition") or "").strip().lower().startswith("attachment")
