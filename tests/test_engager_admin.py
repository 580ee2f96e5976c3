"""The admin actions: preview what the engager would do, then do it; add addresses to the suppression list."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from leads.models import OutboundEmail, Suppression
from tests.builders import make_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def _act(admin_client, action, leads, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [lead.pk for lead in leads], **extra}
    return admin_client.post("/admin/leads/lead/", data, follow=True)


def test_engage_shows_the_decisions_first_and_sends_nothing(admin_client, smtp):
    ada = make_lead(name="Ada Lovelace")
    nobody = make_lead(name="No Address", email="")
    page = _act(admin_client, "engage_selected", [ada, nobody])
    html = page.content.decode()
    assert "Engage these leads?" in html
    assert "Would send 1, skip 1 (no_email 1), defer 0" in " ".join(html.split())
    assert "skip: no_email" in html
    assert 'name="post" value="yes"' in html
    assert smtp.received == []
    assert not OutboundEmail.objects.exists()


def test_engage_sends_after_confirmation_to_the_selected_leads_only(admin_client, smtp):
    ada, grace, other = make_lead(), make_lead(), make_lead()
    page = _act(admin_client, "engage_selected", [ada, grace], post="yes")
    assert "Sent 2, skipped 0 (none), deferred 0, failed 0." in page.content.decode()
    assert sorted(smtp.recipients) == sorted([ada.email, grace.email])
    assert not other.emails.exists()


def test_engage_reports_an_unreachable_server(admin_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    from tests.processes import free_port

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    page = _act(admin_client, "engage_selected", [make_lead()], post="yes")
    assert "Nothing more was sent: Could not connect to the SMTP server" in page.content.decode()


def test_add_to_suppression_list(admin_client):
    leads = [make_lead(email="ada@engines.example"), make_lead(email="ADA@engines.example"), make_lead(email="")]
    Suppression.objects.create(address="grace@cobol.example")
    leads.append(make_lead(email="Grace@Cobol.example"))
    page = _act(admin_client, "suppress_selected", leads)
    assert "1 addresses added to the suppression list; 2 were on it already or repeated; 1 leads have no address." in (
        page.content.decode()
    )
    assert sorted(Suppression.objects.values_list("address", "source")) == [
        ("ada@engines.example", "admin"),
        ("grace@cobol.example", ""),
    ]
