"""End to end: touch 1 to several leads pulled from the fake Airtable, through a real SMTP server;
a reply, a bounce, an unsubscribe and an out-of-office delivered to Dovecot and read by
`check_inbox`; a person's status change in Airtable, pulled. Touch 2 then goes exactly to the
others, in touch 1's thread, from the same sender, and Airtable shows how many emails each got."""

import json
from datetime import UTC, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.models import Lead, OutboundEmail
from pipeline import engage, inbox
from pipeline.airtable import sync
from tests.fakes.airtable import FakeAirtable, record_fields, use
from tests.inbox import mail

pytestmark = pytest.mark.django_db

T0 = (timezone.now() + timedelta(days=1)).astimezone(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
HOW = ["reply", "bounce_hard", "unsubscribe", "auto_reply", "status_changed", "quiet", "quiet"]


@pytest.fixture
def airtable(settings, tmp_path):
    with FakeAirtable(table=[record_fields(n) for n in range(1, len(HOW) + 1)]) as server:
        server.add_field("Touches", "number")
        settings.AIRTABLE_FIELD_TOUCHES = "Touches"
        yield use(server, settings, tmp_path)


def test_touch_2_goes_exactly_to_the_leads_nobody_answered_for_threaded_and_counted(
    airtable, dovecot, smtp, settings, capsys
):
    settings.OUTREACH_FOLLOWUP_DAYS = [3, 5]
    settings.ANYMAIL_WEBHOOK_SECRET = ""
    sync.run(direction="pull")
    assert engage.run(now=T0).extra["touches"] == {"1": len(HOW)}
    sync.run(direction="push")  # "Contacted", as the engage task pushes it
    emails = {email.lead.airtable_id: email for email in OutboundEmail.objects.select_related("lead")}
    ordered = sorted(emails.values(), key=lambda email: email.lead.airtable_id)
    by_how = dict(zip(HOW, ordered, strict=False))
    dovecot.deliver(mail.answer("reply-en", by_how["reply"]))
    dovecot.deliver(mail.bounce(by_how["bounce_hard"], status="5.1.1"))
    dovecot.deliver(mail.answer("unsubscribe-en", by_how["unsubscribe"]))
    dovecot.deliver(mail.answer("auto-en-ooo", by_how["auto_reply"]))  # does not stop the sequence
    airtable.edit_record(by_how["status_changed"].lead.airtable_id, {"Engagement Status": "Meeting booked"})

    call_command("check_inbox", "--json")
    kinds = json.loads(capsys.readouterr().out)["kinds"]
    assert kinds == {"reply": 1, "bounce_hard": 1, "unsubscribe": 1, "auto_reply": 1}
    sync.run(direction="pull")
    first = {received.to: received.message for received in smtp.received}

    due = T0 + timedelta(days=3, minutes=1)
    inbox.run(now=due - timedelta(minutes=2))  # the scheduled read, just before the engager's run
    summary = engage.run(now=due)
    assert summary.extra["touches"] == {"2": 3}
    assert summary.extra["stopped"] == {"bounced": 1, "replied": 1, "status_changed": 1, "unsubscribed": 1}
    followed = smtp.received[len(HOW) :]
    expected = {by_how[how].recipient for how in ("auto_reply",)} | {email.recipient for email in ordered[5:]}
    assert {received.to for received in followed} == expected
    for received in followed:
        original = first[received.to]
        assert received.message["In-Reply-To"] == original["Message-ID"]
        assert received.message["References"] == original["Message-ID"]
        assert received.message["Subject"] == f"Re: {original['Subject']}"
        assert received.message["From"] == original["From"]
        assert received.mail_from == smtp.received[0].mail_from
    assert set(OutboundEmail.objects.filter(touch=2).values_list("mailbox", flat=True)) == {"default"}

    sync.run(direction="push")
    records = {email.lead.airtable_id: airtable.record(email.lead.airtable_id) for email in ordered}
    touched = {record_id: record.get("Touches") for record_id, record in records.items()}
    assert sorted(touched.values()) == [1, 1, 1, 1, 2, 2, 2]
    for how in ("auto_reply",):
        assert records[by_how[how].lead.airtable_id]["Engagement Status"] == "Contacted"
    assert records[by_how["status_changed"].lead.airtable_id]["Engagement Status"] == "Meeting booked"
    stopped = dict(Lead.objects.exclude(sequence_stop_reason="").values_list("airtable_id", "sequence_stop_reason"))
    assert stopped == {
        by_how["reply"].lead.airtable_id: "replied",
        by_how["bounce_hard"].lead.airtable_id: "bounced",
        by_how["unsubscribe"].lead.airtable_id: "unsubscribed",
        by_how["status_changed"].lead.airtable_id: "status_changed",
    }
