"""`make smoke`: the whole product once, end to end, against local fakes.

Starts the fake Airtable (every field renamed, mapped through the environment
only), the fake OpenAI server, a real SMTP server, Dovecot as the inbox, gunicorn as
the container runs it and a qcluster worker; creates the schedules and lets the
cluster run the scheduled pipeline once, then answers two of the emails into the
inbox and has the cluster read it and push the outcomes; three days later (the emails'
send times moved back) the cluster sends touch 2 to the lead nobody answered, in its thread.
Uses PostgreSQL and Redis when DATABASE_URL/REDIS_URL answer, else SQLite and the ORM
broker. Prints a one-screen report and exits non-zero on any miss.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PIPELINE_TIMEOUT = 180  # seconds for the scheduled run to start and finish
INBOX_TIMEOUT = 120  # seconds for the queued inbox task to start and finish

# The table: engageable leads, and one of each kind the rules must skip.
LEADS = [
    {"Name": "Ada Lovelace", "Email": "ada@engines.example", "Company Name": "Analytical Engines", "Job Title": "CTO"},
    {"Name": "Grace Hopper", "Email": "Grace@Cobol.example", "Company Name": "Cobol Systems", "Job Title": "VP"},
    {"Name": "Radia Perlman", "Email": " radia@spanning.example ", "Company Name": "Spanning Tree"},
    {"Name": "Alan Turing", "Company Name": "Bletchley Labs"},
    {"Name": "Katherine Johnson", "Email": "katherine(at)orbit.example", "Company Name": "Orbit"},
    {"Name": "Barbara Liskov", "Email": "barbara@clu.example", "Engagement Status": "Replied"},
    {"Name": "Ken Thompson", "Email": "ken@plan9.example", "Engagement Status": "Do Not Contact"},
    {"Name": "Grace Again", "Email": "grace@cobol.example", "Company Name": "Cobol Systems"},
    {"Name": "Margaret Hamilton", "Email": "margaret@apollo.example", "Company Name": "Apollo Guidance"},
]
FOLLOWUP_TIMEOUT = 120  # seconds for the queued engage task to send the follow-up


@dataclass
class Report:
    lines: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> bool:
        self.lines.append((bool(ok), text))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return all(ok for ok, _ in self.lines)

    def write(self, header: str) -> None:
        lines = [header, *(f"  {'ok  ' if ok else 'MISS'} {text}" for ok, text in self.lines)]
        lines.append("smoke: passed" if self.passed else "smoke: FAILED")
        sys.stdout.write("\n".join(lines) + "\n")


class HealthWatch(threading.Thread):
    """Polls /health every 200 ms for the whole run and keeps every answer that was not 200."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.polls, self.misses, self.slowest = url, 0, [], 0.0
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:  # noqa: S310 - loopback
                    ok = response.status == 200
            except OSError as exc:
                ok, self.misses = False, [*self.misses, type(exc).__name__]
            if ok is False and not self.misses:
                self.misses.append("non-200")
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.polls += 1
            self._stopping.wait(0.2)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)


def _answers(url: str) -> bool:
    """True when the PostgreSQL or Redis server at `url` accepts a connection."""
    parts = urllib.parse.urlsplit(url)
    import socket

    with contextlib.suppress(OSError), socket.create_connection((parts.hostname, parts.port or 0), timeout=2):
        return True
    return False


