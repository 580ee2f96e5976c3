"""The review queue: which messages wait for a person, and what a person does with them.

With OUTREACH_APPROVAL=first (the default) or `all`, the engager defers a lead whose
message nobody approved (`awaiting_approval`). Approving records who and when, in one
bulk UPDATE for a whole selection; anything that writes the message again (a person's
edit, the generator) clears the approval, so what goes out is what a person read.
Excluding marks the lead `Do Not Contact` and queues that for Airtable.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from leads.models import FollowUpMessage, Lead, LeadStatus, MessageSource, OutboundEmail

# The fields a person edits when they rewrite a message.
MESSAGE_FIELDS = frozenset({"message_subject", "message_body"})


@dataclass(frozen=True, slots=True)
class Approved:
    """What one Approve did: leads approved now, and those it left alone, by why."""

    approved: int
    no_message: int  # nothing to approve yet: generate first, or write one
    contacted: int  # already emailed: approval is for what has not gone out
    followups: int = 0  # follow-ups written ahead, approved with their lead (OUTREACH_APPROVAL=all)


def _contacted() -> Exists:
    return Exists(OutboundEmail.objects.filter(lead=OuterRef("pk")))


def waiting(leads: QuerySet | None = None) -> QuerySet:
    """Leads whose message waits for approval, newest message first: not contacted, not skipped, not excluded."""
    leads = Lead.objects.all() if leads is None else leads
    excluded = settings.OUTREACH_EXCLUDED_STATUSES  # case-folded by the settings
    return (
        leads.filter(message_approved_at=None, skip_reason="")
        .exclude(message_body__regex=r"^\s*$")
        .exclude(email="")
        .exclude(_contacted())
        .annotate(status_key=Lower("engagement_status"))
        .exclude(status_key__in=excluded)
        .order_by("-message_generated_at", "-pk")
    )


def approve(leads: QuerySet, *, user, now: datetime | None = None) -> Approved:
    """Approve these leads' messages as `user`, in one UPDATE; leads with none, or emailed already, stay as they are.

    The follow-ups written ahead for them are approved too (one more UPDATE): with OUTREACH_APPROVAL=all
    a follow-up waits for a person as touch 1 does."""
    now = now or timezone.now()
    selected = leads.count()
    has_message = ~Q(message_body__regex=r"^\s*$")
    contacted = leads.filter(_contacted()).count()
    approved = (
        Lead.objects.filter(pk__in=leads.values("pk"))
        .filter(has_message)
        .exclude(_contacted())
        .update(message_approved_at=now, message_approved_by=user, updated_at=now)
    )
    followups = FollowUpMessage.objects.filter(lead__in=leads.values("pk"), approved_at=None).update(approved_at=now)
    return Approved(
        approved=approved, no_message=selected - approved - contacted, contacted=contacted, followups=followups
    )


def exclude(leads: QuerySet, *, now: datetime | None = None) -> int:
    """Mark these leads `Do Not Contact` (pushed to Airtable on the next push); the engager skips them."""
    now = now or timezone.now()
    return Lead.objects.filter(pk__in=leads.values("pk")).update(
        engagement_status=LeadStatus.DO_NOT_CONTACT,
        pending_push=True,
        message_approved_at=None,
        message_approved_by=None,
        updated_at=now,
    )


def record_edit(lead: Lead, changed: set[str] | frozenset[str]) -> None:
    """A person changed these fields of the lead (not yet saved): a new message is theirs and waits again."""
    if not changed & MESSAGE_FIELDS:
        return
    lead.message_source = MessageSource.MANUAL
    lead.message_approved_at = None
    lead.message_approved_by = None
