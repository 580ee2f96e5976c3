"""Suppression and "already contacted" compare one canonical key, the same on every database."""

import pytest
from django.db import IntegrityError

from leads.models import Suppression, address_key
from pipeline import engage, suppression
from tests.builders import make_lead

pytestmark = pytest.mark.django_db


def test_the_key_folds_case_and_writes_the_domain_in_idna_ascii():
    assert address_key("Jane@BÜCHER.example") == "jane@xn--bcher-kva.example"
    assert address_key("jane@bücher.example") == address_key("JANE@xn--bcher-KVA.example")
    assert address_key(" Straße@Example.COM ") == "strasse@example.com"


@pytest.mark.parametrize("lead_address", ["jane@bücher.example", "JANE@xn--bcher-kva.example"])
def test_a_suppressed_address_stops_every_spelling_of_it(smtp, lead_address):
    suppression.suppress("Jane@BÜCHER.example", reason="unsubscribed")
    make_lead(email=lead_address)
    assert engage.run().skipped == {"suppressed": 1}
    assert smtp.received == []


def test_an_address_emailed_in_one_spelling_counts_as_contacted_in_another(smtp):
    make_lead(email="jane@bücher.example")
    assert engage.run().succeeded == 1
    make_lead(email="Jane@XN--BCHER-KVA.example")
    assert engage.run().skipped == {"already_contacted": 1}


def test_the_list_holds_one_row_per_person_whatever_the_spelling():
    Suppression.objects.create(address="Jane@BÜCHER.example")
    with pytest.raises(IntegrityError):
        Suppression.objects.create(address="jane@xn--bcher-kva.example")


def test_adding_many_spellings_at_once_adds_one_row():
    assert suppression.suppress_many(["jane@bücher.example", "JANE@xn--bcher-kva.example"], reason="bounced") == 1
