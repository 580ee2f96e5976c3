"""Benchmark: 200 leads against the fake OpenAI server at 300 ms per call, at concurrency 1 and 8.

Run with `make bench-generate`. Loopback only, on a throw-away SQLite database; about 70 s.
The fake runs in a process of its own, as a real server would, so that its work does
not compete with the generator's threads for this process's GIL.
Prints messages/s at each concurrency and the ratio; exits 1 if the ratio is under 7.
"""

import os
import sys
import time
from pathlib import Path

from tests.benchmarks import throwaway_database

LEADS = 200
LATENCY = 0.3
REQUIRED_RATIO = 7.0


def _measure(concurrency: int) -> float:
    """Messages per second for one run over every lead, starting from leads without a message."""
    from django.test import override_settings

    from leads.models import Lead
    from pipeline import generate
    from pipeline.generate import llm

    Lead.objects.update(message_subject="", message_body="", message_source="", message_generated_at=None)
    llm.reset()
    with override_settings(OPENAI_CONCURRENCY=concurrency):
        started = time.perf_counter()
        summary = generate.run()
        elapsed = time.perf_counter() - started
    ai = Lead.objects.filter(message_source="ai").count()
    assert summary.succeeded == ai == LEADS, (summary, ai)  # noqa: S101 - a benchmark of failures measures nothing
    return LEADS / elapsed


def main() -> int:
    with throwaway_database("generate") as workdir:
        return _run(workdir)


def _run(workdir: Path) -> int:
    from django.test import override_settings

    from tests.builders import make_leads
    from tests.fakes.openai import API_KEY
    from tests.processes import free_port, running, wait_for_port

    make_leads(LEADS, company_description="We make tea for offices.")
    port = free_port()
    fake = [sys.executable, "-m", "tests.fakes.openai", str(port), str(LATENCY)]
    with (
        running(fake, env=dict(os.environ), log=workdir / "fake-openai.log"),
        override_settings(
            OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_PROXY="", OPENAI_MAX_RETRIES=0
        ),
    ):
        wait_for_port(port)
        one = _measure(1)
        eight = _measure(8)
    ratio = eight / one
    print(f"generate: {LEADS} leads, fake OpenAI at {LATENCY * 1000:.0f} ms per call")  # noqa: T201 - a benchmark prints its figures
    print(f"concurrency 1: {one:.2f} messages/s")  # noqa: T201
    print(f"concurrency 8: {eight:.2f} messages/s")  # noqa: T201
    print(f"ratio: {ratio:.2f}x (need >= {REQUIRED_RATIO:g}x)")  # noqa: T201
    return 0 if ratio >= REQUIRED_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
