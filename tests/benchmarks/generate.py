"""Benchmark: 200 leads against the fake OpenAI server at 300 ms per call, at concurrency 1 and 8,
then what the grounding check costs.

Run with `make bench-generate`. Loopback only, on a throw-away SQLite database; about 80 s.
The fake runs in a process of its own, as a real server would, so that its work does
not compete with the generator's threads for this process's GIL.
Prints messages/s at each concurrency and the ratio (needs >= 7); the grounding check's
time per message over 2,000-character descriptions full of numbers (needs a mean under 5 ms);
LLM calls per lead for a model that keeps to the facts, one that invents and one that
corrects itself (needs <= 2); and the grounding test set's results (every planted error
caught, at most one false alarm). Exits 1 when a figure misses.
"""

import os
import sys
import time
from pathlib import Path

from tests.benchmarks import throwaway_database

LEADS = 200
LATENCY = 0.3
REQUIRED_RATIO = 7.0
CHECK_LIMIT_MS = 5.0
CHECKED_MESSAGES = 2000
MAX_CALLS_PER_LEAD = 2.0
CALL_LEADS = 40


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
    _say(f"generate: {LEADS} leads, fake OpenAI at {LATENCY * 1000:.0f} ms per call, grounding on")
    _say(f"concurrency 1: {one:.2f} messages/s")
    _say(f"concurrency 8: {eight:.2f} messages/s")
    _say(f"ratio: {ratio:.2f}x (need >= {REQUIRED_RATIO:g}x)")
    ok = ratio >= REQUIRED_RATIO
    ok &= _check_time()
    ok &= _calls_per_lead()
    ok &= _test_set()
    return 0 if ok else 1


def _say(line: str) -> None:
    print(line)  # noqa: T201 - a benchmark prints its figures


def _check_time() -> bool:
    """The grounding check's own cost per message: read the answer, index the sources, check, keep the evidence."""
    from pipeline.generate import drafts, grounding, prompts
    from tests.fakes.openai import Email

    context = prompts.Context(offer="We help small sales teams write first emails.", sender="Sam", sender_company="Co")
    description = " ".join(
        f"Company {n} builds calculating machines for {n * 3} research labs in Leeds since {1990 + n % 30}."
        for n in range(40)
    )[: prompts.MAX_DESCRIPTION]
    timings = []
    for n in range(CHECKED_MESSAGES):
        lead = prompts.LeadData(f"Ada {n}", "CTO", f"Company {n}", f"company{n}.example", description)
        sentences = description.split(". ")[n % 10 : n % 10 + 3]
        body = f"Hi Ada,\n\n{'. '.join(sentences)}.\n\n{context.offer}\n\nWould Tuesday suit you?\n\nBest,\nSam"
        answer = Email(f"An idea for Company {n}", body, tuple((s[:30], s) for s in sentences)).as_json()
        started = time.perf_counter()
        draft = prompts.parse_answer(answer)
        sources = drafts.sources_for(lead, context)
        verdict = grounding.check(draft.message.subject, draft.message.body, draft.claims, sources)
        drafts.evidence(sources, drafts.Written(draft.message, verdict.support, drafts.Check.PASSED))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    mean, p99, worst = sum(timings) / len(timings), timings[int(len(timings) * 0.99)], timings[-1]
    _say(
        f"grounding check: {CHECKED_MESSAGES} messages over {len(description)}-character descriptions: "
        f"mean {mean:.2f} ms (need < {CHECK_LIMIT_MS:g} ms), 99th percentile {p99:.2f} ms, max {worst:.2f} ms"
    )
    return mean < CHECK_LIMIT_MS


def _calls_per_lead() -> bool:
    """LLM calls per lead, counted by the fake: one per draft, and one more only for a draft that failed the check."""
    from django.test import override_settings

    from leads.models import Lead
    from pipeline import generate
    from pipeline.generate import llm
    from tests.builders import make_leads
    from tests.fakes.openai import ANSWERS, FakeOpenAI

    ok = True
    for mode in ("true", "invented", "invented_once"):
        Lead.objects.all().delete()
        make_leads(CALL_LEADS, company_description="Engines builds calculating machines for research labs.")
        with (
            FakeOpenAI() as server,
            override_settings(OPENAI_API_KEY=server.api_key, OPENAI_BASE_URL=server.url, OPENAI_MAX_RETRIES=0),
        ):
            server.answer_with(ANSWERS[mode])
            llm.reset()
            counts = generate.run().extra["grounding"]
            calls = len(server.completions) / CALL_LEADS
        llm.reset()
        _say(f"LLM calls per lead, model writes {mode} facts: {calls:.2f} (need <= {MAX_CALLS_PER_LEAD:g}); {counts}")
        ok &= calls <= MAX_CALLS_PER_LEAD
    return ok


def _test_set() -> bool:
    from pipeline.generate import grounding
    from tests.generate.grounding_cases import PLANTED, TRUE

    def passes(case) -> bool:
        claims = [grounding.Claim(claim, quote) for claim, quote in case.claims]
        return grounding.check(case.subject, case.body, claims, grounding.Sources(case.sources)).passed

    caught = sum(not passes(case) for case in PLANTED)
    alarms = sum(not passes(case) for case in TRUE)
    _say(f"grounding test set: {caught} of {len(PLANTED)} planted errors caught (need all)")
    _say(f"grounding test set: {alarms} false alarms in {len(TRUE)} true paraphrases (need <= 1)")
    return caught == len(PLANTED) and alarms <= 1


if __name__ == "__main__":
    sys.exit(main())
