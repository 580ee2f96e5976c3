"""A lead: one Airtable record, its vocabularies, and why a stage left it alone."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from leads.models.runs import PipelineRun


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


class StopReason(models.TextChoices):
    """Why a lead's sequence ended (the contract's codes): no later touch goes to it."""

    REPLIED = "replied"
    AUTO_REPLIED = "auto_replied"  # only with OUTREACH_STOP_ON_AUTO_REPLY
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    STATUS_CHANGED = "status_changed"  # a person set a status other than the one the engager wrote


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
    reply = models.TextField(blank=True, help_text="The text of the lead's last reply, quotes removed.")
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="As Airtable gives it: an IANA zone, UTC+05:30, or a country."
    )

    message_subject = models.CharField(max_length=255, blank=True)
    message_body = models.TextField(blank=True)
    message_source = models.CharField(max_length=10, choices=MessageSource, blank=True)
    message_grounding = models.TextField(blank=True, help_text="The company description the message was written from.")
    # {"written_from": {source name: text}, "check": "passed"|"regenerated"|"fell_back"|"off"|"",
    #  "claims": [{"claim", "quote", "source", "start", "end", "score"}], "problems": [...]};
    # start:end index the words of written_from[source] that back the claim.
    message_evidence = models.JSONField(
        default=dict, blank=True, help_text="What the message was written from, and which source words back each claim."
    )
    message_generated_at = models.DateTimeField(null=True, blank=True)
    # Set by a person's approval; whatever writes the message again clears both.
    message_approved_at = models.DateTimeField(null=True, blank=True, help_text="When a person approved the message.")
    message_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who approved the message.",
    )

    scraped_at = models.DateTimeField(null=True, blank=True, help_text="Last fetch of the website, good or bad.")
    scrape_error = models.CharField(max_length=255, blank=True)

    raw_fields = models.JSONField(default=dict, blank=True, help_text="The record's fields as Airtable sent them.")
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    pending_push = models.BooleanField(default=False, help_text="Has local changes not yet pushed to Airtable.")
    local_edits = models.JSONField(
        default=list,
        blank=True,
        help_text="Airtable fields edited here; each keeps its local value until it changes in Airtable.",
    )
    sequence_stop_reason = models.CharField(
        max_length=16, choices=StopReason, blank=True, help_text="Why its sequence ended; no later touch goes out."
    )
    sequence_stopped_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its record was found deleted in Airtable: kept for history, left alone by every stage.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # already_contacted and suppression checks look leads up by address, in any case.
            models.Index(Lower("email"), name="lead_email_ci"),
            # The send window: the distinct zones are read, then leads in the open ones.
            models.Index(fields=["time_zone"], name="lead_time_zone"),
            # The push reads only the leads with local changes.
            models.Index(fields=["pending_push"], name="lead_pending_push", condition=Q(pending_push=True)),
            # The review queue: messages not yet approved, newest first.
            models.Index(
                fields=["-message_generated_at"], name="lead_review_queue", condition=Q(message_approved_at=None)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(message_source__in=[*MessageSource.values, ""]), name="lead_message_source_known"
            ),
            models.CheckConstraint(
                condition=Q(skip_reason__in=[*SkipReason.values, ""]), name="lead_skip_reason_known"
            ),
            models.CheckConstraint(
                condition=Q(sequence_stop_reason__in=[*StopReason.values, ""]), name="lead_stop_reason_known"
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

    @property
    def is_approved(self) -> bool:
        """Whether a person approved the message it holds now (writing the message clears this)."""
        return self.message_approved_at is not None


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
