"""Benchmark of the engage stage: `engage --dry-run` over 1,000 and 10,000 leads, then real
runs into a local aiosmtpd server. Prints leads/s, emails/s and database queries, which
grow by a constant per batch (dry run) and per email (real run), not per skipped lead.

Run with `make bench-engage`. Uses its own SQLite file under var/ (or DATABASE_URL if set).
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks import QueryCounter

PROJECT_DIR = Path(__file__).resolve().parents[2]
BENCH_DB = PROJECT_DIR / "var" / "bench_engage.sqlite3"

SIZES = (1_000, 10_000)
DRY_RUN_LIMIT_SECONDS = 10.0  # over 10,000 leads, on SQLite
EMAILS_PER_SECOND_FLOOR = 100.0  # over 10,000 leads, into the local server
# Queries of one batch's claim on SQLite (see the dry-run line), for the per-email figure.
_PER_BATCH = 9


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        BENCH_DB.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{BENCH_DB}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    os.environ["LOG_LEVEL"] = "WARNING"  # one line per lead would measure the terminal
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fill(count: int) -> None:
    """`count` leads: most engageable, the rest spread over the skip reasons, some with a message;
    all approved by a person (OUTREACH_APPROVAL keeps its default, `first`)."""
    from django.utils import timezone

    from leads.models import Lead, OutboundEmail, SkipLog, Suppression

    approved = timezone.now()

    SkipLog.objects.all().delete()
    OutboundEmail.objects.all().delete()
    Lead.objects.all().delete()
    Suppression.objects.all().delete()
    rows = []
    for n in range(count):
        fields = {"email": f"person{n}@company{n % 997}.example", "name": f"Person {n}", "company_name": f"Co {n}"}
        kind = n % 20
        if kind == 1:
            fields["email"] = ""
        elif kind == 2:
            fields["email"] = f"person{n}@"
        elif kind == 3:
            fields["engagement_status"] = "Replied"
        elif kind == 4:
            fields["email"] = f"PERSON{n - 4}@company{(n - 4) % 997}.example"  # a duplicate row
        elif kind == 5:
            fields["message_subject"], fields["message_body"], fields["message_source"] = "Hi", "A message.", "ai"
        rows.append(Lead(airtable_id=f"recBench{n:09d}", message_approved_at=approved, **fields))
    Lead.objects.bulk_create(rows, batch_size=1000)
    Suppression.objects.bulk_create(
        [Suppression(address=f"person{n}@company{n % 997}.example") for n in range(6, count, 20)], batch_size=1000
    )


def _measure(*args: str) -> tuple[float, int, dict]:
    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        call_command("engage", "--json", *args, stdout=out, stderr=io.StringIO())
        elapsed = time.perf_counter() - started
    return elapsed, counter.count, json.loads(out.getvalue())


@contextlib.contextmanager
def _smtp_server():
    """The fake SMTP server in its own process, so it does not share the engager's CPU time.

    Yields (port, received) where received() closes the server and returns its message count.
    """
    from tests.processes import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.engage", "--smtp-server", str(port)],
        cwd=PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        yield port, lambda: int(server.communicate("", timeout=60)[0].strip() or -1)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _serve_smtp(port: int) -> None:
    from tests.fakes.smtp import FakeSMTP

    with FakeSMTP(port=port) as smtp:
        _say("ready")
        sys.stdin.read()  # until the benchmark closes our stdin
        _say(str(len(smtp.received)))


def main() -> int:
    _setup_django()
    from django.conf import settings
    from django.db import connection

    settings.OUTREACH_DAILY_CAP = 1_000_000
    batch = settings.OUTREACH_BATCH_SIZE
    _say(f"engage benchmark on {connection.vendor}, batch size {batch}")
    failures = []
    for count in SIZES:
        _fill(count)
        batches = -(-count // batch) + 1
        seconds, queries, summary = _measure("--dry-run")
        _say(
            f"dry run  {count:>6} leads: {seconds:6.2f} s, {count / seconds:8.0f} leads/s, "
            f"{queries} queries ({queries / batches:.1f} per batch of {batch}), would send {summary['succeeded']}"
        )
        if count == 10_000 and connection.vendor == "sqlite" and seconds >= DRY_RUN_LIMIT_SECONDS:
            failures.append(f"dry run over 10,000 leads took {seconds:.2f} s (limit {DRY_RUN_LIMIT_SECONDS:g} s)")
        with _smtp_server() as (port, received_count):
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
            settings.OUTREACH_ALLOW_LOCAL_LINKS = True  # a local server, and the benchmark's links are never clicked
            seconds, queries, summary = _measure()
            received = received_count()
        sent = summary["succeeded"]
        per_email = (queries - batches * _PER_BATCH) / sent if sent else 0
        _say(
            f"real run {count:>6} leads: {seconds:6.2f} s, {count / seconds:8.0f} leads/s, "
            f"{sent / seconds:6.0f} emails/s, "
            f"{queries} queries ({per_email:.1f} per email beyond {_PER_BATCH} per batch), "
            f"sent {sent}, server received {received}, skipped {sum(summary['skipped'].values())}"
        )
        if received != sent:
            failures.append(f"the server received {received} emails, the engager counted {sent}")
        if count == 10_000 and sent / seconds < EMAILS_PER_SECOND_FLOOR:
            failures.append(f"{sent / seconds:.0f} emails/s at {count} leads (floor {EMAILS_PER_SECOND_FLOOR:g})")
    for failure in failures:
        _say(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--smtp-server"]:
        sys.path.insert(0, str(PROJECT_DIR))
        _serve_smtp(int(sys.argv[2]))
    else:
        sys.exit(main())
