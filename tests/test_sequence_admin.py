"""A lead's page lists its sequence: each touch sent, when the next is due, and what stopped it."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import FollowUpMessage, Lead
from tests.builders import make_lead
from tests.inbox.mail import sent_email

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]
SENT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _page(admin_client, lead):
    response = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_touch_sent_the_next_one_due_and_the_follow_up_written_ahead(admin_client, settings):
    settings.OUTREACH_FOLLOWUP_DAYS = [3, 5]
    settings.TIME_ZONE = "UTC"
    lead = make_lead(engagement_status="Contacted")
    sent_email(lead, sent_at=SENT, mailbox="sales")
    FollowUpMessage.objects.create(lead=lead, touch=2, body="A second thought for Ada.", generated_at=SENT)
    page = _page(admin_client, lead)
    assert "Touch 1: sent 2026-12-01 10:00 from sales" in page
    assert "Touch 2: due 2026-12-04 10:00" in page
    assert "Touch 3: 5 days after touch 2" in page
    assert "A second thought for Ada." in page


def test_a_stopped_sequence_says_why_and_that_no_later_touch_goes(admin_client, settings):
    settings.OUTREACH_FOLLOWUP_DAYS = [3]
    lead = make_lead(engagement_status="Replied")
    sent_email(lead, sent_at=SENT)
    Lead.objects.filter(pk=lead.pk).update(sequence_stop_reason="replied", sequence_stopped_at=timezone.now())
    page = _page(admin_client, lead)
    assert "Stopped: <strong>Replied</strong>" in page
    assert "Touch 2: not sent: the sequence stopped (replied)" in page
