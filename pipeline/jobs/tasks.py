"""django-q2 entry points: one task per job, each a few lines over the stages.

Each task runs its stages through `runs.record`, so every run leaves a
`PipelineRun` row, failed ones with their error. Where a task runs several
stages (the pipeline; engage then push), each is isolated: a stage that raises
is recorded as failed and the next one still runs, so the engager sends when the
scraper or the generator is down, and the push runs whatever the engager did.

Running the same task twice at once (a task picked up by two clusters) adds no
duplication here: every step reads and writes the database only, and the
engager claims each lead before sending, so a second run finds nothing to send.
"""

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leads.models import Job
from outreach_site.logs import redact
from pipeline import airtable, engage, generate, inbox, scrape
from pipeline.jobs import runs
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    """One stage call: the job it is recorded as, the stage's `run`, and its options."""

    job: Job
    run: Callable[..., StageSummary]
    options: Mapping[str, Any] = field(default_factory=dict)

    def with_options(self, **options: Any) -> "Step":
        return Step(self.job, self.run, {**self.options, **options})


SYNC_PULL = Step(Job.SYNC_PULL, airtable.run, {"direction": "pull"})
SCRAPE = Step(Job.SCRAPE, scrape.run)
GENERATE = Step(Job.GENERATE, generate.run)
ENGAGE = Step(Job.ENGAGE, engage.run)
SEND_DUE = Step(Job.ENGAGE, engage.run_due)  # the per-minute tick: what is due, as each mailbox's gap ends
SYNC_PUSH = Step(Job.SYNC_PUSH, airtable.run, {"direction": "push"})
CHECK_INBOX = Step(Job.CHECK_INBOX, inbox.run)

# The pipeline's order: fresh leads in, descriptions, messages, emails, outcomes out.
PIPELINE: tuple[Step, ...] = (SYNC_PULL, SCRAPE, GENERATE, ENGAGE, SYNC_PUSH)
SYNC_JOBS = {"pull": Job.SYNC_PULL, "push": Job.SYNC_PUSH, "both": Job.SYNC}


def run_step(step: Step, *, limit: int | None = None, dry_run: bool = False, progress: Progress = NO_PROGRESS):
    """Run one stage and record it; raises whatever the stage raised. The step's own options win."""
    arguments = {"limit": limit, "dry_run": dry_run, "progress": progress, **step.options}
    return runs.record(step.job, lambda: step.run(**arguments), dry_run=dry_run)


def run_steps(
    steps: Sequence[Step],
    *,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
    stage: str = Job.PIPELINE,
    until: Callable[[StageSummary], bool] | None = None,
) -> StageSummary:
    """Run `steps` in order, each isolated from the others' failures; never raises for a stage.
    With `until`, the steps after one whose summary it holds true are not run.

    The summary adds up the stages that ran (`failed` also counts one for each
    stage that raised) and lists every stage in `items`:
    `{"stage": job, "outcome": "succeeded"|"failed", ...}`.
    """
    totals = Counter()
    skipped = Counter()
    items = []
    for step in steps:
        # Whatever a stage raises is recorded (run_step) and must not stop the stages after it.
        try:
            summary = run_step(step, limit=limit, dry_run=dry_run, progress=progress)
        except Exception as exc:  # noqa: BLE001 - see above: a failed stage must not stop the next one
            error = redact(str(exc) or type(exc).__name__).splitlines()[0][:300]
            logger.warning("stage failed", extra={"stage": step.job, "error": error, "error_type": type(exc).__name__})
            totals["failed"] += 1
            items.append({"stage": step.job, "outcome": "failed", "error": error})
            continue
        for name in ("processed", "succeeded", "deferred", "failed"):
            totals[name] += getattr(summary, name)
        skipped.update(summary.skipped)
        items.append(
            {
                "stage": step.job,
                "outcome": "succeeded",
                "processed": summary.processed,
                "succeeded": summary.succeeded,
                "skipped": dict(summary.skipped),
                "deferred": summary.deferred,
                "failed": summary.failed,
            }
        )
        if until is not None and until(summary):
            break
    return StageSummary(
        stage=str(stage),
        dry_run=dry_run,
        processed=totals["processed"],
        succeeded=totals["succeeded"],
        skipped=dict(sorted(skipped.items())),
        deferred=totals["deferred"],
        failed=totals["failed"],
        items=tuple(items),
    )


def engage_then_push(
    *, limit: int | None = None, lead_ids: list[int] | None = None, engage_step: Step = ENGAGE
) -> StageSummary:
    """Engage (the selected leads, or all), then push what it marked to Airtable; the push runs whatever
    the engager did, and a push that fails leaves the leads marked for the next one."""
    steps = (engage_step.with_options(limit=limit, lead_ids=lead_ids), SYNC_PUSH)
    return run_steps(steps, stage=Job.ENGAGE)


def check_inbox_then_push(*, limit: int | None = None, inbox_step: Step = CHECK_INBOX) -> StageSummary:
    """Read the inboxes and act on what came back, then push the statuses it set to Airtable; the push
    runs whatever the inbox did."""
    return run_steps((inbox_step.with_options(limit=limit), SYNC_PUSH), stage=Job.CHECK_INBOX)


# --- The tasks: what django-q2 calls by dotted path. Each returns the summary as a dict.


def run_pipeline(*, limit: int | None = None) -> dict:
    """The whole pipeline, recorded as one `pipeline` run plus one run per stage."""
    return runs.record(Job.PIPELINE, lambda: run_steps(PIPELINE, limit=limit)).as_dict()


def run_sync(*, direction: str = "both", limit: int | None = None, full: bool = False) -> dict:
    """Pull leads from Airtable (every record with `full`) and/or push outcomes back; raises AirtableError."""
    step = Step(SYNC_JOBS[direction], airtable.run, {"direction": direction, "full": full})
    return run_step(step, limit=limit).as_dict()


def run_full_pull() -> dict:
    """Pull every Airtable record, archiving the leads whose record was deleted (the daily schedule)."""
    return run_step(SYNC_PULL.with_options(full=True)).as_dict()


def run_scrape(*, limit: int | None = None) -> dict:
    """Fetch company descriptions from the leads' websites."""
    return run_step(SCRAPE, limit=limit).as_dict()


def run_generate(*, limit: int | None = None, lead_ids: list[int] | None = None, rewrite: bool = False) -> dict:
    """Write each lead's message (LLM, else the fallback template); `rewrite` writes the named leads' again."""
    step = GENERATE.with_options(lead_ids=lead_ids, rewrite=rewrite) if lead_ids is not None else GENERATE
    return run_step(step, limit=limit).as_dict()


def run_engage(*, limit: int | None = None, lead_ids: list[int] | None = None) -> dict:
    """Email the leads that pass the rules (safe with any number of workers), then push the outcomes."""
    return engage_then_push(limit=limit, lead_ids=lead_ids).as_dict()


def run_check_inbox(*, limit: int | None = None) -> dict:
    """Read every inbox (replies, bounces, auto-replies, complaints, unsubscribes), then push the outcomes."""
    return check_inbox_then_push(limit=limit).as_dict()


def run_send_due() -> dict:
    """Every minute: send the emails that are due (windows, gaps, caps), then push what it marked.

    A tick that only deferred (nothing due, or waiting for a person) marked nothing: it does not
    push, so no Airtable call and no push run every minute while nothing goes out."""
    return run_steps((SEND_DUE, SYNC_PUSH), stage=Job.ENGAGE, until=_marked_nothing).as_dict()


def _marked_nothing(summary: StageSummary) -> bool:
    return summary.processed == summary.deferred and not summary.failed
