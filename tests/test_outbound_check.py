"""The output check: links, addresses, markup, unsubscribe wording and header lines are refused."""

import pytest

from pipeline import outbound_check
from pipeline.message import fallback

WEBSITE = "https://www.acme.example/about"
FINE = "Hi Jane,\n\nI read that Acme makes widgets for factories.\n\nWould a short call next week help?\n\nBest,\nSam"


@pytest.fixture(autouse=True)
def _sender(settings):
    settings.OUTREACH_FROM_EMAIL = "Sam <sam@sender.example>"
    settings.OUTREACH_REPLY_TO = "replies@sender.example"
    settings.OUTREACH_OFFER = "We write your first emails for you."


def problem(body: str, subject: str = "An idea for Acme") -> str | None:
    return outbound_check.problem(subject, body, website=WEBSITE)


@pytest.mark.parametrize(
    "body",
    [
        FINE,
        FINE + "\nSee https://sender.example/case-study or www.sender.example.",
        FINE + "\nI liked https://acme.example/products and shop.acme.example/new.",
        FINE + "\nWrite to sam@sender.example or replies@sender.example.",
        FINE + "\nNote: we work with teams of 5-50 people, e.g. yours. Node.js or not.",
        FINE + "\nIt costs 24/7 support and/or 3.5 hours a week.",
    ],
)
def test_a_plain_message_with_the_senders_and_the_leads_own_links_passes(body):
    assert problem(body) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Log in at http://evil.example/login today.", "links to evil.example"),
        ("Log in at HTTPS://EVIL.EXAMPLE today.", "links to evil.example"),
        ("Visit www.evil.example now.", "links to www.evil.example"),
        ("Visit evil.example/login now.", "links to evil.example"),
        ("Visit evil.com now.", "links to evil.com"),
        ("Visit https://acme.example.evil.example/x now.", "links to acme.example.evil.example"),
        ("Visit https://sender.example@evil.example/x now.", "evil.example"),
        ("CC ceo@acme.example on this.", "an email address other than the sender's (acme.example)"),
        ("Write to billing@evil.example.", "an email address other than the sender's (evil.example)"),
        ('Click <a href="https://sender.example">here</a>.', "markup"),
        ("<script>alert(1)</script>", "markup"),
        ("Hello &amp; welcome", "markup"),
        ("See [our page](https://sender.example/x).", "markup"),
        ("<!-- hidden -->", "markup"),
        ("To unsubscribe, reply STOP.", "unsubscribe"),
        ("Click here to opt out of these emails.", "unsubscribe"),
        ("Hi\nBcc: ceo@acme.example\n", "header"),
        ("Hi\nReply-To: sam@sender.example\n", "header"),
        ("Hi\nX-Priority: 1\n", "header"),
    ],
)
def test_what_an_injected_page_asks_for_is_refused(body, expected):
    found = problem(FINE + "\n" + body)
    assert found is not None
    assert expected in found


def test_a_subject_of_two_lines_is_refused():
    assert problem(FINE, subject="Hi\r\nBcc: x@evil.example") == "the subject has more than one line"


def test_without_a_website_only_the_senders_domain_may_be_linked():
    assert outbound_check.problem("Hi", "See https://acme.example", website="") is not None
    assert outbound_check.problem("Hi", "See https://sender.example", website="") is None


def test_the_problem_never_quotes_the_address_it_found():
    assert "billing" not in problem("Write to billing@evil.example.")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company", "http://evil.example/login"),
        ("company", "Acme <script>"),
        ("job_title", "CC ceo@evil.example"),
        ("job_title", "unsubscribe here"),
    ],
)
def test_the_fallback_leaves_out_a_field_that_would_fail_the_check(field, value):
    fields = {"name": "Jane Doe", "job_title": "CTO", "company": "Acme"} | {field: value}
    message = fallback(**fields)
    assert outbound_check.problem(message.subject, message.body) is None
    assert value not in message.subject + message.body


def test_the_fallback_keeps_fields_that_pass():
    message = fallback(name="Jane Doe", job_title="CTO", company="Acme")
    assert "As CTO at Acme" in message.body
    assert outbound_check.problem(message.subject, message.body) is None
