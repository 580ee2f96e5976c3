"""Benchmark of the engage stage: `engage --dry-run` over 1,000 and 10,000 leads, then real
runs into a local aiosmtpd server; then a dry run over 10,000 leads whose touch 2 is due (a
twentieth of them answered, some suppressed). Prints leads/s, emails/s and database
queries, which grow by a constant per batch (dry run) and per email (real run), not per
skipped or stopped lead.

Then the human pace: one tick (10 mailboxes, cap 50, gap 60-240 s, 09:00-17:00 in 40 zones)
over 1,000 and 10,000 eligible leads, its time and queries (a constant per mailbox, whatever
the number of leads); and a simulated day (2 mailboxes, gap 1-2 s, 200 leads in 40 zones,
the clock passed as `now=`): the smallest gap seen and the sends outside a lead's window.

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
_PER_BATCH = 14
TICK_LIMIT_SECONDS = 1.0  # one tick over 10,000 eligible leads in 10 mailboxes, on SQLite
MONDAY = (2026, 12, 7)  # a Monday, no clock change anywhere near


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
        [
            Suppression(
                address=f"person{n}@company{n % 997}.example", address_key=f"person{n}@company{n % 997}.example"
            )
            for n in range(6, count, 20)
        ],
        batch_size=1000,
    )


def _fill_followups(count: int) -> None:
    """`count` leads emailed at touch 1 four days ago, OUTREACH_FOLLOWUP_DAYS=3: touch 2 is due for
    all but the ones that answered (every 20th replied, every 20th+1 unsubscribed, every 20th+2 is suppressed)."""
    from datetime import timedelta

    from django.utils import timezone

    from leads.models import (
        InboundMessage,
        InboxState,
        Lead,
        OutboundEmail,
        SkipLog,
        Suppression,
        address_key,
    )
    from tests.builders import sent_first_touches

    sent = timezone.now() - timedelta(days=4)
    InboundMessage.objects.all().delete()
    SkipLog.objects.all().delete()
    OutboundEmail.objects.all().delete()
    Lead.objects.all().delete()
    Suppression.objects.all().delete()
    leads = Lead.objects.bulk_create(
        [
            Lead(
                airtable_id=f"recFollow{n:08d}",
                email=f"person{n}@company{n % 997}.example",
                name=f"Person {n}",
                company_name=f"Co {n}",
                engagement_status="Contacted",
                date_messaged=sent.date(),
                touches=1,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    emails = sent_first_touches(leads, sent_at=sent, prefix="bench")
    kinds = {0: "reply", 1: "unsubscribe"}
    InboundMessage.objects.bulk_create(
        [
            InboundMessage(
                mailbox="default",
                message_id=f"<answer-{email.pk}@example.com>",
                kind=kinds[n % 20],
                lead_id=email.lead_id,
                email=email,
                address=email.recipient,
                sender=email.recipient,
                received_at=sent + timedelta(days=1),
            )
            for n, email in enumerate(emails)
            if n % 20 in kinds
        ],
        batch_size=1000,
    )
    Suppression.objects.bulk_create(
        [
            Suppression(address=email.recipient, address_key=address_key(email.recipient))
            for n, email in enumerate(emails)
            if n % 20 == 2
        ],
        batch_size=1000,
    )
    InboxState.objects.update_or_create(mailbox="default", folder="INBOX", defaults={"last_read_at": timezone.now()})


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


def _zones(count: int = 40) -> list[str]:
    """`count` IANA zones spread around the world (every few of the Region/City names), the same each run."""
    from zoneinfo import available_timezones

    names = sorted(
        name
        for name in available_timezones()
        if name.split("/")[0] in {"Africa", "America", "Asia", "Australia", "Europe", "Pacific"}
    )
    step = len(names) // count
    return names[::step][:count]


def _fill_eligible(count: int, zones: list[str]) -> None:
    from django.utils import timezone

    from leads.models import Lead, MailboxState, OutboundEmail, SkipLog, Suppression

    for model in (SkipLog, OutboundEmail, Lead, Suppression, MailboxState):
        model.objects.all().delete()
    approved = timezone.now()
    Lead.objects.bulk_create(
        [
            Lead(
                airtable_id=f"recPace{n:09d}",
                email=f"lead{n}@firm{n}.example",
                name=f"Lead {n}",
                time_zone=zones[n % len(zones)],
                message_approved_at=approved,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )


def _mailbox_settings(settings, count: int, *, cap: int, email_url: str) -> None:
    names = [f"box{n}" for n in range(count)]
    settings.OUTREACH_MAILBOXES = names
    settings.MAILBOX_SETTINGS = {
        name: {"from_email": f"{name} <{name}@example.com>", "email_url": email_url, "inbox_url": "", "daily_cap": cap}
        for name in names
    }


def _tick_rows(failures: list[str]) -> None:
    """One tick of the per-minute schedule: 10 mailboxes, each sends its one due email; the rest waits."""
    from datetime import UTC, datetime

    from django.conf import settings
    from django.db import connection

    from pipeline import engage

    settings.OUTREACH_SEND_WINDOW, settings.OUTREACH_SEND_DAYS = "09:00-17:00", "mon-fri"
    settings.OUTREACH_SEND_GAP_SECONDS = (60.0, 240.0)
    zones = _zones()
    now = datetime(*MONDAY, 12, 0, tzinfo=UTC)
    with _smtp_server() as (port, received_count):
        _mailbox_settings(settings, 10, cap=50, email_url=f"smtp://127.0.0.1:{port}")
        for count in SIZES:
            _fill_eligible(count, zones)
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                summary = engage.run(now=now)
                seconds = time.perf_counter() - started
            _say(
                f"tick     {count:>6} leads, 10 mailboxes, 40 zones: {seconds:6.3f} s, {counter.count} queries "
                f"({counter.count / 10:.1f} per mailbox), sent {summary.succeeded}, "
                f"deferred {summary.extra['deferred_by']}"
            )
            if count == 10_000 and connection.vendor == "sqlite" and seconds >= TICK_LIMIT_SECONDS:
                failures.append(f"one tick over 10,000 leads took {seconds:.2f} s (limit {TICK_LIMIT_SECONDS:g} s)")
        received_count()


def _simulated_day(failures: list[str]) -> None:
    """A day of ticks on a simulated clock: every send must be inside its lead's window, every gap kept."""
    from datetime import UTC, datetime, timedelta

    from django.conf import settings

    from leads.models import MailboxState, OutboundEmail
    from pipeline import engage
    from pipeline.engage import schedule

    settings.OUTREACH_SEND_WINDOW, settings.OUTREACH_SEND_DAYS = "09:00-17:00", "mon-fri"
    settings.OUTREACH_SEND_GAP_SECONDS = (1.0, 2.0)
    settings.EMAIL_TIMEOUT = 10
    _mailbox_settings(settings, 2, cap=100, email_url="memorymail://")
    zones = _zones()
    _fill_eligible(200, zones)
    start = datetime(*MONDAY, 0, 0, tzinfo=UTC)
    now, end, ticks = start, start + timedelta(days=1), 0
    started = time.perf_counter()
    while now < end:
        engage.run(now=now)
        ticks += 1
        # The next tick: when a mailbox's gap ends, else a minute later (the cluster's schedule).
        due = [s.next_send_at for s in MailboxState.objects.all() if s.next_send_at and s.next_send_at > now]
        now = min([*due, now + timedelta(minutes=1)])
    seconds = time.perf_counter() - started
    win = schedule.window(settings.OUTREACH_SEND_WINDOW, settings.OUTREACH_SEND_DAYS)
    sent = list(OutboundEmail.objects.filter(status="sent").select_related("lead").order_by("sent_at"))
    outside = sum(
        1 for email in sent if not win.is_open(email.sent_at, schedule.lead_zone(email.lead.time_zone, "UTC"))
    )
    gaps = []
    for name in settings.OUTREACH_MAILBOXES:
        times = [email.sent_at for email in sent if email.mailbox == name]
        gaps += [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:], strict=False)]
    smallest = min(gaps) if gaps else float("nan")
    _say(
        f"simulated day, 2 mailboxes, gap 1-2 s, 200 leads in 40 zones: {len(sent)} sent in {ticks} ticks "
        f"({seconds:.1f} s), smallest gap {smallest:.3f} s, sends outside a window {outside}"
    )
    if outside:
        failures.append(f"{outside} sends outside their lead's window")
    if gaps and smallest < 1.0:
        failures.append(f"a gap of {smallest:.3f} s (minimum 1 s)")


