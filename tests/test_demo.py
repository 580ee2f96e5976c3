"""The demo (`make run`): the review queue starts full, nothing is sent until a person approves,
and the demo's AI messages are true to their leads' data."""

import pytest
from django.core.management import call_command

from leads.models import Lead, OutboundEmail
from pipeline import engage, generate, review
from pipeline.generate import drafts, grounding

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.OUTREACH_APPROVAL = "first"  # the product's default, as `make run` has it
    settings.OPENAI_API_KEY = ""  # the demo needs no key: the rest of the leads get the template
    call_command("loaddata", "demo_leads", verbosity=0)
    generate.run()


def test_the_queue_starts_full_and_nothing_leaves_until_a_person_approves(demo, smtp, admin_user):
    waiting = list(review.waiting())
    assert len(waiting) >= 10
    assert {lead.message_source for lead in waiting} == {"ai", "fallback", "manual"}  # one has a custom message
    first_run = engage.run()  # the schedule's first run, right after start
    assert (first_run.succeeded, smtp.received) == (0, [])
    assert first_run.deferred >= 10
    waiting = list(review.waiting())  # now without the leads the rules skip (no or bad address, status)
    assert len(waiting) == first_run.deferred
    chosen = waiting[:3]
    review.approve(Lead.objects.filter(pk__in=[lead.pk for lead in chosen]), user=admin_user)
    assert engage.run().succeeded == 3
    assert sorted(OutboundEmail.objects.values_list("lead_id", flat=True)) == sorted(lead.pk for lead in chosen)


def test_the_demo_ai_messages_pass_the_check_and_keep_the_evidence_it_finds(demo):
    leads = Lead.objects.filter(message_source="ai")
    assert leads.count() >= 5
    for lead in leads:
        evidence = lead.message_evidence
        sources = grounding.Sources(evidence["written_from"])
        claims = [grounding.Claim(claim["claim"], claim["quote"]) for claim in evidence["claims"]]
        verdict = grounding.check(lead.message_subject, lead.message_body, claims, sources)
        assert verdict.problems == (), lead.display_name
        assert [support.as_dict() for support in verdict.support] == evidence["claims"]
        assert evidence["written_from"]["company_description"] == lead.company_description
        assert drafts.Check(evidence["check"]) == drafts.Check.PASSED
