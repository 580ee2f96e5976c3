"""End to end: leads pulled from the fake Airtable, emailed by the engager through a real SMTP
server, answered in every way into Dovecot; `check_inbox` then the push, and Airtable shows
each status (and the reply's text) once."""

import json

import pytest
from django.core.management import call_command

from leads.models import InboundMessage, Job, Lead, OutboundEmail, PipelineRun, RunOutcome, Suppression
from pipeline import engage
from pipeline.airtable import sync
from pipeline.jobs import tasks
from tests.fakes.airtable import FakeAirtable, record_fields, use
from tests.inbox import mail
from tests.processes import free_port

pytestmark = pytest.mark.django_db

# What each lead does with our email, and the status Airtable shows afterwards.
ANSWERS = {
    "reply": "Replied",
    "auto_reply": "Contacted",
    "bounce_hard": "Bounced",
    "bounce_soft": "Contacted",
    "complaint": "Do Not Contact",
    "unsubscribe reply": "Unsubscribed",
    "mailto unsubscribe": "Unsubscribed",
}


@pytest.fixture
def airtable(settings, tmp_path):
    with FakeAirtable(table=[record_fields(n) for n in range(1, len(ANSWERS) + 1)]) as server:
        server.add_field("Reply", "multilineText")
        settings.AIRTABLE_FIELD_REPLY = "Reply"
        yield use(server, settings, tmp_path)


def _answer(how: str, email: OutboundEmail) -> bytes:
    return {
        "reply": lambda: mail.answer("reply-de-outlook", email),
        "auto_reply": lambda: mail.answer("auto-en-ooo", email),
        "bounce_hard": lambda: mail.bounce(email, status="5.1.1"),
        "bounce_soft": lambda: mail.bounce(email, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"),
        "complaint": lambda: mail.complaint(email),
        "unsubscribe reply": lambda: mail.answer("unsubscribe-fr", email),
        "mailto unsubscribe": lambda: mail.load("unsubscribe-mailto", lead=email.recipient),
    }[how]()


def _send_and_answer(dovecot) -> dict[str, str]:
    """Pull, engage, then deliver one answer per lead; returns record id -> how it answered."""
    sync.run(direction="pull")
    assert engage.run().succeeded == len(ANSWERS)
    emails = list(OutboundEmail.objects.select_related("lead").order_by("lead__airtable_id"))
    for how, email in zip(ANSWERS, emails, strict=True):
        dovecot.deliver(_answer(how, email))
    sync.run(direction="push")  # the engager's "Contacted", as the engage task pushes it
    return {email.lead.airtable_id: how for how, email in zip(ANSWERS, emails, strict=True)}


def test_every_answer_has_its_effect_once_and_airtable_shows_the_statuses(airtable, dovecot, smtp, capsys):
    answered = _send_and_answer(dovecot)
    call_command("check_inbox", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["kinds"] == {
        "reply": 1,
        "auto_reply": 1,
        "bounce_hard": 1,
        "bounce_soft": 1,
        "complaint": 1,
        "unsubscribe": 2,
    }
    call_command("sync_airtable", "--direction", "push")
    statuses = {record_id: airtable.record(record_id)["Engagement Status"] for record_id in answered}
    assert statuses == {record_id: ANSWERS[how] for record_id, how in answered.items()}
    replied = next(record_id for record_id, how in answered.items() if how == "reply")
    assert airtable.record(replied)["Reply"].startswith("Hallo,\n\nvielen Dank für Ihre Nachricht.")
    assert sorted(Suppression.objects.values_list("reason", flat=True)) == [
        "bounced",
        "complained",
        "unsubscribed",
        "unsubscribed",
    ]

    patched = list(airtable.patched_batches)
    capsys.readouterr()  # the push's own line
    call_command("check_inbox", "--json")
    assert json.loads(capsys.readouterr().out)["processed"] == 0
    call_command("sync_airtable", "--direction", "push")
    assert airtable.patched_batches == patched  # nothing new to push
    assert InboundMessage.objects.count() == len(ANSWERS)
    assert all(item.is_unread for item in dovecot.messages())


def test_the_inbox_task_reads_then_pushes(airtable, dovecot, smtp):
    answered = _send_and_answer(dovecot)
    result = tasks.run_check_inbox()
    assert [(item["stage"], item["outcome"]) for item in result["items"]] == [
        ("check_inbox", "succeeded"),
        ("sync_push", "succeeded"),
    ]
    bounced = next(record_id for record_id, how in answered.items() if how == "bounce_hard")
    assert airtable.record(bounced)["Engagement Status"] == "Bounced"
    runs = {run.job: run.outcome for run in PipelineRun.objects.all()}
    assert runs[Job.CHECK_INBOX] == RunOutcome.SUCCEEDED


def test_with_the_inbox_down_the_push_still_runs_and_the_failure_is_recorded(airtable, settings):
    sync.run(direction="pull")
    Lead.objects.update(engagement_status="Contacted", pending_push=True)
    settings.INBOX_URL = f"imaps://team:secret@127.0.0.1:{free_port()}/INBOX"
    result = tasks.run_check_inbox()
    assert [(item["stage"], item["outcome"]) for item in result["items"]] == [
        ("check_inbox", "failed"),
        ("sync_push", "succeeded"),
    ]
    run = PipelineRun.objects.get(job=Job.CHECK_INBOX)
    assert run.outcome == RunOutcome.FAILED
    assert "INBOX_URL" in run.error
    assert "secret" not in run.error
    assert not Lead.objects.filter(pending_push=True).exists()
