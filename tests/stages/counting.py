"""A stage that works: it counts what it was asked to do."""

from pipeline.summary import StageSummary


def run(*, limit=None, dry_run=False, progress=None, **options) -> StageSummary:
    processed = 3 if limit is None else min(limit, 3)
    return StageSummary(
        stage="counting",
        dry_run=dry_run,
        processed=processed,
        succeeded=processed - 1,
        skipped={"no_email": 1},
        items=({"options": dict(options)},) if dry_run else (),
    )
