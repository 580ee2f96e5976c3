"""django-q2 entry points: one task per stage, and one that runs the whole pipeline.

Each task calls a stage's `run` through `runs.record`, so every run leaves a
`PipelineRun` row, failed ones with their error. In the pipeline each stage is
isolated: a stage that raises is recorded as failed and the next one still runs,
so the engager sends when the scraper or the generator is down.

A stage module that is not in the code base yet is "not built": the pipeline
lists it as such and goes on, and `setup_schedules` says it is left out.

Running the same task twice at once (a task picked up by two clusters) adds no
duplication here: every step reads and writes the database only, and the
engager claims each lead before sending, so a second run finds nothing to send.
"""

import importlib
import importlib.util
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline import runs
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    """One stage call: the `PipelineRun.job` it is recorded as, its module and its options."""

    job: str
    module: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def is_built(self) -> bool:
        """True when the stage's module exists (it may still fail to import: that is a failure)."""
        return importlib.util.find_spec(self.module) is not None


SYNC_PULL = Step("sync_pull", "pipeline.sync", {"direction": "pull"})
SCRAPE = Step("scrape", "pipeline.scraper")
GENERATE = Step("generate", "pipeline.generator")
ENGAGE = Step("engage", "pipeline.engager")
SYNC_PUSH = Step("sync_push", "pipeline.sync", {"direction": "push"})

# The pipeline's order: fresh leads in, descriptions, messages, emails, outcomes out.
PIPELINE: tuple[Step, ...] = (SYNC_PULL, SCRAPE, GENERATE, ENGAGE, SYNC_PUSH)


def run_step(step: Step, *, limit: int | None = None, dry_run: bool = False, progress: Progress = NO_PROGRESS):
    """Run one stage and record it; raises whatever the stage (or its import) raised."""

    def stage_run() -> StageSummary:
        stage = importlib.import_module(step.module)  # inside the record: a broken import is a failed run
        return stage.run(limit=limit, dry_run=dry_run, progress=progress, **step.options)

    return runs.record(step.job, stage_run, dry_run=dry_run)


def run_pipeline_steps(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
    steps: Sequence[Step] = PIPELINE,
) -> StageSummary:
    """Run `steps` in order, each isolated from the others' failures; never raises for a stage.

    The summary adds up the stages that ran (`failed` also counts one for each
    stage that raised) and lists every stage in `items`:
    `{"stage": job, "outcome": "succeeded"|"failed"|"not_built", ...}`.
    """
    totals = Counter()
    skipped = Counter()
    items = []
    for step in steps:
        if not step.is_built():
            items.append({"stage": step.job, "outcome": "not_built"})
            continue
        # The project's one `except Exception`: whatever a stage raises is recorded
        # (run_step) and must not stop the stages after it.
        try:
            summary = run_step(step, limit=limit, dry_run=dry_run, progress=progress)
        except Exception as exc:  # noqa: BLE001 - see above: a failed stage must not stop the next one
            error = (str(exc) or type(exc).__name__).splitlines()[0][:300]
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
    return StageSummary(
        stage="pipeline",
        dry_run=dry_run,
        processed=totals["processed"],
        succeeded=totals["succeeded"],
        skipped=dict(sorted(skipped.items())),
        deferred=totals["deferred"],
        failed=totals["failed"],
        items=tuple(items),
    )


def built_steps(steps: Sequence[Step] = PIPELINE) -> list[Step]:
    """The steps whose stage module exists: what a scheduled pipeline will run."""
    return [step for step in steps if step.is_built()]


# --- The tasks: what django-q2 calls by dotted path. Each returns the summary as a dict.


def run_pipeline(*, limit: int | None = None) -> dict:
    """The whole pipeline, recorded as one `pipeline` run plus one run per stage."""
    return runs.record("pipeline", lambda: run_pipeline_steps(limit=limit)).as_dict()


def sync(*, direction: str = "both", limit: int | None = None) -> dict:
    """Pull leads from Airtable and/or push outcomes back; raises AirtableError when it cannot."""
    return run_step(Step(f"sync_{direction}", "pipeline.sync", {"direction": direction}), limit=limit).as_dict()


def scrape(*, limit: int | None = None) -> dict:
    """Fetch company descriptions from the leads' websites."""
    return run_step(SCRAPE, limit=limit).as_dict()


def generate(*, limit: int | None = None) -> dict:
    """Write each lead's message (LLM, else the fallback template)."""
    return run_step(GENERATE, limit=limit).as_dict()


def engage(*, limit: int | None = None) -> dict:
    """Email the leads that pass the rules; safe with any number of workers."""
    return run_step(ENGAGE, limit=limit).as_dict()
