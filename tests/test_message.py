"""The fallback message reads naturally whatever the lead is missing."""

import pytest

from pipeline.message import fallback


def test_full_lead_gets_a_personal_greeting_and_the_offer(settings):
    settings.OUTREACH_OFFER = "We write your first emails for you."
    settings.OUTREACH_FROM_EMAIL = "Sam Seller <sam@seller.example>"
    message = fallback(name="Ada Lovelace", job_title="CTO", company="Engines", description="Builds engines")
    assert message.subject == "A quick idea for Engines"
    assert message.body.startswith("Hi Ada,\n")
    assert "As CTO at Engines" in message.body
    assert 'Your website sums it up as "Builds engines."' in message.body
    assert "We write your first emails for you." in message.body
    assert message.body.rstrip().endswith("Sam Seller")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": None, "company": None, "job_title": None, "description": None},
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


def test_a_long_description_is_cut_at_a_sentence():
    message = fallback(name="Ada", description="First sentence here. " * 40)
    line = next(line for line in message.body.splitlines() if "sums it up" in line)
    assert line.endswith('here."')
    assert len(line) < 400
