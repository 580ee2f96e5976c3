"""Recording stage runs as `PipelineRun` rows."""

from collections.abc import Callable
from contextvars import ContextVar

from django.utils import timezone

from leads.models import Job, PipelineRun, RunOutcome
from outreach_site.logs import redact
from pipeline.summary import StageSummary

# The run being recorded, so that a stage can link what it writes (skip logs) to it.
_current: ContextVar[PipelineRun | None] = ContextVar("current_run", default=None)


def current() -> PipelineRun | None:
    """The `PipelineRun` that `record` is running now in this context, if any."""
    return _current.get()


def record(job: Job, stage_run: Callable[[], StageSummary], *, dry_run: bool = False) -> StageSummary:
    """Run `stage_run` and record it; a dry run records nothing, as it changes nothing.

    Re-raises whatever the stage raised, after recording the run as failed with
    the error's one-line message.
    """
    if dry_run:
        return stage_run()
    run = PipelineRun.objects.create(job=job, dry_run=False)
    token = _current.set(run)
    try:
        summary = stage_run()
    except BaseException as exc:
        PipelineRun.objects.filter(pk=run.pk).update(
            outcome=RunOutcome.FAILED,
            finished_at=timezone.now(),
            error=redact(str(exc) or type(exc).__name__)[:2000],  # no URL password, key or address
        )
        raise
    finally:
        _current.reset(token)
    PipelineRun.objects.filter(pk=run.pk).update(
        outcome=RunOutcome.SUCCEEDED,
        finished_at=timezone.now(),
        processed=summary.processed,
        succeeded=summary.succeeded,
        skipped=dict(summary.skipped),
        deferred=summary.deferred,
        failed=summary.failed,
        extra=dict(summary.extra),
    )
    return summary