def _choose_backends(workdir: Path) -> tuple[dict[str, str], str]:
    """DATABASE_URL and REDIS_URL for the run, and a line describing them."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    env = {}
    if database_url.startswith("postgres") and _answers(database_url):
        import psycopg

        parts = urllib.parse.urlsplit(database_url)
        admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("DROP DATABASE IF EXISTS outreach_smoke WITH (FORCE)")
            connection.execute("CREATE DATABASE outreach_smoke")
        env["DATABASE_URL"] = parts._replace(path="/outreach_smoke").geturl()
        database = "PostgreSQL"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'smoke.sqlite3'}"
        database = "SQLite"
    if redis_url and _answers(redis_url):
        import redis

        # A database of its own, emptied first: no task left by the tests runs here.
        env["REDIS_URL"] = urllib.parse.urlsplit(redis_url)._replace(path="/15").geturl()
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        broker = "Redis"
    else:
        env["REDIS_URL"] = ""
        broker = "the ORM broker"
    return env, f"{database} with {broker}"


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, check=True, timeout=300)


def _finished_run(job: str, *, since, timeout: float, worker):
    """The first run of `job` started since `since` that has ended, waiting up to `timeout` seconds
    while the worker lives; None when none ended in time."""
    from leads.models import PipelineRun, RunOutcome

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.poll() is None:
        run = PipelineRun.objects.filter(job=job, started_at__gte=since).exclude(outcome=RunOutcome.RUNNING).first()
        if run is not None:
            return run
        time.sleep(1)
    return None


def main() -> int:
    from tests.fakes import dovecot
    from tests.fakes.airtable import FakeAirtable
    from tests.fakes.openai import FakeOpenAI
    from tests.fakes.smtp import FakeSMTP
    from tests.processes import free_port, gunicorn_command, running, stop, wait_for_http

    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="outreach-smoke-"))
    backends, backend_line = _choose_backends(workdir)
    web_port = free_port()
    if not dovecot.available():
        report.check(False, f"the inbox: {dovecot.MISSING}")
    with (
        FakeAirtable(LEADS) as airtable,
        FakeOpenAI() as openai,
        FakeSMTP() as smtp,
        dovecot.Dovecot() if dovecot.available() else contextlib.nullcontext() as imap,
    ):
        renamed = airtable.rename_all(prefix="Lead ")
        env = {
            **os.environ,
            **backends,
            "PYTHONPATH": str(PROJECT_DIR),
            "DJANGO_SETTINGS_MODULE": "outreach_site.settings",
            "SECRET_KEY": "smoke-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "OUTREACH_ALLOW_LOCAL_LINKS": "true",  # the smoke's links point at its own loopback web process
            "EMAIL_URL": smtp.email_url(),
            "AIRTABLE_API_KEY": airtable.token,
            "AIRTABLE_BASE_ID": airtable.base_id,
            "AIRTABLE_TABLE_NAME": airtable.table_name,
            "AIRTABLE_ENDPOINT_URL": airtable.url,
            "AIRTABLE_RETRY_429_SECONDS": "1",
            "OPENAI_API_KEY": openai.api_key,
            "OPENAI_BASE_URL": openai.url,
            "OPENAI_PROXY": "",
            "PIPELINE_SCHEDULE_MINUTES": "60",
            "OUTREACH_DAILY_CAP": "100",
            # The scheduled run sends without a person here; approval has its own tests
            # (tests/engage/test_approval.py, the browser test, tests/test_demo.py).
            "OUTREACH_APPROVAL": "none",
            "INBOX_URL": imap.inbox_url() if imap else "",
            "OUTREACH_FOLLOWUP_DAYS": "3",
            # Any hour, no pause between emails: the human pace has its own tests and benchmark.
            "OUTREACH_SEND_WINDOW": "",
            "OUTREACH_SEND_GAP_SECONDS": "0",
        }
        for variable, default_name in (
            ("EMAIL", "Email"),
            ("NAME", "Name"),
            ("JOB_TITLE", "Job Title"),
            ("COMPANY_NAME", "Company Name"),
            ("WEBSITE", "Website"),
            ("COMPANY_DESCRIPTION", "Company Description"),
            ("EMAIL_CONFIDENCE_LEVEL", "Email Confidence Level"),
            ("CUSTOM_MESSAGE", "Custom Message"),
            ("ENGAGEMENT_STATUS", "Engagement Status"),
            ("DATE_MESSAGED", "Date Messaged"),
        ):
            env[f"AIRTABLE_FIELD_{variable}"] = renamed[default_name]
        os.environ.update(
            {key: env[key] for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SITE_URL", "DJANGO_SETTINGS_MODULE")}
        )

        _manage(env, "migrate", "--no-input", "-v0")
        _manage(env, "setup_schedules")
        _hold_send_tick()
        with (
            running(gunicorn_command(f"127.0.0.1:{web_port}"), env=env, log=workdir / "gunicorn.log") as web,
            running([sys.executable, "manage.py", "qcluster"], env=env, log=workdir / "qcluster.log") as worker,
        ):
            wait_for_http(f"http://127.0.0.1:{web_port}/health", process=web)
            health = HealthWatch(f"http://127.0.0.1:{web_port}/health")
            health.start()
            run = _wait_for_scheduled_pipeline(worker)
            _check(report, run=run, airtable=airtable, smtp=smtp, renamed=renamed, web_port=web_port)
            if imap and run is not None:
                _check_inbox(report, imap=imap, airtable=airtable, smtp=smtp, renamed=renamed, worker=worker)
                _check_followup(report, smtp=smtp, worker=worker)
            health.stop()
            report.check(
                health.polls > 0 and not health.misses,
                f"/health answered 200 to all {health.polls} polls during the run"
                f" (slowest {health.slowest * 1000:.0f} ms)",
            )
            stop(worker)
        logs = "\n".join(f"  {path}" for path in sorted(workdir.glob("*.log")))
    report.write(f"Smoke run on {backend_line}; logs:\n{logs}")
    return 0 if report.passed else 1


def _hold_send_tick() -> None:
    """The per-minute send tick waits until the scheduled pipeline is done: with OUTREACH_APPROVAL=none
    it would send the template to leads whose AI message the pipeline's generate has not written yet."""
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import Schedule

    from pipeline.jobs import schedules

    later = timezone.now() + timedelta(seconds=PIPELINE_TIMEOUT + INBOX_TIMEOUT + FOLLOWUP_TIMEOUT)
    Schedule.objects.filter(name=schedules.SEND_SCHEDULE).update(next_run=later)


