"""The admin in a real browser: what a reviewer sees and clicks."""

import re
import time

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from leads.models import Job, Lead, OutboundEmail, PipelineRun, RunOutcome, SkipLog, Suppression
from tests.browser import chromium_page, screenshot
from tests.builders import make_lead
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, running

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - a test user's password


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
        # Playwright's sync API runs the test in a greenlet with its own context, so the
        # ORM opened a connection of its own there: close it, or it outlives the test
        # database (PostgreSQL refuses to drop a database that has a session).
        connections.close_all()


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


@pytest.fixture
def smtp(settings, live_server):
    settings.SITE_URL = live_server.url  # unsubscribe links in emails point at this server
    with FakeSMTP() as server:
        server.use_in(settings)
        yield server


def _cluster(smtp, live_server, log, **env):
    env = django_env(
        EMAIL_URL=smtp.email_url(), SITE_URL=live_server.url, AIRTABLE_API_KEY="", LOG_LEVEL="WARNING", **env
    )
    return running(["python", "manage.py", "qcluster"], env=env, log=log)


@pytest.fixture
def cluster(smtp, tmp_path, live_server):
    """A real qcluster on the test database, sending into `smtp`: the admin only queues the engage."""
    with _cluster(smtp, live_server, tmp_path / "qcluster.log") as process:
        yield process


@pytest.fixture
def approving_cluster(smtp, tmp_path, live_server, settings):
    """The same with the product's default, OUTREACH_APPROVAL=first, here and in the cluster."""
    settings.OUTREACH_APPROVAL = "first"
    with _cluster(smtp, live_server, tmp_path / "qcluster.log", OUTREACH_APPROVAL="first") as process:
        yield process


def _wait_for_the_engage_run(timeout: float = 60) -> PipelineRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = PipelineRun.objects.filter(job=Job.ENGAGE).exclude(outcome=RunOutcome.RUNNING).first()
        if run is not None:
            return run
        time.sleep(0.3)
    raise TimeoutError(f"the queued engage did not finish within {timeout}s")


def _engage_through_the_preview(page, leads):
    page.goto(f"{page.base_url}/admin/leads/lead/")
    for lead in leads:
        page.check(f"input.action-select[value='{lead.pk}']")
    page.select_option("select[name=action]", "engage_selected")
    page.click("button[name=index]")
    page.wait_for_selector("#engage-preview")


def test_engage_preview_shows_each_decision_then_sends_on_confirmation(page, smtp, cluster):
    ada = make_lead(name="Ada Lovelace")
    nobody = make_lead(name="No Address", email="")
    _engage_through_the_preview(page, [ada, nobody])
    rows = page.locator("#engage-preview tbody tr").all_inner_texts()
    assert any("Ada Lovelace" in row and "send" in row for row in rows)
    assert any("No Address" in row and "skip: no_email" in row for row in rows)
    assert smtp.received == []
    screenshot(page, "engage-preview")
    page.click("input[type=submit][value='Send now']")
    page.wait_for_selector(".messagelist")
    assert "Queued on the cluster: the 2 selected leads" in page.locator(".messagelist").inner_text()
    assert _wait_for_the_engage_run().succeeded == 1
    assert smtp.recipients == [ada.email]
    assert OutboundEmail.objects.get().lead == ada


def test_the_unsubscribe_link_of_a_received_email_suppresses_the_address(page, smtp, cluster):
    lead = make_lead(name="Grace Hopper")
    _engage_through_the_preview(page, [lead])
    page.click("input[type=submit][value='Send now']")
    page.wait_for_selector(".messagelist")
    _wait_for_the_engage_run()
    message = smtp.received[0].message
    link = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert link in message.get_body(("plain",)).get_content()
    page.goto(link)
    assert Suppression.objects.count() == 0  # a GET only asks
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_selector("text=You are unsubscribed")
    screenshot(page, "unsubscribed")
    assert Suppression.objects.get().address.lower() == lead.email.lower()


def _waiting_leads(count: int) -> list[Lead]:
    now = timezone.now()
    return [
        Lead.objects.create(
            name=f"Reviewed Lead {n}",
            email=f"reviewed{n}@company{n}.example",
            company_name=f"Company {n}",
            message_subject=f"An idea for Company {n}",
            message_body=f"Hi there,\n\nA first note for Company {n}.\n\nBest,\nSam\n",
            message_source="ai",
            message_generated_at=now - timezone.timedelta(minutes=n),
        )
        for n in range(count)
    ]


def test_a_reviewer_edits_and_approves_three_messages_and_only_those_three_are_sent(page, smtp, approving_cluster):
    leads = _waiting_leads(5)
    edited, approved, waiting = leads[0], leads[:3], leads[3:]
    page.goto(f"{page.base_url}/admin/leads/messagereview/")
    assert page.locator("#result_list tbody tr").count() == 5
    prefix = page.locator(f"input[name$='-id'][value='{edited.pk}']").get_attribute("name").removesuffix("-id")
    page.fill(f"textarea[name='{prefix}-message_body']", "Hi there,\n\nA note a person rewrote.\n\nBest,\nSam")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert "1 message to review was changed successfully" in page.locator(".messagelist").inner_text()
    assert [lead.message_source for lead in Lead.objects.order_by("pk")] == ["manual", "ai", "ai", "ai", "ai"]
    screenshot(page, "review-queue")
    for lead in approved:
        page.check(f"input.action-select[value='{lead.pk}']")
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "Approved 3 messages" in page.locator(".messagelist").inner_text()
    assert page.locator("#result_list tbody tr").count() == 2  # the queue holds what still waits

    _engage_through_the_preview(page, leads)
    assert "wait for approval" in page.locator("#awaiting-approval").inner_text()
    rows = page.locator("#engage-preview tbody tr").all_inner_texts()
    assert sum("defer: awaiting_approval" in row for row in rows) == 2
    page.click("input[type=submit][value='Send now']")
    page.wait_for_selector(".messagelist")
    assert _wait_for_the_engage_run().succeeded == 3
    assert sorted(smtp.recipients) == sorted(lead.email for lead in approved)
    [rewritten] = [r.message for r in smtp.received if r.to == edited.email]
    assert "A note a person rewrote." in rewritten.get_body(("plain",)).get_content()
    assert not OutboundEmail.objects.filter(lead__in=waiting).exists()


def test_the_lead_page_highlights_the_source_words_that_back_each_claim(page):
    call_command("loaddata", "demo_leads", verbosity=0)
    page.goto(f"{page.base_url}/admin/leads/lead/1/change/")
    marks = page.locator(".evidence-written-from mark").all_inner_texts()
    assert "builds calculating machines for research labs" in marks
    assert "Grounding check: passed" in page.locator(".evidence-check").inner_text()
    page.locator(".evidence").scroll_into_view_if_needed()
    screenshot(page, "lead-evidence")
    page.goto(f"{page.base_url}/admin/leads/lead/19/change/")  # the demo's lead whose name is markup
    assert page.locator("#id_name").input_value() == "<script>alert(1)</script>"
