"""Benchmark of the inbox: a Maildir of 10,000 messages behind Dovecot, read by `check_inbox`.

The mix is realistic: replies and unsubscribe requests in four languages, auto-replies,
bounces about our emails and real bounces from the sisimai corpus, and unrelated mail.
Prints messages/s of the first run end to end (fetch, classify, record, act), the time of
a second run with nothing new, the database queries per batch, and `classify_email`'s
rate over the corpus. Fails (exit 1) below 300 messages/s, at 1 s or more for the second
run, or below 500 messages/s for classify_email.

    make bench-inbox             # or: .venv/bin/python -m tests.benchmarks.inbox [--messages N]
"""

import argparse
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

from tests.benchmarks import QueryCounter, throwaway_database

MESSAGES = 10_000
FIRST_RUN_FLOOR = 300.0  # messages/s
SECOND_RUN_LIMIT = 1.0  # seconds
CLASSIFY_FLOOR = 500.0  # messages/s
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "sisimai-set-of-emails" / "maildir"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES, help=f"messages in the Maildir (default {MESSAGES})")
    count = max(100, parser.parse_args().messages)
    from tests.fakes import dovecot

    if not dovecot.available():
        _say(f"FAIL: {dovecot.MISSING}")
        return 1
    with throwaway_database("inbox", INBOX_RUN_SECONDS="3600"):
        return _run(count)


def _corpus() -> list[bytes]:
    return [path.read_bytes() for path in sorted(CORPUS.rglob("*.eml"))]


def _fill(server, count: int, corpus: list[bytes]) -> Counter:
    """Sent emails, and `count` messages in the Maildir answering some of them."""
    from email.utils import make_msgid

    from django.utils import timezone

    from leads.models import EmailStatus, Lead, OutboundEmail
    from tests.inbox import mail

    answered = count * 6 // 10
    leads = Lead.objects.bulk_create(
        [Lead(airtable_id=f"recBench{n:09d}", email=f"person{n}@company{n % 997}.example") for n in range(answered)],
        batch_size=1000,
    )
    now = timezone.now()
    emails = OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                lead=lead,
                recipient=lead.email,
                subject=f"A quick idea for company {n}",
                body="Hi",
                status=EmailStatus.SENT,
                message_id=make_msgid(domain="example.com"),
                sent_at=now,
            )
            for n, lead in enumerate(leads)
        ],
        batch_size=1000,
    )
    written = [name for name in mail.names("reply-") + mail.names("unsubscribe-") if "mailto" not in name]
    automatic = mail.names("auto-")
    mix = Counter()
    for n in range(count):
        if n < answered:
            email = emails[n]
            kind = n % 10
            if kind < 5:
                raw, label = mail.answer(written[n % len(written)], email), "written answer"
            elif kind < 7:
                raw, label = mail.answer(automatic[n % len(automatic)], email), "auto-reply"
            elif kind < 9:
                status = "5.1.1" if n % 3 else "4.2.2"
                raw, label = mail.bounce(email, status=status, diagnostic=f"smtp; 550 {status} no"), "our bounce"
            else:
                raw, label = mail.complaint(email), "complaint"
        elif n % 2 and corpus:
            raw, label = corpus[n % len(corpus)], "corpus report"
        else:
            raw, label = mail.unrelated(n), "unrelated"
        server.deliver(raw)
        mix[label] += 1
    return mix


def _check_inbox() -> tuple[float, int, dict]:
    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        call_command("check_inbox", "--json", stdout=out, stderr=io.StringIO())
        elapsed = time.perf_counter() - started
    return elapsed, counter.count, json.loads(out.getvalue())


def _run(count: int) -> int:
    from django.conf import settings
    from django.db import connection

    from pipeline.inbox import stage
    from pipeline.inbox.classify import classify
    from tests.fakes import dovecot

    failures = []
    corpus = _corpus()
    with dovecot.Dovecot() as server:
        settings.INBOX_URL = server.inbox_url()
        started = time.perf_counter()
        mix = _fill(server, count, corpus)
        written = time.perf_counter() - started
        _say(f"inbox benchmark on {connection.vendor}: {count} messages written in {written:.1f} s")
        _say("  mix: " + ", ".join(f"{label} {n}" for label, n in sorted(mix.items())))

        seconds, queries, summary = _check_inbox()
        batches = -(-summary["processed"] // stage.BATCH_SIZE)
        rate = summary["processed"] / seconds
        _say(
            f"first check_inbox:  {summary['processed']} messages in {seconds:.2f} s = {rate:.0f} messages/s "
            f"(fetch, classify, record, act), {queries} queries ({queries / max(batches, 1):.1f} per batch of "
            f"{stage.BATCH_SIZE})"
        )
        _say("  kinds: " + ", ".join(f"{kind} {n}" for kind, n in sorted(summary["kinds"].items())))
        if summary["processed"] != count:
            failures.append(f"read {summary['processed']} of {count} messages")
        if rate < FIRST_RUN_FLOOR:
            failures.append(f"first run {rate:.0f} messages/s (floor {FIRST_RUN_FLOOR:g})")

        seconds, queries, again = _check_inbox()
        _say(f"second check_inbox: {again['processed']} new messages in {seconds:.3f} s, {queries} queries")
        if seconds >= SECOND_RUN_LIMIT:
            failures.append(f"second run took {seconds:.2f} s (limit {SECOND_RUN_LIMIT:g} s)")
        unread = sum(1 for item in server.messages() if item.is_unread)
        _say(f"  Maildir afterwards: {len(server.messages())} messages, {unread} unread")

    started = time.perf_counter()
    kinds = Counter(str(classify(raw).kind) for raw in corpus)
    seconds = time.perf_counter() - started
    rate = len(corpus) / seconds
    _say(f"classify_email over the corpus: {len(corpus)} files in {seconds:.2f} s = {rate:.0f} messages/s")
    _say("  kinds: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    if rate < CLASSIFY_FLOOR:
        failures.append(f"classify {rate:.0f} messages/s (floor {CLASSIFY_FLOOR:g})")
    for failure in failures:
        _say(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
