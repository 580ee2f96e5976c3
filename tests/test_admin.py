"""The admin a reviewer uses: find leads, see why each was skipped, trust what it shows."""

import pytest

from leads.models import PipelineRun, SkipLog, Suppression
from tests.builders import make_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def test_admin_is_staff_only(client):
    response = client.get("/admin/leads/lead/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_leads_search_finds_by_email_name_and_company(admin_client):
    make_lead(name="Ada Lovelace", email="ada@engines.example", company_name="Analytical")
    make_lead(name="Grace Hopper", email="grace@cobol.example", company_name="Cobol Co")
    for term in ("engines.example", "Lovelace", "Analytical"):
        page = admin_client.get("/admin/leads/lead/", {"q": term}).content.decode()
        assert "Ada Lovelace" in page
        assert "Grace Hopper" not in page


def test_leads_filter_by_skipped_and_has_message(admin_client):
    skipped = make_lead(name="Skipped One")
    SkipLog.objects.create(lead=skipped, stage="engage", reason="no_email")
    make_lead(name="With Message", message_body="Hello there", message_source="ai")
    page = admin_client.get("/admin/leads/lead/", {"skipped": "yes"}).content.decode()
    assert "Skipped One" in page
    assert "With Message" not in page
    page = admin_client.get("/admin/leads/lead/", {"has_message": "yes", "message_source": "ai"}).content.decode()
    assert "With Message" in page
    assert "Skipped One" not in page


def test_a_lead_name_with_html_is_shown_as_text(admin_client):
    lead = make_lead(name="<script>alert(1)</script>")
    for url in ("/admin/leads/lead/", f"/admin/leads/lead/{lead.pk}/change/"):
        page = admin_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_lead_page_shows_its_skip_logs_inline(admin_client):
    lead = make_lead()
    SkipLog.objects.create(lead=lead, stage="engage", reason="suppressed", detail="unsubscribed 2026-03-01")
    page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "unsubscribed 2026-03-01" in page


def test_skip_log_list_counts_each_reason_of_the_filtered_list(admin_client):
    for reason, count in (("no_email", 3), ("suppressed", 2)):
        for _ in range(count):
            SkipLog.objects.create(lead=make_lead(), stage="engage", reason=reason)
    response = admin_client.get("/admin/leads/skiplog/")
    counts = {(row["reason"], row["count"]) for row in response.context_data["reason_counts"]}
    assert counts == {("no_email", 3), ("suppressed", 2)}
    assert 'id="reason-counts"' in response.content.decode()
    filtered = admin_client.get("/admin/leads/skiplog/", {"reason__exact": "suppressed"})
    assert [row["count"] for row in filtered.context_data["reason_counts"]] == [2]


def test_pipeline_runs_are_read_only_and_newest_first(admin_client):
    older = PipelineRun.objects.create(job="scrape")
    newer = PipelineRun.objects.create(job="engage")
    response = admin_client.get("/admin/leads/pipelinerun/")
    assert list(response.context_data["cl"].result_list) == [newer, older]
    assert admin_client.get("/admin/leads/pipelinerun/add/").status_code == 403
    page = admin_client.get(f"/admin/leads/pipelinerun/{older.pk}/change/").content.decode()
    assert 'name="_save"' not in page


def test_suppression_list_is_editable(admin_client):
    response = admin_client.post(
        "/admin/leads/suppression/add/", {"address": "jane@acme.example", "reason": "do_not_contact", "source": "admin"}
    )
    assert response.status_code == 302
    assert Suppression.objects.get().address == "jane@acme.example"
    duplicate = admin_client.post(
        "/admin/leads/suppression/add/", {"address": "JANE@acme.example", "reason": "bounced", "source": "admin"}
    )
    assert duplicate.status_code == 200  # the form comes back with the error, nothing saved
    assert Suppression.objects.count() == 1