def _wait_for_scheduled_pipeline(worker: subprocess.Popen):
    import django

    django.setup()
    from leads.models import PipelineRun, RunOutcome

    deadline = time.monotonic() + PIPELINE_TIMEOUT
    while time.monotonic() < deadline and worker.poll() is None:
        run = PipelineRun.objects.filter(job="pipeline").exclude(outcome=RunOutcome.RUNNING).first()
        if run is not None:
            return run
        time.sleep(1)
    return None


def _check(report: Report, *, run, airtable, smtp, renamed: dict[str, str], web_port: int) -> None:
    from leads.models import EmailStatus, Lead, OutboundEmail, PipelineRun, SkipLog

    if not report.check(run is not None, f"the scheduled pipeline ran through the queue within {PIPELINE_TIMEOUT}s"):
        return
    stages = {r.job: r for r in PipelineRun.objects.filter(started_at__gte=run.started_at)}
    pull = stages.get("sync_pull")
    report.check(
        pull is not None and pull.succeeded > 0,
        f"records retrieved from Airtable: {pull.succeeded if pull else 0} of {len(airtable.records)}",
    )
    for job in ("scrape", "generate", "engage", "sync_push"):
        stage = stages.get(job)
        report.check(
            stage is not None and stage.outcome == "succeeded",
            f"stage {job}: {stage.outcome if stage else 'did not run'}",
        )

    sent = list(OutboundEmail.objects.filter(status=EmailStatus.SENT).select_related("lead"))
    sources = sorted({email.message_source for email in sent})
    report.check("ai" in sources, f"messages written by the LLM through the fake OpenAI API (sources: {sources})")
    report.check(len(smtp.received) >= 1, f"emails received by the SMTP server: {len(smtp.received)}")
    report.check(len(sent) == len(smtp.received), f"sent emails recorded: {len(sent)}")
    if smtp.received:
        message = smtp.received[0].message
        header = message["List-Unsubscribe"] or ""
        url = next((part.strip(" <>") for part in header.split(",") if "/unsubscribe/" in part), "")
        one_click = message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        status = _post(url, b"List-Unsubscribe=One-Click") if url.startswith(f"http://127.0.0.1:{web_port}/") else 0
        from leads.models import Suppression

        suppressed = Suppression.objects.filter(address__iexact=smtp.received[0].to).exists()
        report.check(
            one_click and status == 200 and suppressed,
            f"unsubscribe headers work: one-click POST answered {status}, address suppressed: {suppressed}",
        )

    sent_leads = {email.lead_id for email in sent}
    explained = set(SkipLog.objects.filter(stage="engage").exclude(reason="").values_list("lead_id", flat=True))
    unexplained = [lead.display_name for lead in Lead.objects.exclude(pk__in=sent_leads | explained)]
    report.check(not unexplained, f"every other lead has a skip reason ({len(explained)} skipped){unexplained or ''}")

    status_field, date_field = renamed["Engagement Status"], renamed["Date Messaged"]
    pushed = [
        email.lead.display_name
        for email in sent
        if airtable.record(email.lead.airtable_id).get(status_field)
        and airtable.record(email.lead.airtable_id).get(date_field)
    ]
    report.check(
        sent and len(pushed) == len(sent),
        f"status and date messaged pushed back to Airtable for {len(pushed)} of {len(sent)} sent leads",
    )


