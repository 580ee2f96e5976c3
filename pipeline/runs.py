"""Recording stage runs as `PipelineRun` rows."""

from collections.abc import Callable

from django.utils import timezone

from pipeline.models import PipelineRun, RunOutcome
from pipeline.summary import StageSummary


def record(job: str, stage_run: Callable[[], StageSummary], *, dry_run: bool = False) -> StageSummary:
    """Run `stage_run` and record it; a dry run records nothing, as it changes nothing.

    Re-raises whatever the stage raised, after recording the run as failed with
    the error's one-line message.
    """
    if dry_run:
        return stage_run()
    run = PipelineRun.objects.create(job=job, dry_run=False)
    try:
        summary = stage_run()
    except BaseException as exc:
        PipelineRun.objects.filter(pk=run.pk).update(
            outcome=RunOutcome.FAILED,
            finished_at=timezone.now(),
            error=(str(exc) or type(exc).__name__)[:2000],
        )
        raise
    PipelineRun.objects.filter(pk=run.pk).update(
        outcome=RunOutcome.SUCCEEDED,
        finished_at=timezone.now(),
        processed=summary.processed,
        succeeded=summary.succeeded,
        skipped=dict(summary.skipped),
        deferred=summary.deferred,
        failed=summary.failed,
    )
    return summary
