"""Builders for test data: unique defaults, so each test shows only what it cares about."""

import itertools

from django.utils import timezone

from leads.models import EmailStatus, InboundMessage, Lead, OutboundEmail, address_key

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


def make_email(lead: Lead, **overrides):
    """A sent email to `lead` (touch 1 from the `default` mailbox, an AI message, sent now) unless overridden."""
    n = next(_sequence)
    fields = {
        "touch": 1,
        "recipient": lead.email,
        "mailbox": "default",
        "subject": f"A quick idea {n}",
        "body": "Hello",
        "message_source": "ai",
        "status": "sent",
        "message_id": f"<test{n}@outreach.example>",
        "sent_at": timezone.now(),
    }
    fields.update(overrides)
    return OutboundEmail.objects.create(lead=lead, **fields)


def sent_first_touches(leads: list[Lead], *, sent_at, prefix: str = "touch1") -> list[OutboundEmail]:
    """Touch 1 sent to each of `leads` at `sent_at`, in one bulk insert, each with its own Message-ID."""
    return OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                lead=lead,
                touch=1,
                recipient=lead.email,
                address_key=address_key(lead.email),
                subject=f"A quick idea for {lead.company_name}",
                body="Hi,\nA thought.\n",
                status=EmailStatus.SENT,
                message_id=f"<{prefix}-{lead.pk}@example.com>",
                sent_at=sent_at,
            )
            for lead in leads
        ],
        batch_size=1000,
    )


def make_inbound(kind: str, email=None, **overrides):
    """An inbound message of `kind` answering `email` (and its lead), received now unless overridden."""
    n = next(_sequence)
    fields = {
        "mailbox": "default",
        "message_id": f"<inbound{n}@mail.example>",
        "kind": kind,
        "email": email,
        "lead": email.lead if email else None,
        "received_at": timezone.now(),
    }
    fields.update(overrides)
    return InboundMessage.objects.create(**fields)
