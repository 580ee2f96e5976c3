"""The admin in a real browser: what a reviewer sees and clicks."""

import pytest

from leads.models import SkipLog
from tests.browser import chromium_page, screenshot
from tests.builders import make_lead

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - a test user's password


@pytest.fixture(autouse=True)
def _browser_env(settings, monkeypatch, plain_static_storage):
    # Playwright's sync API runs an event loop in this thread; the ORM calls that
    # the live server and the fixtures make here are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.DEBUG = False


@pytest.fixture
def page(live_server, django_user_model):
    django_user_model.objects.create_superuser("reviewer", "", PASSWORD)
    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "reviewer")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.base_url = live_server.url
        yield page


def test_reviewer_logs_in_and_opens_the_leads_list(page):
    make_lead(name="Ada Lovelace", company_name="Analytical Engines")
    page.goto(f"{page.base_url}/admin/leads/lead/")
    assert page.locator("#result_list").get_by_text("Ada Lovelace").is_visible()
    screenshot(page, "leads-list")


def test_skip_logs_filter_by_reason_and_show_counts(page):
    for reason in ("no_email", "no_email", "suppressed"):
        SkipLog.objects.create(lead=make_lead(), stage="engage", reason=reason)
    page.goto(f"{page.base_url}/admin/leads/skiplog/")
    page.locator("#changelist-filter").get_by_role("link", name="Suppressed").click()
    page.wait_for_url("**reason__exact=suppressed**")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.locator("#reason-counts td.count").all_inner_texts() == ["1"]
    screenshot(page, "skip-logs-by-reason")


def test_a_name_made_of_markup_is_shown_as_text(page):
    lead = make_lead(name="<script>alert(1)</script>")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{page.base_url}/admin/leads/lead/{lead.pk}/change/")
    assert page.locator("#id_name").input_value() == "<script>alert(1)</script>"
    page.goto(f"{page.base_url}/admin/leads/lead/")
    assert page.locator("#result_list").get_by_text("<script>alert(1)</script>").is_visible()
    assert dialogs == []
    screenshot(page, "markup-name-as-text")