def main() -> int:
    _setup_django()
    from django.conf import settings
    from django.db import connection

    settings.OUTREACH_DAILY_CAP = 1_000_000
    # The first rows measure deciding and sending alone: no window, no gap (the pace rows follow).
    settings.OUTREACH_SEND_WINDOW = ""
    settings.OUTREACH_SEND_GAP_SECONDS = (0.0, 0.0)
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
    count = 10_000
    settings.OUTREACH_FOLLOWUP_DAYS = [3]
    settings.INBOX_URL = "imaps://team:secret@imap.example:993/INBOX"  # read just now: follow-ups may go
    _fill_followups(count)
    batches = -(-count // batch) + 2  # and an empty follow-up batch, and an empty touch-1 batch
    seconds, queries, summary = _measure("--dry-run")
    _say(
        f"dry run  {count:>6} leads with touch 2 due: {seconds:6.2f} s, {count / seconds:8.0f} leads/s, "
        f"{queries} queries ({queries / batches:.1f} per batch of {batch}), would send {summary['touches']}, "
        f"stopped {summary['stopped']}"
    )
    if connection.vendor == "sqlite" and seconds >= DRY_RUN_LIMIT_SECONDS:
        failures.append(f"follow-up dry run over 10,000 leads took {seconds:.2f} s (limit {DRY_RUN_LIMIT_SECONDS:g} s)")
    settings.OUTREACH_FOLLOWUP_DAYS = []  # the rows below send touch 1 only
    _tick_rows(failures)
    _simulated_day(failures)
    for failure in failures:
        _say(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--smtp-server"]:
        sys.path.insert(0, str(PROJECT_DIR))
        _serve_smtp(int(sys.argv[2]))
    else:
        sys.exit(main())
