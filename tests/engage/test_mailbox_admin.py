"""The Mailboxes page: each configured mailbox's day and health, and the resume action."""

import pytest
from django.utils import timezone

from leads.models import MailboxState
from pipeline import engage
from tests.builders import make_leads

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def test_the_page_lists_each_mailbox_with_sent_today_and_cap_today(admin_client, two_mailboxes, settings):
    settings.OUTREACH_WARMUP_START = 2
    make_leads(5)
    engage.run()
    page = admin_client.get("/admin/leads/mailboxstate/").content.decode()
    assert "alpha" in page
    assert "beta" in page
    assert page.count("2 / 2") == 2  # warm-up day 1: cap 2 each, both used
    assert "Warm-up day" in page
    assert admin_client.get("/admin/leads/mailboxstate/add/").status_code == 403


def test_resume_clears_a_pause_and_its_reason(admin_client, two_mailboxes):
    engage.run()  # creates the state rows
    MailboxState.objects.filter(name="alpha").update(paused_at=timezone.now(), pause_reason="hard bounces 9 of 20")
    page = admin_client.get("/admin/leads/mailboxstate/").content.decode()
    assert "hard bounces 9 of 20" in page
    alpha = MailboxState.objects.get(name="alpha")
    response = admin_client.post(
        "/admin/leads/mailboxstate/", {"action": "resume", "_selected_action": [alpha.pk]}, follow=True
    )
    assert "1 mailbox(es) resumed" in response.content.decode()
    alpha.refresh_from_db()
    assert (alpha.paused_at, alpha.pause_reason) == (None, "")
    assert alpha.resumed_at is not None
