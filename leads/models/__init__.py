"""The data: leads mirrored from Airtable, why each was skipped, who must not be
emailed, every email sent, every inbound message and how far each inbox was read,
every run of a pipeline job, where the last Airtable pull began, and the messages
waiting for a person. Addresses are compared case-insensitively. One module per
subject; import from here: `from leads.models import Lead`."""

from leads.models.emails import EmailStatus, OutboundEmail
from leads.models.inbound import STOP_REASONS, InboundKind, InboundMessage, InboxState
from leads.models.lead import Lead, LeadStatus, MessageSource, SkipLog, SkipReason, Stage, StopReason
from leads.models.mailboxes import MailboxState
from leads.models.review import MessageReview
from leads.models.runs import Job, PipelineRun, RunOutcome
from leads.models.suppression import Suppression, SuppressionReason, address_key
from leads.models.sync import SyncCursor

__all__ = [
    "EmailStatus",
    "InboundKind",
    "InboundMessage",
    "Job",
    "Lead",
    "LeadStatus",
    "MailboxState",
    "InboxState",
    "MessageReview",
    "MessageSource",
    "OutboundEmail",
    "PipelineRun",
    "RunOutcome",
    "SkipLog",
    "STOP_REASONS",
    "SkipReason",
    "Stage",
    "StopReason",
    "Suppression",
    "SuppressionReason",
    "SyncCursor",
    "address_key",
]
