"""A CPU-heavy job for the cluster, importable by a worker started from the tests."""

import time
from pathlib import Path


def burn(seconds: float, marker: str = "") -> int:
    """Keep one core busy for `seconds`; touch `marker` first so a test knows it started."""
    if marker:
        Path(marker).write_text(str(time.time()))
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        sum(i * i for i in range(10_000))
        rounds += 1
    return rounds
