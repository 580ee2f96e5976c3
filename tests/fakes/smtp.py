"""A real SMTP server (aiosmtpd) on 127.0.0.1:<free port> that records what it receives.

Faults are switched on in the server: `refuse` recipients with a 550, `greylist`
them with a 451 (`greylist[address] = n` answers 451 n times, then accepts; -1: always),
answer a recipient with `421` and close the connection (`close_on`), or `hang`
on DATA (the client waits with the message half handed over, as when a server
stalls or the network drops).
"""

import asyncio
import email
import email.policy
import logging
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.processes import free_port

# aiosmtpd logs every SMTP command at INFO; the tests assert on what was received instead.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]


class _Handler:
    def __init__(self, server: "FakeSMTP") -> None:
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.server.lock:
            self.server.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        with self.server.lock:
            self.server.rcpt_attempts.append(key)
            remaining = self.server.greylist.get(key, 0)
            if remaining > 0:
                self.server.greylist[key] = remaining - 1
        if key in self.server.close_on:
            self.server.close_on.discard(key)  # once: the next connection is served as usual
            return "421 4.3.2 Service shutting down, closing connection"
        if remaining:
            return "451 4.7.1 Greylisted, try again later"
        if key in self.server.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.server.hang:
            with self.server.lock:
                self.server.hanging += 1
            await self.server.released.wait()
            return "451 4.3.0 Stopped"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 OK"


class FakeSMTP:
    """`with FakeSMTP() as smtp:` serves on `smtp.host:smtp.port`; `smtp.received` lists the messages."""

    def __init__(self, *, refuse: set[str] = frozenset(), hang: bool = False, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.refuse = {address.lower() for address in refuse}
        self.greylist: dict[str, int] = {}
        self.close_on: set[str] = set()
        self.rcpt_attempts: list[str] = []  # every RCPT TO, accepted or not, lower-cased
        self.hang = hang
        self.received: list[Received] = []
        self.connections = 0
        self.hanging = 0
        self.lock = threading.Lock()
        self.released: asyncio.Event | None = None
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, enable_SMTPUTF8=True)

    def __enter__(self) -> "FakeSMTP":
        self._controller.start()
        self.released = asyncio.Event()  # aiosmtpd 1.4 runs its own loop; created after it starts
        return self

    def __exit__(self, *exc_info) -> None:
        loop = self._controller.loop
        loop.call_soon_threadsafe(self.released.set)
        self._controller.stop()

    @property
    def recipients(self) -> list[str]:
        with self.lock:
            return [item.to for item in self.received]

    def email_url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def use_in(self, settings) -> None:
        """Point Django's email settings (the `settings` fixture) at this server."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = self.host
        settings.EMAIL_PORT = self.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
