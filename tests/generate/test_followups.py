"""Follow-ups are written a day ahead, from what was said and the company description, with the same
checks as touch 1, and the touch's fallback when the LLM cannot give a good one."""

from datetime import UTC, datetime, timedelta

import pytest

from leads.models import FollowUpMessage, MessageSource
from pipeline import generate
from tests.builders import make_lead
from tests.fakes.openai import INVENTED, bumping, invented_facts, serving
from tests.inbox.mail import sent_email

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DESCRIPTION = "Engines builds calculating machines for research labs. Its machines print their own tables."


@pytest.fixture(autouse=True)
def _sequence(settings):
    settings.OUTREACH_FOLLOWUP_DAYS = [3, 5]


def _contacted(touches=1, **overrides):
    lead = make_lead(
        name="Ada Lovelace",
        company_name="Engines",
        company_description=DESCRIPTION,
        engagement_status="Contacted",
        message_body="Hi Ada,\n\nA thought about your labs.\n",
        **overrides,
    )
    for touch in range(1, touches + 1):
        sent_email(lead, touch=touch, sent_at=SENT + timedelta(days=3 * (touch - 1)), body=f"Touch {touch} text.")
    return lead


def test_a_follow_up_due_within_a_day_is_written_from_the_earlier_email_and_the_description(server):
    lead = _contacted()
    summary = generate.run(now=SENT + timedelta(days=2, hours=1))
    assert summary.extra["followups"] == {"written": 1, "fell_back": 0}
    followup = FollowUpMessage.objects.get(lead=lead)
    assert (followup.touch, followup.source) == (2, MessageSource.AI)
    assert "Its machines print their own tables." in followup.body
    assert followup.evidence["check"] == "passed"
    [request] = server.completions
    assert "Touch 1 text." in request.messages[1]["content"]
    assert "Do not repeat the first email" in request.messages[0]["content"]


def test_nothing_is_written_before_it_is_due_within_a_day_or_beyond_the_sequence(server):
    _contacted()
    _contacted(touches=3)  # the sequence of 3,5 ends at touch 3
    _contacted(sequence_stop_reason="replied")
    summary = generate.run(now=SENT + timedelta(days=1))
    assert summary.extra["followups"] == {"written": 0, "fell_back": 0}
    assert FollowUpMessage.objects.count() == 0
    assert server.completions == []


def test_a_written_follow_up_is_kept_and_the_next_touch_is_written_in_its_turn(server):
    lead = _contacted()
    generate.run(now=SENT + timedelta(days=2, hours=1))
    generate.run(now=SENT + timedelta(days=2, hours=2))
    assert len(server.completions) == 1
    sent_email(lead, touch=2, sent_at=SENT + timedelta(days=3), body="Touch 2 text.")
    generate.run(now=SENT + timedelta(days=7, hours=1))  # touch 3 is due five days after touch 2
    last = FollowUpMessage.objects.get(lead=lead, touch=3)
    assert "This is my last note." in last.body
    assert "Touch 2 text." in server.completions[-1].messages[1]["content"]


def test_a_follow_up_that_only_bumps_the_thread_gets_the_fallback(server):
    server.answer_with(bumping)
    lead = _contacted()
    assert generate.run(now=SENT + timedelta(days=3)).extra["followups"] == {"written": 0, "fell_back": 1}
    followup = FollowUpMessage.objects.get(lead=lead)
    assert followup.source == MessageSource.FALLBACK
    assert "bumping" not in followup.body


def test_invented_facts_never_reach_a_follow_up(server):
    server.answer_with(invented_facts)
    lead = _contacted()
    generate.run(now=SENT + timedelta(days=3))
    followup = FollowUpMessage.objects.get(lead=lead)
    assert followup.source == MessageSource.FALLBACK
    assert not any(fact in followup.body for fact in INVENTED)
    assert followup.evidence["check"] == "fell_back"
    assert len(server.completions) == 2  # asked again once


def test_without_the_llm_the_fallback_is_stored_and_replaced_once_the_llm_is_back(settings):
    settings.OPENAI_API_KEY = ""
    lead = _contacted()
    generate.run(now=SENT + timedelta(days=3))
    assert FollowUpMessage.objects.get(lead=lead).source == MessageSource.FALLBACK

    with serving(settings):
        assert generate.run(now=SENT + timedelta(days=3)).extra["followups"] == {"written": 1, "fell_back": 0}
    assert FollowUpMessage.objects.get(lead=lead).source == MessageSource.AI


def test_a_dry_run_lists_the_follow_ups_and_stores_nothing(server):
    lead = _contacted()
    summary = generate.run(dry_run=True, now=SENT + timedelta(days=3))
    assert {"lead": lead.pk, "touch": 2, "source": "ai"} in summary.items
    assert FollowUpMessage.objects.count() == 0
