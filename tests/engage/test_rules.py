"""The engage rules: a lead is skipped only for the contract's reason codes, in a fixed order."""

from datetime import date

import pytest

from leads.models import Lead
from pipeline.engage import rules

TODAY = date(2026, 3, 10)


def context(**overrides) -> rules.Context:
    fields = {"today": TODAY, "excluded_statuses": frozenset({"do not contact", "unsubscribed", "bounced", "replied"})}
    fields.update(overrides)
    return rules.Context(**fields)


def lead(**overrides) -> Lead:
    """An unsaved lead: the rules read attributes only, no database."""
    fields = {"email": "jane@acme.example", "engagement_status": "", "email_confidence_level": "High"}
    fields.update(overrides)
    return Lead(**fields)


def test_a_lead_with_a_valid_address_and_nothing_against_it_is_sent():
    decision = rules.decide(lead(), context())
    assert decision == rules.Decision(action="send", address="jane@acme.example")


@pytest.mark.parametrize("email", ["", "   ", None, "N/A", "none", "-", "\u200b", [], ["  "]])
def test_no_address_is_no_email(email):
    decision = rules.decide(lead(email=email), context())
    assert (decision.action, decision.reason) == ("skip", "no_email")


@pytest.mark.parametrize(
    "email",
    [
        "jane",
        "jane@",
        "@acme.example",
        "jane@@acme.example",
        "jane doe@acme.example",
        "jane@acme",
        "jane@acme..example",
        "<b>jane</b>@acme.example",
        "jane@acme.example, bob@acme.example",
        "Jane <jane@acme.example>",
        "jöhn@acme.example",  # needs SMTPUTF8, which the SMTP backend cannot send
        12345,
        "x" * 300 + "@acme.example",
        ["jane@acme.example", "bob@acme.example"],
    ],
)
def test_malformed_addresses_are_invalid_email(email):
    decision = rules.decide(lead(email=email), context())
    assert (decision.action, decision.reason) == ("skip", "invalid_email")
    assert decision.detail


def test_surrounding_spaces_are_trimmed_not_a_reason_to_skip():
    decision = rules.decide(lead(email="  Jane@ACME.example \t\u200b"), context())
    assert decision.is_send
    assert decision.address == "Jane@acme.example"


def test_an_international_domain_is_sent_to_its_ascii_form():
    assert rules.decide(lead(email="jane@bücher.example"), context()).address == "jane@xn--bcher-kva.example"


def test_a_one_item_list_is_read_as_its_item():
    assert rules.decide(lead(email=["jane@acme.example"]), context()).is_send


def test_an_undeliverable_domain_is_invalid_email():
    decision = rules.decide(lead(), context(undeliverable={"acme.example": "The domain acme.example does not exist."}))
    assert (decision.reason, decision.detail) == ("invalid_email", "The domain acme.example does not exist.")


def test_a_suppressed_address_is_skipped_in_any_case():
    decision = rules.decide(lead(email="JANE@Acme.Example"), context(suppressed={"jane@acme.example": "unsubscribed"}))
    assert (decision.reason, decision.detail) == ("suppressed", "unsubscribed")


@pytest.mark.parametrize("status", ["Replied", "do not contact", ["Bounced"], " UNSUBSCRIBED "])
def test_an_excluded_status_is_status_filtered(status):
    decision = rules.decide(lead(engagement_status=status), context())
    assert decision.reason == "status_filtered"


def test_other_statuses_are_engaged():
    assert rules.decide(lead(engagement_status="New"), context()).is_send


@pytest.mark.parametrize(
    ("overrides", "ctx", "detail"),
    [
        ({"date_messaged": date(2025, 1, 2)}, {}, "Airtable says messaged on 2025-01-02"),
        ({"engagement_status": "Contacted"}, {}, "Airtable status is 'contacted'"),
        ({"engagement_status": "messaged"}, {}, "Airtable status is 'messaged'"),
        ({}, {"contacted_on": {"jane@acme.example": date(2026, 3, 1)}}, "this address was emailed on 2026-03-01"),
        ({"email": "JANE@acme.example"}, {"taken": {"jane@acme.example"}}, "another lead with this address"),
    ],
)
def test_already_contacted(overrides, ctx, detail):
    decision = rules.decide(lead(**overrides), context(**ctx))
    assert decision.reason == "already_contacted"
    assert decision.detail.startswith(detail)


def test_an_excluded_confidence_level_is_confidence_filtered_in_any_case():
    ctx = context(excluded_confidence=frozenset({"low", "unverified"}))
    assert rules.decide(lead(email_confidence_level=" LOW "), ctx).reason == "confidence_filtered"
    assert rules.decide(lead(email_confidence_level="High"), ctx).is_send
    assert rules.decide(lead(email_confidence_level=""), ctx).is_send


def test_no_confidence_level_is_excluded_by_default():
    assert rules.decide(lead(email_confidence_level="Low"), context()).is_send


def test_the_first_matching_rule_is_the_reason():
    """Order: no_email, invalid_email, suppressed, status_filtered, already_contacted, confidence_filtered."""
    everything = {
        "suppressed": {"jane@acme.example": "unsubscribed"},
        "contacted_on": {"jane@acme.example": TODAY},
        "excluded_confidence": frozenset({"low"}),
    }
    facts = {"engagement_status": "Replied", "date_messaged": TODAY, "email_confidence_level": "Low"}
    assert rules.decide(lead(email="", **facts), context(**everything)).reason == "no_email"
    assert rules.decide(lead(email="jane@", **facts), context(**everything)).reason == "invalid_email"
    assert rules.decide(lead(**facts), context(**everything)).reason == "suppressed"
    del everything["suppressed"]
    assert rules.decide(lead(**facts), context(**everything)).reason == "status_filtered"
    facts["engagement_status"] = ""
    assert rules.decide(lead(**facts), context(**everything)).reason == "already_contacted"
    del facts["date_messaged"], everything["contacted_on"]
    assert rules.decide(lead(**facts), context(**everything)).reason == "confidence_filtered"


def test_every_skip_reason_is_a_contract_code():
    from leads.models import SkipReason

    cases = [lead(email=""), lead(email="x@"), lead(engagement_status="Replied"), lead(date_messaged=TODAY)]
    assert {rules.decide(case, context()).reason for case in cases} <= set(SkipReason.values)
