"""The suppression list: addresses that must never be emailed, whatever lead row has them.

Every stage honours it: the engager reads it before each batch, the unsubscribe
page and the admin add to it, and so does the inbox (bounces, complaints,
unsubscribe requests).
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from leads.models import Lead, LeadStatus, Suppression, SuppressionReason, address_key
from outreach_site.logs import mask_email

logger = logging.getLogger(__name__)

# Reason -> the status every lead row with the address gets, to be pushed to Airtable.
# A person's do-not-contact entry (the admin) changes no status.
STATUS_FOR = {
    SuppressionReason.UNSUBSCRIBED: LeadStatus.UNSUBSCRIBED,
    SuppressionReason.BOUNCED: LeadStatus.BOUNCED,
    SuppressionReason.COMPLAINED: LeadStatus.DO_NOT_CONTACT,
}
# Statuses a later suppression never overwrites with a weaker one: a complaint outranks an
# unsubscribe, which outranks a bounce (each a reason not to email, the first the strongest).
_RANK = [LeadStatus.DO_NOT_CONTACT, LeadStatus.UNSUBSCRIBED, LeadStatus.BOUNCED]


def suppress(address: str, *, reason: str = SuppressionReason.DO_NOT_CONTACT, source: str = "") -> bool:
    """Put an address on the suppression list; False when it was there already (in any case).

    An unsubscribe, a bounce or a complaint also marks every lead row with the address
    (`STATUS_FOR`), to be pushed to Airtable. The engager reads the list before each
    batch, so no row with the address is emailed after this returns.
    """
    address = address.strip()
    try:  # insert, and let the unique constraint on the canonical key answer
        with transaction.atomic():
            Suppression.objects.create(address=address, reason=reason, source=source)
    except IntegrityError:
        added = False
    else:
        added = True
    mark_leads([address], reason=reason)
    logger.info("address suppressed", extra={"email": mask_email(address), "reason": reason, "source": source})
    return added


def suppress_many(addresses: list[str], *, reason: str = SuppressionReason.DO_NOT_CONTACT, source: str = "") -> int:
    """Put many addresses on the list in one insert, and mark their leads as `suppress` does; returns how many
    were new."""
    wanted: dict[str, str] = {}  # canonical key -> as first written
    for address in addresses:
        if address.strip():
            wanted.setdefault(address_key(address), address.strip())
    known = set(Suppression.objects.filter(address_key__in=wanted).values_list("address_key", flat=True))
    new = [
        Suppression(address=address, address_key=key, reason=reason, source=source)
        for key, address in wanted.items()
        if key not in known
    ]
    # ignore_conflicts: an address added by someone else meanwhile is already where it should be.
    Suppression.objects.bulk_create(new, ignore_conflicts=True)
    mark_leads(list(wanted.values()), reason=reason)
    logger.info("addresses suppressed", extra={"count": len(new), "reason": reason, "source": source})
    return len(new)


def mark_leads(addresses: list[str], *, reason: str) -> int:
    """Give every lead row with one of the addresses (any case) the status of `reason`, in one update;
    a stronger status already there stays. Returns the rows changed."""
    status = STATUS_FOR.get(reason)
    if status is None or not addresses:
        return 0
    stronger = _RANK[: _RANK.index(status)]
    return (
        Lead.objects.annotate(address_ci=Lower("email"))
        .filter(address_ci__in={address.strip().lower() for address in addresses})
        .exclude(engagement_status__in=[status, *stronger])
        .update(engagement_status=status, pending_push=True)
    )
