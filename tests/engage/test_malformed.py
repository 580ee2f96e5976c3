"""Malformed leads from a real Airtable base: each gets the right outcome and nothing crashes."""

from datetime import date

import pytest

from leads.models import EmailStatus, Lead, SkipLog
from pipeline import engage
from tests.builders import make_lead
from tests.fakes.smtp import FakeSMTP

pytestmark = pytest.mark.django_db

SENT = "sent"

NO_EMAIL = ["", " ", "N/A", "none", "NULL", "-", "\u200b", "\t\n"]
INVALID = [
    "jane",
    "jane@",
    "@acme.example",
    "jane@@acme.example",
    "jane doe@acme.example",
    "jane@acme",
    "jane@acme..example",
    "<script>alert(1)</script>@acme.example",
    "jane@acme.example, bob@acme.example",
    "jane@acme.example;bob@acme.example",
    "Jane <jane2@acme.example>",
    "jöhn@acme.example",
    12345,
    3.14,
    ["jane3@acme.example"],  # stored as its text, brackets and all
    "x" * 300 + "@acme.example",
    "mailto:jane4@acme.example",
    "jane5@acme.example.",
    "jane6@-acme.example",
    "jane7@acme_corp.example",
    '"jane8"@acme.example',
    "jane9@[192.168.0.1]",
    "jane10@localhost",
    "jane11@acme.test",
    "jane12@acme.example\nBcc: victim@evil.example",
]
SENDABLE = [
    {"email": "  spaced@acme.example  "},
    {"email": "UPPER@ACME.EXAMPLE"},
    {"email": "jane+tag@acme.example"},
    {"email": "o'brien@acme.example"},
    {"email": "jane@bücher.example"},
    {"email": "deep@sub.domain.acme.example"},
    {"email": "a@b.co"},
    {"email": "html@acme.example", "name": "<b>Bold</b> <script>x</script>"},
    {"email": "emoji@acme.example", "name": "😀 Emoji", "company_name": "Ünïcødé GmbH"},
    {"email": "longname@acme.example", "name": "A" * 255, "job_title": "B" * 255, "company_name": "C" * 255},
    {"email": "hugedesc@acme.example", "company_description": "Words and more words. " * 5000},
    {"email": "numbers@acme.example", "name": 42, "job_title": 3.5, "company_name": 0},
    {"email": "lists@acme.example", "name": ["Ada", "Lovelace"], "company_name": ["Engines"]},
    {"email": "nullish@acme.example", "name": "None", "company_name": "null", "job_title": "N/A"},
    {"email": "hugebody@acme.example", "message_body": "Hi there.\n" * 5000, "message_source": "ai"},
]
# Messages the output check refuses: held back, the reason on the lead's page.
REFUSED_MESSAGES = [
    {"email": "markup@acme.example", "message_body": "<p>Hi</p>\n" * 5000, "message_source": "ai"},
    {"email": "subjectnl@acme.example", "message_subject": "Hi\r\nBcc: x@evil.example", "message_body": "Body"},
]
REFUSED = "refused"


def _cases() -> list[tuple[dict, str]]:
    cases = [({"email": email}, "no_email") for email in NO_EMAIL]
    cases += [({"email": email}, "invalid_email") for email in INVALID]
    cases += [(fields, SENT) for fields in SENDABLE]
    cases += [(fields, REFUSED) for fields in REFUSED_MESSAGES]
    # Duplicates differing only in case: the first goes out, the others are already contacted.
    cases += [({"email": "dup@acme.example"}, SENT)]
    cases += [({"email": email}, "already_contacted") for email in ("DUP@acme.example", " Dup@Acme.Example ")]
    cases += [
        ({"engagement_status": "  replied  "}, "status_filtered"),
        ({"engagement_status": "DO NOT CONTACT"}, "status_filtered"),
        ({"engagement_status": "contacted"}, "already_contacted"),
        ({"date_messaged": date(2021, 5, 1)}, "already_contacted"),
        ({"email_confidence_level": "  "}, SENT),
    ]
    return cases


def test_fifty_and_more_malformed_leads_each_get_the_right_outcome(settings):
    cases = _cases()
    assert len(cases) >= 50
    with FakeSMTP() as smtp:
        smtp.use_in(settings)
        leads = [(make_lead(**fields), expected) for fields, expected in cases]
        summary = engage.run()
        again = engage.run()
    assert summary.failed == 0
    assert summary.processed == len(cases)
    outcomes = {}
    for lead, _ in leads:
        lead.refresh_from_db()
        email = lead.emails.first()
        refused = lead.skip_logs.filter(stage="generate", detail__startswith="message not sent:").exists()
        outcomes[lead.pk] = (
            SENT if email and email.status == EmailStatus.SENT else REFUSED if refused else lead.skip_reason
        )
    assert outcomes == {lead.pk: expected for lead, expected in leads}
    skipped = [lead for lead, expected in leads if expected not in (SENT, REFUSED)]
    assert SkipLog.objects.filter(stage="engage").count() == len(skipped)
    assert summary.succeeded == len(smtp.received) == sum(1 for _, expected in leads if expected == SENT)
    assert again.succeeded == 0
    assert "jane@xn--bcher-kva.example" in smtp.recipients
    assert all("\n" not in str(item.message["Subject"]) for item in smtp.received)
    assert not any("evil.example" in ",".join(item.rcpt_tos) for item in smtp.received)
    assert Lead.objects.filter(emails__status=EmailStatus.SENT).count() == summary.succeeded
