"""Benchmark of the report: 100,000 leads, 200,000 emails and 200,000 inbound messages in
PostgreSQL (generated with INSERT … SELECT generate_series), then `report --json` and the
admin's dashboard, timed, with their query counts. Figures: the median of several runs
after one warm-up run, in the process (Django already loaded) and, for `report --json`,
as a whole new process too.

Run with `make bench-report`. Needs PostgreSQL: DATABASE_URL names a server and a database;
the benchmark uses its own database beside it (`<name>_bench_report`), created afresh.
"""

import json
import os
import statistics
import string
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.benchmarks import QueryCounter

PROJECT_DIR = Path(__file__).resolve().parents[2]

LEADS = 100_000
EMAILS = 200_000  # two touches per lead
INBOUND = 200_000  # one answer or report per email, over every kind
HISTORY_DAYS = 120  # the data spans this many days; the report looks at the last 30
RUNS = 7

DASHBOARD_LIMIT_MS = 300
REPORT_LIMIT_S = 1.0
QUERY_LIMIT = 15


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.stderr.write("bench-report needs PostgreSQL: set DATABASE_URL=postgres://… (see .env.example)\n")
        sys.exit(2)
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "postgres") + "_bench_report"
    return urlunsplit(parts._replace(path=f"/{name}"))


def _recreate(url: str) -> None:
    """Drop and create the benchmark's own database, through the server's `postgres` database."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# Leads: nine in ten with a message (AI, the template, a person's, in turn), eight in ten approved,
# pulled and scraped over the last 60 days, one in ten replied, one in fifty skipped.
_LEADS_SQL = """
INSERT INTO leads_lead (
    airtable_id, email, name, job_title, company_name, website, company_description, email_confidence_level,
    custom_message, engagement_status, skip_reason, reply, time_zone, message_subject, message_body, message_source,
    message_grounding, message_evidence, message_generated_at, message_approved_at, scraped_at, scrape_error,
    raw_fields, last_pulled_at, pending_push, local_edits, sequence_stop_reason, sequence_stopped_at, touches,
    created_at, updated_at
)
SELECT
    'recBench' || lpad(n::text, 9, '0'), 'person' || n || '@company' || (n % 997) || '.example', 'Person ' || n,
    'Head of Sales', 'Company ' || n, 'company' || n || '.example', 'What company ' || n || ' does.', 'High',
    '', CASE WHEN n % 10 = 0 THEN 'Replied' ELSE 'Contacted' END,
    CASE WHEN n % 50 = 1 THEN 'no_email' ELSE '' END, '', '',
    CASE WHEN n % 10 = 9 THEN '' ELSE 'A quick idea' END, CASE WHEN n % 10 = 9 THEN '' ELSE 'Hello, a message.' END,
    CASE WHEN n % 10 = 9 THEN '' ELSE (ARRAY['ai', 'fallback', 'manual'])[n % 3 + 1] END,
    '', '{}', now() - (n % $days) * interval '1 day',
    CASE WHEN n % 10 < 8 THEN now() - (n % $days) * interval '1 day' END,
    now() - (n % 60) * interval '1 day', CASE WHEN n % 17 = 0 THEN 'timeout' ELSE '' END,
    '{}', now() - (n % 60) * interval '1 day', false, '[]',
    CASE WHEN n % 10 = 0 THEN 'replied' WHEN n % 97 = 0 THEN 'bounced' ELSE '' END,
    CASE WHEN n % 10 = 0 OR n % 97 = 0 THEN now() - (n % $days) * interval '1 day' END, 2,
    now() - (n % $days) * interval '1 day', now()
FROM generate_series(1, $leads) AS n
"""

# Two emails per lead (touch 1, then touch 2 three days later), from four mailboxes, one in fifty failed.
_EMAILS_SQL = """
INSERT INTO leads_outboundemail (
    lead_id, touch, recipient, mailbox, subject, body, message_source, status, message_id, provider_message_id,
    error, attempts, address_key, created_at, sent_at
)
SELECT
    lead.id, touch, lead.email, 'box' || (lead.id % 4), 'A quick idea', 'Hello, a message.',
    (ARRAY['ai', 'fallback', 'manual'])[lead.id % 3 + 1],
    CASE WHEN (lead.id + touch) % 50 = 0 THEN 'failed' ELSE 'sent' END,
    '<bench' || lead.id || '-' || touch || '@outreach.example>', '', '', 1, lower(lead.email),
    sent, CASE WHEN (lead.id + touch) % 50 = 0 THEN NULL ELSE sent END
FROM leads_lead AS lead,
    generate_series(1, 2) AS touch,
    LATERAL (SELECT now() - ((lead.id * 7 + touch * 3) % $days) * interval '1 day'
                 - (lead.id % 480) * interval '1 minute' AS sent) AS times
