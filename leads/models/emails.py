"""Every email sent, one row per lead and touch."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from leads.models.lead import Lead, MessageSource
from leads.models.suppression import address_key


class EmailStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"  # handed to the backend; if it stays here the process died: a person decides
    SENT = "sent"
    FAILED = "failed"


class OutboundEmail(models.Model):
    """One email to one lead at one touch; written as `sending` before the backend is called."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="emails")
    touch = models.PositiveSmallIntegerField(default=1, help_text="1 = first contact")
    recipient = models.CharField(max_length=320)
    address_key = models.CharField(
        max_length=320, default="", editable=False, help_text="address_key(recipient): compared."
    )
    mailbox = models.CharField(
        max_length=64, default="default", help_text="The mailbox it left from; a lead's follow-ups leave from the same."
    )
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_source = models.CharField(max_length=10, choices=MessageSource, blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus, default=EmailStatus.PENDING)
    message_id = models.CharField(
        "Message-ID", max_length=255, blank=True, help_text="Ours, `<…@domain>`, stored before the email is sent."
    )
    provider_message_id = models.CharField(
        max_length=255, blank=True, help_text="The ESP's own id for the email, when it gives one that differs."
    )
    error = models.CharField(max_length=500, blank=True)
    smtp_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The server's answer code when it refused the email (5xx: a bounce)."
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Handovers tried; a 4xx answer is tried again.")
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="Pending after a 4xx answer: not tried again before this."
    )
    # When it was claimed: set by the engager from its `now`, so caps and gaps follow the run's clock.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # already_contacted: emails to an address (any case) since a date.
            models.Index(Lower("recipient"), "created_at", name="outboundemail_recipient_ci"),
            # already_contacted: emails to one address (in any spelling) since a date.
            models.Index(fields=["address_key", "created_at"], name="outboundemail_address_key"),
            # The daily cap counts today's emails across every worker.
            models.Index(fields=["created_at"], name="outboundemail_created"),
            # Each mailbox's cap, gap and health are counted from its own emails.
            models.Index(fields=["mailbox", "created_at"], name="outboundemail_mailbox_created"),
            # The report counts the period's sent emails per touch, source, mailbox and day from this index alone.
            models.Index(
                fields=["sent_at"],
                include=["touch", "message_source", "mailbox"],
                condition=Q(status=EmailStatus.SENT),
                name="outboundemail_sent_report",
            ),
            # The report's funnel: leads whose first email went out (one row each).
            models.Index(
                fields=["lead"], condition=Q(touch=1, status=EmailStatus.SENT), name="outboundemail_first_sent"
            ),
        ]
        constraints = [
            # Neither a crash nor a second worker can email a lead twice at one touch.
            models.UniqueConstraint(fields=["lead", "touch"], name="outboundemail_one_per_touch"),
            # An answer names the email it answers by Message-ID: one email per id (and the lookup's index).
            models.UniqueConstraint(
                fields=["message_id"], condition=~Q(message_id=""), name="outboundemail_message_id_unique"
            ),
            models.CheckConstraint(condition=Q(status__in=EmailStatus.values), name="outboundemail_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        # The recipient in canonical form (bulk inserts set it themselves).
        self.address_key = address_key(self.recipient)
        super().save(*args, **kwargs)
