"""The data: leads mirrored from Airtable, why each was skipped, who must not be
emailed, every email sent, and every run of a pipeline job. Addresses are compared
case-insensitively."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class MessageSource(models.TextChoices):
    AI = "ai", "AI"
    FALLBACK = "fallback", "Fallback template"
    MANUAL = "manual", "Written by a person"


class Stage(models.TextChoices):
    SYNC = "sync"
    SCRAPE = "scrape"
    GENERATE = "generate"
    ENGAGE = "engage"


class SkipReason(models.TextChoices):
    """The only reasons a lead is skipped (the contract's codes)."""

    NO_EMAIL = "no_email"
    INVALID_EMAIL = "invalid_email"
    SUPPRESSED = "suppressed"  # unsubscribed or on the do-not-contact list
    ALREADY_CONTACTED = "already_contacted"
    STATUS_FILTERED = "status_filtered"
    CONFIDENCE_FILTERED = "confidence_filtered"


class LeadStatus(models.TextChoices):
    """The engagement statuses the app writes; a person may write any other in Airtable."""

    CONTACTED = "Contacted"  # emailed, no answer yet
    REPLIED = "Replied"
    BOUNCED = "Bounced"
    UNSUBSCRIBED = "Unsubscribed"
    DO_NOT_CONTACT = "Do Not Contact"  # after a complaint


class Lead(models.Model):
    """One Airtable record: its logical fields, its raw fields, and our work on it."""

    airtable_id = models.CharField("Airtable record id", max_length=32, unique=True, null=True, blank=True)
    email = models.CharField(max_length=320, blank=True)
    name = models.CharField(max_length=255, blank=True)
    job_title = models.CharField(max_length=255, blank=True)
    company_name = models.CharField(max_length=255, blank=True)
    website = models.CharField(max_length=2048, blank=True)
    company_description = models.TextField(blank=True)
    email_confidence_level = models.CharField(max_length=64, blank=True)
    custom_message = models.TextField(blank=True, help_text="The message field in Airtable.")
    engagement_status = models.CharField(max_length=64, blank=True)
    date_messaged = models.DateField(null=True, blank=True)
    skip_reason = models.CharField(max_length=32, choices=SkipReason, blank=True)

    message_subject = models.CharField(max_length=255, blank=True)
    message_body = models.TextField(blank=True)
    message_source = models.CharField(max_length=10, choices=MessageSource, blank=True)
    message_grounding = models.TextField(blank=True, help_text="The company description the message was written from.")
    message_generated_at = models.DateTimeField(null=True, blank=True)

    scraped_at = models.DateTimeField(null=True, blank=True, help_text="Last fetch of the website, good or bad.")
    scrape_error = models.CharField(max_length=255, blank=True)

    raw_fields = models.JSONField(default=dict, blank=True, help_text="The record's fields as Airtable sent them.")
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    pending_push = models.BooleanField(default=False, help_text="Has local changes not yet pushed to Airtable.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # already_contacted and suppression checks look leads up by address, in any case.
            models.Index(Lower("email"), name="lead_email_ci"),
            # The push reads only the leads with local changes.
            models.Index(fields=["pending_push"], name="lead_pending_push", condition=Q(pending_push=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(message_source__in=[*MessageSource.values, ""]), name="lead_message_source_known"
            ),
            models.CheckConstraint(
                condition=Q(skip_reason__in=[*SkipReason.values, ""]), name="lead_skip_reason_known"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The best short label for the lead: name, else company, else record id."""
        return self.name.strip() or self.company_name.strip() or self.airtable_id or f"Lead {self.pk}"

    @property
    def has_message(self) -> bool:
        return bool(self.message_body.strip())


class Job(models.TextChoices):
    """What a `PipelineRun` ran: one name per job, whoever started it (a command, a task, the admin)."""

    PIPELINE = "pipeline"  # every stage in order
    SYNC = "sync"  # push, then pull
    SYNC_PULL = "sync_pull"
    SYNC_PUSH = "sync_push"
    SCRAPE = "scrape"
    GENERATE = "generate"
    ENGAGE = "engage"


class RunOutcome(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PipelineRun(models.Model):
    """One run of one job, with the counts of its summary; a failed run keeps its error's line."""

    job = models.CharField(max_length=32, choices=Job)
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RunOutcome, default=RunOutcome.RUNNING)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text="Reason code -> count.")
    deferred = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=RunOutcome.values), name="pipelinerun_outcome_known"),
            models.CheckConstraint(condition=Q(job__in=Job.values), name="pipelinerun_job_known"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class SkipLog(models.Model):
    """Why a stage left a lead alone. Engage entries carry a contract reason code."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="skip_logs")
    stage = models.CharField(max_length=10, choices=Stage)
    reason = models.CharField(max_length=32, choices=SkipReason, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    run = models.ForeignKey(PipelineRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="skip_logs")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["reason", "stage"], name="skiplog_reason_stage")]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="skiplog_stage_known"),
            # A skipped lead always has a reason a person can read; other stages
            # (a scrape that failed) may leave the code empty and explain in detail.
            models.CheckConstraint(
                condition=Q(reason__in=SkipReason.values) | (Q(reason="") & ~Q(stage=Stage.ENGAGE)),
                name="skiplog_reason_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage}: {self.reason or self.detail}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Suppression(models.Model):
    """An address that must never be emailed, whatever lead row carries it."""

    address = models.CharField(max_length=320)
    reason = models.CharField(max_length=20, choices=SuppressionReason, default=SuppressionReason.DO_NOT_CONTACT)
    source = models.CharField(max_length=32, blank=True, help_text="Where it came from: one-click, link, admin, …")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suppressed address"
        verbose_name_plural = "suppression list"
        constraints = [
            # One row per person, whatever the case of the address.
            models.UniqueConstraint(Lower("address"), name="suppression_address_ci"),
        ]

    def __str__(self) -> str:
        return self.address


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
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_source = models.CharField(max_length=10, choices=MessageSource, blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus, default=EmailStatus.PENDING)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # already_contacted: emails to an address (any case) since a date.
            models.Index(Lower("recipient"), "created_at", name="outboundemail_recipient_ci"),
            # The daily cap counts today's emails across every worker.
            models.Index(fields=["created_at"], name="outboundemail_created"),
        ]
        constraints = [
            # Neither a crash nor a second worker can email a lead twice at one touch.
            models.UniqueConstraint(fields=["lead", "touch"], name="outboundemail_one_per_touch"),
            models.CheckConstraint(condition=Q(status__in=EmailStatus.values), name="outboundemail_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.status})"
