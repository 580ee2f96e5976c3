"""The fallback message reads naturally whatever the lead is missing, and states no company
facts beyond the company's name."""

import pytest

from pipeline.generate import grounding
from pipeline.message import fallback, followup_fallback, sender_company, sender_name


def test_full_lead_gets_a_personal_greeting_and_the_offer(settings):
    settings.OUTREACH_OFFER = "We write your first emails for you."
    settings.OUTREACH_FROM_EMAIL = "Sam Seller <sam@seller.example>"
    message = fallback(name="Ada Lovelace", job_title="CTO", company="Engines")
    assert message.subject == "A quick idea for Engines"
    assert message.body.startswith("Hi Ada,\n")
    assert "As CTO at Engines" in message.body
    assert "We write your first emails for you." in message.body
    assert message.body.rstrip().endswith("Sam Seller")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": None, "company": None, "job_title": None},
        {"name": "None", "company": "null"},
        {"name": ["Ada", "Lovelace"], "company": ["Engines"]},
        {"name": "<script>alert(1)</script>", "company": ""},
        {"name": "  ", "company": "  Engines  "},
    ],
)
def test_missing_or_odd_fields_never_leave_gaps(fields):
    message = fallback(**fields)
    text = message.subject + "\n" + message.body
    assert "None" not in text
    assert "null" not in text
    assert "Hi ," not in text
    assert "  " not in message.subject
    assert "<script>" not in message.body.split("\n")[0]
    assert message.body.split("\n")[0] in {"Hello,", "Hi Ada,"}


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Ada Lovelace", "job_title": "CTO", "company": "Analytical Engines"},
        {"name": "Grace Hopper", "job_title": "", "company": "Cobol Systems"},
        {"name": "", "job_title": "Head of Sales", "company": ""},
        {},
    ],
)
def test_the_fallback_passes_the_grounding_check_without_any_company_description(settings, fields):
    """Nothing in the template needs a source beyond the lead's name, title and company, the offer and the sender."""
    settings.OUTREACH_FROM_EMAIL = "Sam Seller <sam@seller.example>"
    message = fallback(**fields)
    sources = grounding.Sources(
        {
            "name": fields.get("name", ""),
            "job_title": fields.get("job_title", ""),
            "company": fields.get("company", ""),
            "offer": settings.OUTREACH_OFFER,
            "sender": f"{sender_name()}, {sender_company()}",
        }
    )
    verdict = grounding.check(message.subject, message.body, [], sources)
    assert verdict.problems == ()


@pytest.mark.parametrize("touch", [2, 3, 4])
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": None, "company": None, "job_title": None},
        {"name": "Ada Lovelace", "company": "Engines", "job_title": "CTO"},
        {"name": "null", "company": " ", "job_title": "None"},
    ],
)
def test_each_follow_up_fallback_reads_naturally_whatever_is_missing(settings, touch, fields):
    settings.OUTREACH_FROM_EMAIL = "Sam Seller <sam@seller.example>"
    body = followup_fallback(touch=touch, last=touch == 4, **fields)
    assert "None" not in body
    assert "null" not in body
    assert "Hi ," not in body
    assert "  " not in body
    assert " about ." not in body
    assert body.split("\n")[0] in {"Hello again,", "Hi Ada,"}
    assert body.rstrip().endswith("Sam Seller")


def test_follow_up_fallbacks_differ_per_touch_and_the_last_says_it_is_the_last():
    bodies = [followup_fallback(touch=touch, last=touch == 4, company="Engines") for touch in (2, 3, 4)]
    assert len(set(bodies)) == 3
    assert "last note about Engines" in bodies[2]
    assert "last" not in bodies[0]


def test_a_follow_up_fallback_states_no_company_fact_the_grounding_check_would_refuse(settings):
    settings.OUTREACH_FROM_EMAIL = "Sam Seller <sam@seller.example>"
    settings.OUTREACH_POSTAL_ADDRESS = "Seller Co, 1 Main Street"
    lead = {"name": "Ada Lovelace", "job_title": "CTO", "company": "Engines"}
    for touch in (2, 3):
        body = followup_fallback(touch=touch, last=touch == 3, **lead)
        sources = grounding.Sources(
            {**lead, "offer": settings.OUTREACH_OFFER, "sender": f"{sender_name()}, {sender_company()}"}
        )
        assert grounding.check("", body, (), sources).passed, body
