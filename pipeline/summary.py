"""What a stage run reports: the `--json` object and the task's return value."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StageSummary:
    stage: str
    dry_run: bool
    processed: int = 0
    succeeded: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)  # reason code -> count
    deferred: int = 0
    failed: int = 0
    # One row per lead in a dry run (lead, decision, reason, …), so a person can
    # see what a real run would do; empty in a real run.
    items: tuple[Mapping[str, Any], ...] = ()
    # The stage's own keys of the contract (sync: "mode", "archived"; generate: "grounding"),
    # written at the top level of `--json` beside the others.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = dict(self.skipped)
        data["items"] = [dict(item) for item in self.items]
        del data["extra"]
        return {**data, **self.extra}


@dataclass(slots=True)
class Tally:
    """Counts gathered while a stage runs; `summary()` freezes them."""

    stage: str
    dry_run: bool
    processed: int = 0
    succeeded: int = 0
    skipped: Counter = field(default_factory=Counter)
    deferred: int = 0
    failed: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> StageSummary:
        return StageSummary(
            stage=self.stage,
            dry_run=self.dry_run,
            processed=self.processed,
            succeeded=self.succeeded,
            skipped=dict(sorted(self.skipped.items())),
            deferred=self.deferred,
            failed=self.failed,
            items=tuple(self.items),
            extra=dict(self.extra),
        )
