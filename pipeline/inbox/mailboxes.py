"""The mailboxes whose inboxes are read: a name, its inbox URL, and the setting it came from."""

from dataclasses import dataclass

from django.conf import settings

DEFAULT_MAILBOX = "default"


@dataclass(frozen=True, slots=True)
class Inbox:
    mailbox: str  # the name stored on each outbound email and inbound message
    url: str  # imaps://user:password@host:993/INBOX
    setting: str  # the variable a person fixes when it is wrong


def inboxes() -> list[Inbox]:
    """Every configured mailbox that has an inbox; today the one `default` mailbox of INBOX_URL."""
    url = settings.INBOX_URL.strip()
    return [Inbox(DEFAULT_MAILBOX, url, "INBOX_URL")] if url else []
