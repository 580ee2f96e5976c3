"""The database itself refuses a second email per touch, a duplicate suppression
in another case, and a skip without a reason."""

import pytest
from django.db import IntegrityError, transaction

from leads.models import EmailStatus, OutboundEmail, SkipLog, Suppression
from tests.builders import make_lead

pytestmark = pytest.mark.django_db


def _email(lead, **overrides):
    fields = {"lead": lead, "recipient": lead.email, "subject": "Hello", "body": "Hi", "status": EmailStatus.SENDING}
    return OutboundEmail.objects.create(**{**fields, **overrides})


def test_a_second_email_to_the_same_lead_at_the_same_touch_is_impossible():
    lead = make_lead()
    _email(lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        _email(lead)
    assert _email(lead, touch=2).touch == 2


def test_suppression_is_unique_whatever_the_case():
    Suppression.objects.create(address="Jane@Acme.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Suppression.objects.create(address="jane@acme.COM")


def test_an_engage_skip_needs_a_contract_reason():
    lead = make_lead()
    with pytest.raises(IntegrityError), transaction.atomic():
        SkipLog.objects.create(lead=lead, stage="engage", reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        SkipLog.objects.create(lead=lead, stage="engage", reason="felt_like_it")
    assert SkipLog.objects.create(lead=lead, stage="scrape", reason="", detail="timeout").detail == "timeout"


def test_an_unknown_email_status_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        _email(make_lead(), status="lost")


def test_display_name_falls_back_to_company_then_record_id():
    assert make_lead(name=" ", company_name="Acme").display_name == "Acme"
    assert make_lead(name="", company_name="", airtable_id="recX").display_name == "recX"