"""

# One inbound message per email, a day after it: replies, auto-replies, bounces, complaints,
# unsubscribes and unrelated mail, in turn.
_INBOUND_SQL = """
INSERT INTO leads_inboundmessage (
    mailbox, folder, uid, message_id, kind, detail, sender, subject, email_id, lead_id, address, status, action,
    text, stop_reason, received_at, created_at
)
SELECT
    email.mailbox, 'INBOX', email.id, '<in' || email.id || '@mail.example>',
    (ARRAY['reply', 'auto_reply', 'bounce_hard', 'bounce_soft', 'complaint', 'unsubscribe', 'other',
           'reply', 'auto_reply', 'reply'])[email.id % 10 + 1],
    '', email.recipient, 'Re: A quick idea', email.id, email.lead_id, email.recipient, '', '', '', '',
    email.created_at + interval '1 day', email.created_at + interval '1 day'
FROM leads_outboundemail AS email
ORDER BY email.id
LIMIT $inbound
"""

_SKIPS_SQL = """
INSERT INTO leads_skiplog (lead_id, stage, reason, detail, created_at)
SELECT lead.id, 'engage', lead.skip_reason, '', lead.created_at FROM leads_lead AS lead WHERE lead.skip_reason <> ''
"""

_RUNS_SQL = """
INSERT INTO leads_pipelinerun (job, dry_run, started_at, finished_at, outcome, processed, succeeded, skipped,
                               deferred, failed, extra, error)
SELECT (ARRAY['pipeline', 'sync_pull', 'scrape', 'generate', 'engage', 'sync_push', 'check_inbox'])[n % 7 + 1],
       false, now() - n * interval '1 hour', now() - n * interval '1 hour' + interval '1 minute',
       CASE WHEN n % 13 = 0 THEN 'failed' ELSE 'succeeded' END, 100, 90, '{"no_email": 2}', 8, 0,
       '{"deferred_by": {"awaiting_approval": 5, "daily_cap": 3}}',
       CASE WHEN n % 13 = 0 THEN 'The IMAP server refused the login (INBOX_URL)' ELSE '' END
FROM generate_series(1, 2000) AS n
"""


def _fill() -> None:
    from django.db import connection

    params = {"leads": LEADS, "days": HISTORY_DAYS, "inbound": INBOUND}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in (_LEADS_SQL, _EMAILS_SQL, _INBOUND_SQL, _SKIPS_SQL, _RUNS_SQL):
            cursor.execute(string.Template(sql).substitute(params))
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now: index-only scans need it
        counts = {}
        for table in ("lead", "outboundemail", "inboundmessage", "skiplog", "pipelinerun"):
            cursor.execute(f"SELECT count(*) FROM leads_{table}")  # noqa: S608 - table names are ours
            counts[table] = cursor.fetchone()[0]
    _say(
        f"data: {counts['lead']:,} leads, {counts['outboundemail']:,} emails, {counts['inboundmessage']:,} inbound "
        f"messages, {counts['skiplog']:,} skip logs, {counts['pipelinerun']:,} runs "
        f"({time.perf_counter() - started:.1f} s to generate)"
    )


def _timed(call) -> tuple[float, int]:
    """The median seconds of `call` over RUNS runs after one warm-up, and the queries of one run."""
    from django.db import connection

    call()
    times = []
    counter = QueryCounter()
    for index in range(RUNS):
        started = time.perf_counter()
        if index == 0:
            with connection.execute_wrapper(counter):
                call()
        else:
            call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), counter.count


def _report_json() -> dict:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("report", "--json", stdout=out)
    return json.loads(out.getvalue())


def _dashboard():
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    user = get_user_model().objects.create_superuser("bench", "", "bench-password")
    client = Client()
    client.force_login(user)
    plain = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    def render() -> None:
        with override_settings(STORAGES=plain):
            response = client.get("/admin/")
        if response.status_code != 200:
            raise SystemExit(f"the dashboard answered {response.status_code}")

    return render


def main() -> None:
    url = _bench_database_url()
    _recreate(url)
    _setup_django(url)
    _fill()

    seconds, queries = _timed(_report_json)
    figures = _report_json()
    _say(
        f"report --json (in process): {seconds * 1000:.0f} ms median of {RUNS}, {queries} queries "
        f"(sent {figures['sent']:,}, replied {figures['replied']:,} over {figures['days']} days)"
    )
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "report", "--json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    whole = time.perf_counter() - started
    json.loads(result.stdout)
    _say(f"report --json (a new process, Django start-up included): {whole:.2f} s")

    render = _dashboard()
    render_seconds, render_queries = _timed(render)
    _say(
        f"dashboard /admin/: {render_seconds * 1000:.0f} ms median of {RUNS}, {render_queries} queries "
        "(the session and the user included)"
    )
    # The new process's time is mostly Django's start-up (every command pays it), so the limit is the report's own.
    ok = render_seconds * 1000 < DASHBOARD_LIMIT_MS and seconds < REPORT_LIMIT_S
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    ok = ok and max(queries, render_queries) <= QUERY_LIMIT
    _say(
        f"limits: dashboard < {DASHBOARD_LIMIT_MS} ms, report --json < {REPORT_LIMIT_S:g} s, "
        f"≤ {QUERY_LIMIT} queries: {'met' if ok else 'NOT MET'} (load average {load} on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
