"""The review queue in the admin: what waits, what a reviewer sees, and what each action does."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from leads.models import Lead, OutboundEmail
from tests.builders import make_lead
from tests.engage.test_admin_actions import _queued_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

QUEUE = "/admin/leads/messagereview/"
DESCRIPTION = "Engines builds calculating machines <b>for</b> research labs."


def _waiting(**overrides) -> Lead:
    fields = {"message_subject": "An idea", "message_body": "Hi there.\n", "message_source": "ai"}
    return make_lead(**{**fields, **overrides})


def _evidence(text: str = DESCRIPTION) -> dict:
    quote = "calculating machines <b>for</b> research"
    start = text.index(quote)
    return {
        "written_from": {"company_description": text, "company": "Engines"},
        "check": "passed",
        "claims": [
            {
                "claim": "what it builds",
                "quote": quote,
                "source": "company_description",
                "start": start,
                "end": start + len(quote),
                "score": 100.0,
            }
        ],
        "problems": [],
    }


def _act(admin_client, url, action, leads, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [lead.pk for lead in leads], **extra}
    return admin_client.post(url, data, follow=True)


def test_the_queue_lists_waiting_messages_newest_first(admin_client):
    now = timezone.now()
    older = _waiting(name="Older One", message_generated_at=now - timezone.timedelta(hours=2))
    newer = _waiting(name="Newer One", message_generated_at=now)
    _waiting(name="Approved One", message_approved_at=now)
    make_lead(name="No Message")
    _waiting(name="Excluded One", engagement_status="Do Not Contact")
    contacted = _waiting(name="Contacted One")
    OutboundEmail.objects.create(lead=contacted, recipient=contacted.email, subject="s", body="b")
    response = admin_client.get(QUEUE)
    assert [lead.pk for lead in response.context_data["cl"].result_list] == [newer.pk, older.pk]


def test_each_message_shows_its_source_facts_and_evidence_with_the_backed_words_marked(admin_client):
    lead = _waiting(name="Ada Lovelace", company_description=DESCRIPTION, message_evidence=_evidence())
    page = admin_client.get(QUEUE).content.decode()
    assert "calculating machines &lt;b&gt;for&lt;/b&gt; research" in page
    assert "<mark>calculating machines &lt;b&gt;for&lt;/b&gt; research</mark>" in page
    assert "<b>for</b>" not in page
    assert "AI" in page
    assert 'name="form-0-message_body"' in page
    lead_page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "Grounding check: passed" in lead_page
    assert "<mark>calculating machines &lt;b&gt;for&lt;/b&gt; research</mark>" in lead_page


def test_approve_is_one_update_for_the_selection_and_records_who_and_when(
    admin_client, admin_user, django_assert_max_num_queries
):
    leads = [_waiting() for _ in range(20)]
    empty = make_lead()
    with django_assert_max_num_queries(15):  # 14 for 21 leads: the session, the counts, one UPDATE, the list again
        page = _act(admin_client, "/admin/leads/lead/", "approve_selected", [*leads, empty]).content.decode()
    assert "Approved 20 messages: they go out with the next engage run. Left alone: 1 had no message yet" in page
    assert Lead.objects.filter(message_approved_by=admin_user).exclude(message_approved_at=None).count() == 20
    assert admin_client.get(QUEUE).context_data["cl"].result_count == 0
    queued = _waiting()
    assert "Approved 1 message:" in _act(admin_client, QUEUE, "approve_selected", [queued]).content.decode()


def _lead_page_data(admin_client, lead: Lead, **changes: str) -> dict:
    """What the lead's page posts back: its fields as shown, with `changes`, and empty inlines."""
    form = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    inlines = {f"{prefix}-{count}_FORMS": "0" for prefix in ("skip_logs", "emails") for count in ("TOTAL", "INITIAL")}
    return {**data, **inlines, **changes}


def test_an_edit_after_approval_needs_approval_again(admin_client, admin_user):
    lead = _waiting(message_approved_at=timezone.now(), message_approved_by=admin_user)
    data = _lead_page_data(admin_client, lead, message_subject="A better idea", message_body="Hi Ada, a better note.")
    response = admin_client.post(f"/admin/leads/lead/{lead.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert (lead.message_body, lead.message_source) == ("Hi Ada, a better note.", "manual")
    assert (lead.message_approved_at, lead.message_approved_by) == (None, None)


def test_a_message_edited_in_the_queue_is_saved_as_the_persons(admin_client):
    lead = _waiting(message_body="Old words.")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(lead.pk),
        "form-0-message_subject": "New subject",
        "form-0-message_body": "New words.",
        "_save": "Save",
    }
    response = admin_client.post(QUEUE, data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.message_subject, lead.message_body, lead.message_source) == ("New subject", "New words.", "manual")


def test_regenerate_is_queued_on_the_cluster_for_the_selection(admin_client):
    _queued_tasks()
    leads = [_waiting(), _waiting()]
    page = _act(admin_client, "/admin/leads/lead/", "regenerate_selected", leads).content.decode()
    assert "Queued on the cluster: 2 messages are written again" in page
    [task] = _queued_tasks()
    assert task["func"] == "pipeline.jobs.tasks.run_generate"
    assert (sorted(task["kwargs"]["lead_ids"]), task["kwargs"]["rewrite"]) == (sorted(lead.pk for lead in leads), True)


def test_exclude_marks_do_not_contact_for_the_next_push(admin_client):
    lead, other = _waiting(), _waiting()
    page = _act(admin_client, QUEUE, "exclude_selected", [lead]).content.decode()
    assert "1 lead marked Do Not Contact; the next push writes it to Airtable." in page
    lead.refresh_from_db()
    other.refresh_from_db()
    assert (lead.engagement_status, lead.pending_push) == ("Do Not Contact", True)
    assert (other.engagement_status, other.pending_push) == ("", False)


def test_saving_the_lead_page_without_touching_the_message_keeps_its_approval(admin_client, admin_user):
    """Browsers send a textarea back with CRLF line ends; that is no edit."""
    approved_at = timezone.now()
    lead = _waiting(
        message_body="Hi Ada,\n\nA note.\n", message_approved_at=approved_at, message_approved_by=admin_user
    )
    data = _lead_page_data(admin_client, lead, message_body="Hi Ada,\r\n\r\nA note.\r\n", name="Ada Renamed")
    assert admin_client.post(f"/admin/leads/lead/{lead.pk}/change/", data).status_code == 302
    lead.refresh_from_db()
    assert (lead.name, lead.message_body, lead.message_source) == ("Ada Renamed", "Hi Ada,\n\nA note.\n", "ai")
    assert lead.message_approved_at == approved_at