def _check_inbox(report: Report, *, imap, airtable, smtp, renamed: dict[str, str], worker) -> None:
    """A reply and a hard bounce delivered to the inbox, read by the cluster, pushed to Airtable."""
    from django.utils import timezone
    from django_q.tasks import async_task

    from leads.models import EmailStatus, InboundMessage, OutboundEmail, PipelineRun
    from tests.inbox import mail

    unsubscribed = smtp.received[0].to.lower() if smtp.received else ""
    emails = [e for e in OutboundEmail.objects.filter(status=EmailStatus.SENT) if e.recipient.lower() != unsubscribed]
    if not report.check(len(emails) >= 2, f"two sent emails to answer in the inbox ({len(emails)})"):
        return
    replied, bounced = emails[:2]
    imap.deliver(mail.answer("reply-en", replied))
    imap.deliver(mail.bounce(bounced))
    queued_at = timezone.now()
    async_task("pipeline.jobs.tasks.run_check_inbox", task_name="smoke: check inbox")
    _finished_run("sync_push", since=queued_at, timeout=INBOX_TIMEOUT, worker=worker)  # the push ends the task
    inbox_run = PipelineRun.objects.filter(job="check_inbox", started_at__gte=queued_at).first()
    report.check(
        inbox_run is not None and inbox_run.outcome == "succeeded" and inbox_run.succeeded == 2,
        f"the inbox read through the queue: {inbox_run.outcome if inbox_run else 'did not run'}"
        f" ({inbox_run.succeeded if inbox_run else 0} of 2 messages recorded)",
    )
    kinds = sorted(InboundMessage.objects.values_list("kind", flat=True))
    report.check(kinds == ["bounce_hard", "reply"], f"inbound kinds recorded: {kinds}")
    status_field = renamed["Engagement Status"]
    statuses = [airtable.record(e.lead.airtable_id).get(status_field) for e in (replied, bounced)]
    report.check(statuses == ["Replied", "Bounced"], f"statuses pushed to Airtable after the inbox: {statuses}")
    report.check(
        all(item.is_unread for item in imap.messages()) and len(imap.messages()) == 2,
        "the inbox's mail is still there, unread",
    )


def _check_followup(report: Report, *, smtp, worker) -> None:
    """Three days on, the inbox read first: the queued engage task sends touch 2 to the one lead that did not
    answer, unsubscribe or bounce, threaded under its touch 1."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.tasks import async_task

    from leads.models import EmailStatus, Lead, OutboundEmail

    first = OutboundEmail.objects.filter(touch=1, status=EmailStatus.SENT)
    first.update(sent_at=timezone.now() - timedelta(days=3, minutes=1))  # three days pass
    before = len(smtp.received)
    queued_at = timezone.now()
    async_task("pipeline.jobs.tasks.run_check_inbox", task_name="smoke: check inbox before the follow-up")
    async_task("pipeline.jobs.tasks.run_engage", task_name="smoke: follow-ups")
    run = _finished_run("engage", since=queued_at, timeout=FOLLOWUP_TIMEOUT, worker=worker)
    followups = list(OutboundEmail.objects.filter(touch=2, status=EmailStatus.SENT))
    quiet = [email for email in first if not Lead.objects.get(pk=email.lead_id).sequence_stop_reason]
    report.check(
        run is not None and len(followups) == len(quiet) == 1,
        f"touch 2 through the queue, to the one lead that did not answer: {len(followups)} sent"
        f" ({len(quiet)} sequences still going)",
    )
    received = smtp.received[before:]
    if not report.check(len(received) == 1, f"follow-ups received by the SMTP server: {len(received)}"):
        return
    message, original = received[0].message, next(r.message for r in smtp.received[:before] if r.to == received[0].to)
    report.check(
        message["In-Reply-To"] == original["Message-ID"] and message["Subject"] == f"Re: {original['Subject']}",
        f"the follow-up answers touch 1 in its thread: {message['Subject']!r}",
    )
    stopped = sorted(Lead.objects.exclude(sequence_stop_reason="").values_list("sequence_stop_reason", flat=True))
    report.check(stopped == ["bounced", "replied", "unsubscribed"], f"sequences stopped by the answers: {stopped}")


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


if __name__ == "__main__":
    sys.exit(main())
