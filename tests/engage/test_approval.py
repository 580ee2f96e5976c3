"""Approval before sending (OUTREACH_APPROVAL): unapproved leads are deferred, not skipped; the
dry run says how many wait; an edit after approval needs approval again."""

from datetime import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.models import Lead, SkipLog
from pipeline import engage, generate
from pipeline.engage import rules
from tests.builders import make_lead
from tests.fakes.openai import INVENTED, invented_facts, serving, true_facts
from tests.processes import django_env, manage

pytestmark = pytest.mark.django_db

APPROVED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


@pytest.fixture
def first(settings):
    settings.OUTREACH_APPROVAL = "first"


def _approved_lead(**overrides) -> Lead:
    return make_lead(message_subject="Hello", message_body="Hi there.\n", message_approved_at=APPROVED, **overrides)


def test_approval_is_first_by_default_and_a_bad_value_is_refused_in_one_line():
    code = "from django.conf import settings; print(settings.OUTREACH_APPROVAL, settings.OUTREACH_GROUNDING)"
    result = manage("shell", "-c", code, env=django_env(OUTREACH_APPROVAL="", OUTREACH_GROUNDING=""))
    assert result.stdout.strip().splitlines()[-1] == "first check"
    result = manage("check", env=django_env(OUTREACH_APPROVAL="sometimes"))
    assert result.returncode != 0
    assert "OUTREACH_APPROVAL must be first or all or none, not 'sometimes'" in result.stderr


def test_with_first_only_approved_leads_are_sent_and_the_rest_wait(first, smtp):
    approved = _approved_lead()
    waiting = [make_lead(message_subject="S", message_body="B\n"), make_lead()]  # one without any message
    summary = engage.run()
    assert (summary.succeeded, summary.deferred, dict(summary.skipped)) == (1, 2, {})
    assert smtp.recipients == [approved.email]
    assert not SkipLog.objects.exists()  # deferred, not skipped: they go out once approved
    Lead.objects.filter(pk=waiting[0].pk).update(message_approved_at=APPROVED)
    assert engage.run().succeeded == 1
    assert sorted(smtp.recipients) == sorted([approved.email, waiting[0].email])


def test_leads_waiting_for_approval_take_no_place_under_the_daily_cap(first, smtp, settings):
    settings.OUTREACH_DAILY_CAP = 1
    for _ in range(3):
        make_lead(message_subject="S", message_body="B\n")
    approved = _approved_lead()
    summary = engage.run()
    assert (summary.succeeded, summary.deferred) == (1, 3)
    assert smtp.recipients == [approved.email]


def test_the_dry_run_says_how_many_wait(first, smtp, capsys):
    _approved_lead(name="Ada Approved")
    make_lead(name="Grace Waiting", message_subject="S", message_body="B\n")
    make_lead(name="Linus Waiting")
    call_command("engage", "--dry-run")
    out = capsys.readouterr().out
    assert "defer: awaiting_approval" in out
    assert "2 leads wait for approval: Admin → Review queue" in out
    summary = engage.run(dry_run=True)
    assert [item["reason"] for item in summary.items] == ["", "awaiting_approval", "awaiting_approval"]
    assert smtp.received == []


def test_none_sends_without_approval_and_all_waits_like_first_for_the_first_email(settings, smtp):
    settings.OUTREACH_APPROVAL = "all"
    lead = make_lead()
    assert engage.run().deferred == 1
    settings.OUTREACH_APPROVAL = "none"
    assert engage.run().succeeded == 1
    assert smtp.recipients == [lead.email]


@pytest.mark.parametrize(
    ("mode", "touch", "approved", "waits"),
    [
        ("first", 1, None, True),
        ("first", 2, None, False),
        ("all", 2, None, True),
        ("all", 1, APPROVED, False),
        ("first", 1, APPROVED, False),
        ("none", 1, None, False),
    ],
)
def test_which_touches_wait_for_approval(mode, touch, approved, waits):
    assert rules.awaits_approval(approved, mode=mode, touch=touch) is waits


def test_writing_a_message_again_clears_its_approval(settings):
    settings.OPENAI_API_KEY = ""
    lead = _approved_lead()
    generate.run(lead_ids=[lead.pk], rewrite=True)
    lead.refresh_from_db()
    assert lead.message_source == "fallback"
    assert lead.message_approved_at is None


@pytest.mark.parametrize(("answer", "source"), [(invented_facts, "fallback"), (true_facts, "ai")])
def test_invented_facts_never_reach_a_sent_email_and_true_ones_do(first, settings, smtp, answer, source):
    """End to end: generate against the fake model, approve everything, engage into a real SMTP server."""
    leads = [
        make_lead(name=f"Ada {n}", company_name="Engines", company_description="Engines builds calculating machines.")
        for n in range(3)
    ]
    with serving(settings) as server:
        server.answer_with(answer)
        generate.run()
    Lead.objects.update(message_approved_at=APPROVED)
    assert engage.run().succeeded == 3
    bodies = [received.message.get_body(("plain",)).get_content() for received in smtp.received]
    assert len(bodies) == 3
    for body in bodies:
        assert not any(fact in body for fact in INVENTED)
    assert {lead.emails.get().message_source for lead in leads} == {source}
    if source == "ai":
        assert all('I read on your website: "Engines builds calculating machines."' in body for body in bodies)
