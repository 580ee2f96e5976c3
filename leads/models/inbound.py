"""What came back: every inbound message the inbox stage (or an ESP webhook) recorded,
and how far each mailbox's folders have been read."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from leads.models.emails import OutboundEmail
from leads.models.lead import Lead, StopReason


class InboundKind(models.TextChoices):
    """The contract's inbound kinds: each message is exactly one."""

    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE_HARD = "bounce_hard", "Hard bounce"  # a permanent failure, 5.x.x
    BOUNCE_SOFT = "bounce_soft", "Soft bounce"  # a temporary failure or a delay report, 4.x.x
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"  # a reply, or a mail to the List-Unsubscribe mailto, asking to stop
    OTHER = "other"  # answers nothing we sent: left alone


# Kind -> the contract's stop reason for a lead's sequence; an auto-reply stops it only
# with OUTREACH_STOP_ON_AUTO_REPLY, a soft bounce only once it counts as hard.
STOP_REASONS = {
    InboundKind.REPLY: StopReason.REPLIED,
    InboundKind.AUTO_REPLY: StopReason.AUTO_REPLIED,
    InboundKind.BOUNCE_HARD: StopReason.BOUNCED,
    InboundKind.BOUNCE_SOFT: StopReason.BOUNCED,
    InboundKind.COMPLAINT: StopReason.COMPLAINED,
    InboundKind.UNSUBSCRIBE: StopReason.UNSUBSCRIBED,
}


class InboundMessage(models.Model):
    """One inbound message (or ESP event), recorded once per mailbox however often it is read."""

    mailbox = models.CharField(max_length=64, help_text="The mailbox it was read from, or `esp:<name>` for a webhook.")
    folder = models.CharField(max_length=255, blank=True)
    uid = models.PositiveBigIntegerField(null=True, blank=True, help_text="Its IMAP UID when it was read.")
    message_id = models.CharField(
        "Message-ID", max_length=255, help_text="The message's own Message-ID (an ESP event: its event id)."
    )
    kind = models.CharField(max_length=16, choices=InboundKind)
    detail = models.CharField(max_length=255, blank=True, help_text="Why it is this kind.")
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    email = models.ForeignKey(OutboundEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="answers")
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages")
    address = models.CharField(
        max_length=320, blank=True, help_text="The address it is about: a report's recipient, else the one we emailed."
    )
    status = models.CharField(max_length=16, blank=True, help_text="A report's status, e.g. 5.1.1.")
    action = models.CharField(max_length=16, blank=True, help_text="A report's action: failed, delayed, …")
    text = models.TextField(blank=True, help_text="The reply's own text, quotes removed.")
    stop_reason = models.CharField(max_length=16, blank=True, help_text="Set when it ends the lead's sequence.")
    returns_on = models.DateField(
        null=True, blank=True, help_text="An auto-reply's return date: the next follow-up waits until after it."
    )
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The run that inserted the row: after a bulk insert that skipped rows already
    # there, a run tells its own rows (whose effects it applies) from another worker's.
    read_by = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # Soft bounces are counted per address, in any case.
            models.Index(Lower("address"), "kind", name="inbound_address_kind"),
            # A lead's page shows its conversation in order.
            models.Index(fields=["lead", "received_at"], name="inbound_lead_received"),
            # The report counts the period's messages per kind and day, and joins the emails they answer.
            models.Index(fields=["received_at"], include=["kind", "email"], name="inbound_received_report"),
        ]
        constraints = [
            # The same mail read twice, or by two workers at once, has its effect once.
            models.UniqueConstraint(fields=["mailbox", "message_id"], name="inbound_once_per_mailbox"),
            models.CheckConstraint(condition=Q(kind__in=InboundKind.values), name="inbound_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject or self.message_id}"


class InboxState(models.Model):
    """How far one mailbox's folder has been read: its UIDVALIDITY and the last UID seen."""

    mailbox = models.CharField(max_length=64)
    folder = models.CharField(max_length=255)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True)
    last_uid = models.PositiveBigIntegerField(default=0)
    last_read_at = models.DateTimeField(
        null=True, blank=True, help_text="When all its new mail was last read; follow-ups wait while this is old."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["mailbox", "folder"]
        constraints = [
            # One reading position per folder, whatever number of workers start at once.
            models.UniqueConstraint(fields=["mailbox", "folder"], name="inboxstate_one_per_folder"),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox}/{self.folder}"
