"""The admin shows what came back: inbound messages by kind and mailbox with their lead,
each lead's conversation in order, and where each suppressed address's bounce came from."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import InboundMessage
from pipeline import suppression
from tests.inbox import mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def _inbound(email, **fields) -> InboundMessage:
    values = {
        "mailbox": "default",
        "message_id": f"<in-{InboundMessage.objects.count()}@example.com>",
        "kind": "reply",
        "email": email,
        "lead_id": email.lead_id,
        "address": email.recipient,
        "sender": email.recipient,
        "received_at": timezone.now(),
    }
    values.update(fields)
    return InboundMessage.objects.create(**values)


def test_inbound_messages_filter_by_kind_and_mailbox_and_link_their_lead(admin_client):
    email = mail.sent_email()
    _inbound(email, kind="reply", subject="Re: hello there")
    _inbound(email, kind="bounce_hard", subject="Undelivered Mail", mailbox="sales")
    page = admin_client.get("/admin/leads/inboundmessage/", {"kind__exact": "reply"}).content.decode()
    assert "Re: hello there" in page
    assert "Undelivered Mail" not in page
    assert f"/admin/leads/lead/{email.lead_id}/change/" in page
    page = admin_client.get("/admin/leads/inboundmessage/", {"mailbox__exact": "sales"}).content.decode()
    assert "Undelivered Mail" in page
    assert "Re: hello there" not in page
    assert admin_client.get("/admin/leads/inboundmessage/add/").status_code == 403


def test_a_leads_page_shows_our_emails_and_their_answers_in_order(admin_client):
    now = timezone.now()
    email = mail.sent_email(subject="First touch", sent_at=now - timedelta(days=2))
    _inbound(email, kind="auto_reply", subject="Out of office", received_at=now - timedelta(days=1, hours=23))
    _inbound(email, kind="reply", subject="Re: First touch", text="Call me <b>Tuesday</b>", received_at=now)
    page = admin_client.get(f"/admin/leads/lead/{email.lead_id}/change/").content.decode()
    conversation = page[page.index("Their words") :]
    assert conversation.index("First touch") < conversation.index("Out of office") < conversation.index("Re: First")
    assert "Call me &lt;b&gt;Tuesday&lt;/b&gt;" in conversation


def test_the_suppression_list_links_each_bounce_to_its_report(admin_client):
    email = mail.sent_email()
    report = _inbound(email, kind="bounce_hard", status="5.1.1")
    suppression.suppress_many([email.recipient.upper()], reason="bounced", source="bounce_hard:default")
    suppression.suppress_many(["manual@example.com"], source="admin")
    page = admin_client.get("/admin/leads/suppression/").content.decode()
    assert f"/admin/leads/inboundmessage/{report.pk}/change/" in page
    assert "bounce_hard:default" in page
    assert page.count("inbound message") == 1
