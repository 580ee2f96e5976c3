"""Builders for test data: unique defaults, so each test shows only what it cares about."""

import itertools

from leads.models import Lead

_sequence = itertools.count(1)


def lead_fields(**overrides) -> dict:
    n = next(_sequence)
    fields = {
        "airtable_id": f"recTest{n:011d}",
        "email": f"person{n}@company{n}.example",
        "name": f"Person {n}",
        "job_title": "Head of Sales",
        "company_name": f"Company {n}",
        "website": f"company{n}.example",
        "email_confidence_level": "High",
    }
    fields.update(overrides)
    return fields


def make_lead(**overrides) -> Lead:
    """A saved lead that passes every rule unless the overrides say otherwise."""
    return Lead.objects.create(**lead_fields(**overrides))


def make_leads(count: int, **overrides) -> list[Lead]:
    """`count` saved leads in one bulk insert."""
    return Lead.objects.bulk_create([Lead(**lead_fields(**overrides)) for _ in range(count)])
