"""Log formatting and masking: facts go in `extra`, secrets never reach a line."""

import logging
import re
from urllib.parse import urlsplit

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

# Shapes of credentials: OpenAI keys, Airtable personal access tokens and legacy
# keys, bearer headers, and the password part of a URL.
_SECRET_PATTERNS = [
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), "sk-***"),
    (re.compile(r"\bpat[A-Za-z0-9]{10,}\.[A-Za-z0-9]{10,}"), "pat***"),
    (re.compile(r"\bkey[A-Za-z0-9]{14}\b"), "key***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"), r"\1***"),
    # The password part of a URL, also with an empty user name (`redis://:password@host`).
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+@"), r"\1***@"),
]
_EMAIL_PATTERN = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def mask_email(address: object) -> str:
    """`jane.doe@acme.com` -> `j***@acme.com`; anything else is shortened to a hint."""
    text = str(address or "").strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at:
        return f"{text[:1]}***"
    return f"{local[:1]}***@{domain[:80]}"


def url_host(url: str) -> str:
    """`host:port` of a URL (`host` without a port), never its user name or password: how a URL is shown."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def redact(text: str) -> str:
    """Remove anything shaped like a key, a token, a URL password or an address."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return _EMAIL_PATTERN.sub(r"\1***@\2", text)


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS}


class RedactSecretsFilter(logging.Filter):
    """Last line of defence: redact the message and every extra field of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, then redact it like the message.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class TextFormatter(logging.Formatter):
    """`2024-03-01 12:00:00 INFO pipeline.engage.stage lead skipped lead_id=3 reason=no_email`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        if extras:
            head, newline, tail = line.partition("\n")
            line = f"{head} {extras}{newline}{tail}"
        return line


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line with the event, level, logger and every extra field."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "message": "event"},
        )
