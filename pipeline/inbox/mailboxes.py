"""The mailboxes whose inboxes are read: a name, its inbox URL, and the setting it came from.

The list of mailboxes is the one the engager sends from (pipeline/mailboxes.py)."""

from dataclasses import dataclass

from pipeline import mailboxes

DEFAULT_MAILBOX = mailboxes.DEFAULT_MAILBOX


@dataclass(frozen=True, slots=True)
class Inbox:
    mailbox: str  # the name stored on each outbound email and inbound message
    url: str  # imaps://user:password@host:993/INBOX
    setting: str  # the variable a person fixes when it is wrong


def inboxes() -> list[Inbox]:
    """Every configured mailbox that has an inbox (INBOX_URL, or MAILBOX_<NAME>_INBOX_URL for each named one)."""
    return [
        Inbox(mailbox.name, mailbox.inbox_url, mailbox.setting("INBOX_URL"))
        for mailbox in mailboxes.configured()
        if mailbox.inbox_url
    ]
