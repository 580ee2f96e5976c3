"""The IMAP client (imapclient): opens a mailbox's folder read-only and fetches new mail
without marking it read. The only module that raises `InboxError`.

The folder is selected with EXAMINE (read-only) and messages are fetched with
`BODY.PEEK[]`, so the team's mail is never marked read, flagged, moved or deleted.
"""

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import parse_qs, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from outreach_site.logs import mask_email, redact
from pipeline.errors import ServiceError

# Bytes of one message fetched: a reply, an auto-reply or a report says what it is in
# its first part; a 10 MB attachment is not read (the message still classifies).
MAX_MESSAGE_BYTES = 1_000_000
_BODY = f"BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>"


class InboxCause(StrEnum):
    """The only causes an InboxError carries."""

    CONFIG = "config"  # the URL is missing or malformed
    UNREACHABLE = "unreachable"  # no connection (refused, DNS, TLS)
    AUTH = "auth"  # the login was refused
    TIMEOUT = "timeout"  # the server stopped answering
    FOLDER = "folder"  # the folder cannot be opened
    PROTOCOL = "protocol"  # the server answered something else than IMAP expects


class InboxError(ServiceError):
    """An inbox could not be read. str(err) is one line naming the setting, with the password masked."""

    causes = InboxCause


@dataclass(frozen=True, slots=True)
class Address:
    """Where an inbox is: parsed from `imaps://user:password@host:993/INBOX` (or imap://…?starttls=true)."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool  # imaps: TLS from the first byte
    starttls: bool
    setting: str = "INBOX_URL"

    @property
    def masked(self) -> str:
        """The URL as a person may see it: no password, the user's address shortened."""
        scheme = "imaps" if self.tls else "imap"
        return f"{scheme}://{mask_email(self.user)}:***@{self.host}:{self.port}/{self.folder}"

    @classmethod
    def from_url(cls, url: str, *, setting: str = "INBOX_URL") -> "Address":
        """Parse an inbox URL; raises InboxError(CONFIG) naming `setting` when it is not one."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise InboxError(
                f"{setting} must look like imaps://user:password@host:993/INBOX, not {redact(url.strip())[:200]!r}",
                cause=InboxCause.CONFIG,
                permanent=True,
            )
        try:
            port = parts.port or (993 if parts.scheme == "imaps" else 143)
        except ValueError:
            raise InboxError(f"{setting} has a port that is not a number", cause=InboxCause.CONFIG) from None
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            tls=parts.scheme == "imaps",
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
            setting=setting,
        )


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    raw: bytes  # at most MAX_MESSAGE_BYTES
    internal_date: datetime | None  # when the server received it


class Folder:
    """An open, read-only folder: its UIDVALIDITY, the UIDs after a given one, and their messages."""

    def __init__(self, client: IMAPClient, address: Address, uidvalidity: int) -> None:
        self._client = client
        self._address = address
        self.uidvalidity = uidvalidity

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than `last_uid`, in order (`n:*` always names the last message: it is dropped)."""
        with _translated(self._address, "search"):
            found = self._client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def fetch(self, uids: list[int]) -> list[Fetched]:
        """The messages of `uids`, in one command, without setting \\Seen."""
        if not uids:
            return []
        with _translated(self._address, "fetch"):
            answer = self._client.fetch(uids, [_BODY, "INTERNALDATE"])
        fetched = []
        for uid in sorted(answer):
            data = answer[uid]
            raw = next((value for key, value in data.items() if key.startswith(b"BODY[")), b"") or b""
            fetched.append(Fetched(uid, bytes(raw), data.get(b"INTERNALDATE")))
        return fetched


@contextlib.contextmanager
def open_folder(address: Address, *, timeout: float) -> Iterator[Folder]:
    """Log in and EXAMINE the address's folder; raises InboxError with one line naming the setting."""
    with _translated(address, "connect"):
        context = ssl.create_default_context() if (address.tls or address.starttls) else None
        client = IMAPClient(address.host, port=address.port, ssl=address.tls, ssl_context=context, timeout=timeout)
    client.normalise_times = False  # INTERNALDATE with its zone, not naive local time
    try:
        with _translated(address, "login"):
            if address.starttls:
                client.starttls(context)
            client.login(address.user, address.password)
        with _translated(address, "open"):
            selected = client.select_folder(address.folder, readonly=True)
        yield Folder(client, address, int(selected.get(b"UIDVALIDITY", 0)))
    finally:
        with contextlib.suppress(IMAPClientError, OSError):  # the connection is already gone: nothing to close
            client.logout()


@contextlib.contextmanager
def _translated(address: Address, step: str) -> Iterator[None]:
    """Turn the library's and the socket's errors into one InboxError line."""
    where = f"the inbox {address.masked} ({address.setting})"
    try:
        yield
    except LoginError as exc:  # before IMAPClientError, its parent class
        raise InboxError(
            f"{where} refused the login: check the user and password in {address.setting}",
            cause=InboxCause.AUTH,
            permanent=True,
        ) from exc
    except TimeoutError as exc:
        raise InboxError(f"{where} did not answer in time ({step})", cause=InboxCause.TIMEOUT) from exc
    except IMAPClientAbortError as exc:  # before IMAPClientError, its parent class
        raise InboxError(f"{where} closed the connection ({step})", cause=InboxCause.UNREACHABLE) from exc
    except IMAPClientError as exc:
        cause = InboxCause.FOLDER if step == "open" else InboxCause.PROTOCOL
        what = f"has no folder {address.folder!r}" if step == "open" else f"answered an error ({step})"
        raise InboxError(f"{where} {what}: {_one_line(exc)}", cause=cause) from exc
    except ssl.SSLError as exc:
        raise InboxError(f"{where}: TLS failed: {_one_line(exc)}", cause=InboxCause.UNREACHABLE) from exc
    except OSError as exc:  # refused, unreachable, unknown host
        reason = exc.strerror or _one_line(exc)
        raise InboxError(f"could not connect to {where}: {reason}", cause=InboxCause.UNREACHABLE) from exc


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:200] or type(exc).__name__
