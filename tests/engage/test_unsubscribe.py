"""One-click unsubscribe (RFC 8058): the link in the email a person received stops every email to that address."""

import re
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.test import Client

from leads.models import Lead, OutboundEmail, SkipLog, Suppression
from pipeline import engage, suppression
from pipeline.engage import unsubscribe
from tests.builders import make_lead
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, gunicorn

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    settings.OUTREACH_RECONTACT_DAYS = 0  # so that only the suppression can stop a second email
    with FakeSMTP() as server:
        server.use_in(settings)
        yield server


def _unsubscribe_path(received) -> str:
    url = re.findall(r"<(https?://[^>]+)>", str(received.message["List-Unsubscribe"]))[0]
    return urlsplit(url).path


def test_one_click_on_one_row_stops_the_email_to_another_row_in_other_case(smtp):
    make_lead(email="Ada@Engines.example")
    engage.run()
    path = _unsubscribe_path(smtp.received[0])
    # What a mail provider sends: no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    second_row = make_lead(email="ada@ENGINES.example")
    assert engage.run().skipped == {"suppressed": 1}
    assert SkipLog.objects.get(lead=second_row).detail.startswith("unsubscribed")
    assert len(smtp.received) == 1
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.source) == (
        "Ada@engines.example",
        "unsubscribed",
        "one-click",
    )


def test_an_unsubscribe_marks_every_row_with_the_address_for_airtable(smtp):
    lead = make_lead(email="ada@engines.example")
    twin = make_lead(email="ADA@engines.example", engagement_status="New")
    engage.run(lead_ids=[lead.pk])
    Client().post(_unsubscribe_path(smtp.received[0]))
    twin.refresh_from_db()
    assert (twin.engagement_status, twin.pending_push) == ("Unsubscribed", True)


def test_get_shows_one_button_and_changes_nothing(smtp):
    make_lead(email="ada@engines.example")
    engage.run()
    page = Client().get(_unsubscribe_path(smtp.received[0]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<button") == 1
    assert '<form method="post">' in html
    assert not Suppression.objects.exists()


def test_a_second_post_is_harmless(smtp):
    make_lead(email="ada@engines.example")
    engage.run()
    path = _unsubscribe_path(smtp.received[0])
    assert [Client().post(path).status_code for _ in range(2)] == [200, 200]
    assert Suppression.objects.count() == 1


@pytest.mark.parametrize("token", ["1:forged", "not-a-token", "99999:x"])
def test_a_damaged_or_forged_token_suppresses_nothing(token, client):
    email = OutboundEmail.objects.create(lead=make_lead(), recipient="ada@engines.example", subject="s", body="b")
    valid = unsubscribe.make_token(email.pk)
    assert token != valid
    assert client.post(f"/unsubscribe/{token}").status_code == 404
    assert client.post(f"/unsubscribe/{valid[:-2]}").status_code == 404
    assert not Suppression.objects.exists()


def test_the_token_does_not_carry_the_address():
    email = OutboundEmail.objects.create(lead=make_lead(), recipient="ada@engines.example", subject="s", body="b")
    assert "ada" not in unsubscribe.make_token(email.pk)


def test_suppress_many_adds_each_address_once_whatever_its_case():
    Suppression.objects.create(address="ada@engines.example")
    added = suppression.suppress_many(["ADA@engines.example", " grace@cobol.example ", "Grace@Cobol.example", " "])
    assert added == 1
    assert sorted(Suppression.objects.values_list("address", flat=True)) == [
        "ada@engines.example",
        "grace@cobol.example",
    ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_link_works_over_real_http(smtp, tmp_path):
    make_lead(email="ada@engines.example")
    engage.run()
    path = _unsubscribe_path(smtp.received[0])
    with gunicorn(env=django_env(), log=tmp_path / "gunicorn.log") as base:
        request = urllib.request.Request(base + path, data=b"List-Unsubscribe=One-Click", method="POST")  # noqa: S310 - a loopback URL
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback URL
            assert response.status == 200
    assert Suppression.objects.get().source == "one-click"
    assert Lead.objects.get().engagement_status == "Unsubscribed"
