"""Progress reporting for long stage runs: a bar on a terminal, silence elsewhere."""

from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, total: int, description: str = "") -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    """Reports nothing: the default for stage functions, tasks and `--json`."""

    def start(self, total: int, description: str = "") -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class BarProgress:
    """A rich progress bar written to `stream` (the command's stderr)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._task = None

    def start(self, total: int, description: str = "") -> None:
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, count: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)

    def finish(self) -> None:
        self._bar.stop()


NO_PROGRESS = NoProgress()


def for_stream(stream: TextIO, *, quiet: bool) -> Progress:
    """A bar when `stream` is a terminal and the caller is not quiet, else nothing."""
    isatty = getattr(stream, "isatty", None)
    if quiet or not (isatty and isatty()):
        return NO_PROGRESS
    return BarProgress(stream)
