"""A record of every run of a pipeline job, for the admin and for the scheduled pipeline."""

from django.db import models
from django.db.models import Q


class Job(models.TextChoices):
    """What a `PipelineRun` ran: one name per job, whoever started it (a command, a task, the admin)."""

    PIPELINE = "pipeline"  # every stage in order
    SYNC = "sync"  # push, then pull
    SYNC_PULL = "sync_pull"
    SYNC_PUSH = "sync_push"
    SCRAPE = "scrape"
    GENERATE = "generate"
    ENGAGE = "engage"
    CHECK_INBOX = "check_inbox"


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
    # The stage's own keys of its summary (engage: "touches", "deferred_by", "stopped"; generate:
    # "grounding"), so the report can say what waited at the last run without running it again.
    extra = models.JSONField(default=dict, blank=True, help_text="The stage's own summary keys.")
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
