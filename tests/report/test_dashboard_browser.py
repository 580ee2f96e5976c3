"""The dashboard in a real browser: a person logs in, sees the chart, and follows a number to its list."""

import os
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from leads.models import Lead, MailboxState
from tests.browser import chromium_page, screenshot
from tests.builders import make_email, make_inbound, make_lead
from tests.report import dataset

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - a test user's password
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def login(live_server, django_user_model):
    django_user_model.objects.create_superuser("reviewer", "", PASSWORD)

    def login(page) -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "reviewer")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

    yield login
    # The ORM opened a connection of its own in Playwright's greenlet: close it, or it
    # outlives the test database (PostgreSQL refuses to drop a database that has a session).
    connections.close_all()


def test_a_person_sees_the_chart_and_follows_a_number_to_its_list(login):
    dataset.build(timezone.now())
    with chromium_page() as page:
        login(page)
        chart = page.locator("svg.chart")
        assert chart.is_visible()
        assert chart.locator("rect.bar-sent").count() == 30
        assert page.locator("#funnel .figure a").all_inner_texts() == ["9", "7", "6", "5", "2"]
        page.locator("#funnel").get_by_role("link", name="5", exact=True).click()
        page.wait_for_url("**/admin/leads/lead/?contacted=yes")
        assert page.locator("#result_list tbody tr").count() == 5
        assert page.locator("#changelist-filter").get_by_role("link", name="At least one email sent").is_visible()
        screenshot(page, "dashboard-funnel-sent")


def test_the_chart_takes_the_dark_themes_colours(login):
    dataset.build(timezone.now())
    with chromium_page() as page:
        page.emulate_media(color_scheme="dark")
        login(page)
        colours = page.evaluate(
            """() => {
                const bar = document.querySelector("svg.chart rect.bar-sent");
                const chart = document.querySelector("svg.chart");
                return {bar: getComputedStyle(bar).fill, text: getComputedStyle(chart).color,
                        background: getComputedStyle(document.body).backgroundColor};
            }"""
        )
        # The admin's dark theme: quiet text #d0d0d0 for the sent bars, body text #eee on #121212.
        assert colours == {"bar": "rgb(208, 208, 208)", "text": "rgb(238, 238, 238)", "background": "rgb(18, 18, 18)"}
        screenshot(page, "dashboard-dark")


def test_a_busy_month_on_the_dashboard(login, settings):
    """A month of sending from two mailboxes, one paused (the picture in the README:
    DOCS_SCREENSHOTS=1 writes docs/admin-dashboard.png)."""
    now = timezone.now()
    settings.OUTREACH_MAILBOXES = ["default", "second"]
    box = {"from_email": "Ann <ann@example.com>", "email_url": "", "inbox_url": "", "daily_cap": 40}
    settings.MAILBOX_SETTINGS = {"default": box, "second": {**box, "daily_cap": 25}}
    MailboxState.objects.create(name="second", paused_at=now, pause_reason="hard bounces 6 of the last 100 sends")
    dataset.build(now)
    sources = ("ai", "ai", "fallback", "manual")
    kinds = ("reply", "auto_reply", "reply", "bounce_hard", "bounce_soft", "unsubscribe", "reply")
    for n in range(180):
        lead = make_lead(message_body="Hello", message_source=sources[n % 4], message_approved_at=now)
        sent_at = now - ((n * 7) % 29) * dataset.DAY
        email = make_email(lead, message_source=sources[n % 4], mailbox=("default", "second")[n % 2], sent_at=sent_at)
        if n % 3 == 0:
            kind = kinds[n % len(kinds)]
            make_inbound(kind, email, received_at=min(sent_at + dataset.DAY, now))
            stop = {"reply": "replied", "bounce_hard": "bounced", "unsubscribe": "unsubscribed"}.get(kind, "")
            Lead.objects.filter(pk=lead.pk).update(sequence_stop_reason=stop, sequence_stopped_at=now if stop else None)
        elif n % 2 == 0:
            followup = min(sent_at + 3 * dataset.DAY, now)
            make_email(lead, touch=2, message_source=sources[n % 4], mailbox=email.mailbox, sent_at=followup)
    with chromium_page() as page:
        login(page)
        assert page.locator("#by-source tr.rate-ai").is_visible()
        assert page.locator("#mailboxes .paused").inner_text() == "paused"
        path = screenshot(page, "dashboard")
        if os.environ.get("DOCS_SCREENSHOTS"):
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "admin-dashboard.png"), full_page=True)
        assert path.stat().st_size > 10_000
