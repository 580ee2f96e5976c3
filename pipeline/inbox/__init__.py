"""The inbox: the IMAP client, classification of inbound mail (pure), matching to our
emails, the effects, ESP webhooks, and the inbox stage, whose `run` this package hands
on: `inbox.run(...)`."""

from pipeline.inbox.imap import InboxCause, InboxError
from pipeline.inbox.stage import InboxSummary, run

__all__ = ["InboxCause", "InboxError", "InboxSummary", "run"]
