"""The sending side of each mailbox: when it may send next, its warm-up, and whether it paused itself.

The mailboxes themselves are configured in settings (pipeline/mailboxes.py); a row is
created the first time a mailbox is used, and is never edited by hand except to resume.
"""

from django.db import models


class MailboxState(models.Model):
    """One configured mailbox's pace and health, shared by every worker."""

    name = models.CharField(max_length=64, unique=True, help_text="The mailbox's name, as in OUTREACH_MAILBOXES.")
    # The gap: no email leaves before next_send_at. While a worker sends, it holds the mailbox
    # until `claimed_until`; if it dies, the hold expires and another worker carries on.
    next_send_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Warm-up: the first day it sent, the number of days it sent, and the last of them.
    first_send_day = models.DateField(null=True, blank=True)
    send_days = models.PositiveIntegerField(default=0)
    last_send_day = models.DateField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True, help_text="Set when it paused itself; a person resumes it.")
    pause_reason = models.CharField(max_length=255, blank=True)
    resumed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a person resumed it: its rates count only the sends since."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "mailbox"

    def __str__(self) -> str:
        return self.name

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None
