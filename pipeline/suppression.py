"""The suppression list: addresses that must never be emailed, whatever lead row has them.

Every stage honours it: the engager reads it before each batch, the unsubscribe
page and the admin add to it, and so does the inbox (bounces, complaints,
unsubscribe requests).
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from leads.models import Lead, LeadStatus, Suppression, SuppressionReason
from outreach_site.logs import mask_email

logger = logging.getLogger(__name__)


def suppress(address: str, *, reason: str = SuppressionReason.DO_NOT_CONTACT, source: str = "") -> bool:
    """Put an address on the suppression list; False when it was there already (in any case).

    An unsubscribe also marks every lead row with the address `Unsubscribed`, to be
    pushed to Airtable. The engager reads the list before each batch, so no row with
    the address is emailed after this returns.
    """
    address = address.strip()
    try:  # insert, and let the case-insensitive unique constraint answer
        with transaction.atomic():
            Suppression.objects.create(address=address, reason=reason, source=source)
    except IntegrityError:
        added = False
    else:
        added = True
    if reason == SuppressionReason.UNSUBSCRIBED:
        (
            Lead.objects.annotate(address_ci=Lower("email"))
            .filter(address_ci=address.lower())
            .update(engagement_status=LeadStatus.UNSUBSCRIBED, pending_push=True)
        )
    logger.info("address suppressed", extra={"email": mask_email(address), "reason": reason, "source": source})
    return added


def suppress_many(addresses: list[str], *, reason: str = SuppressionReason.DO_NOT_CONTACT, source: str = "") -> int:
    """Put many addresses on the list in one insert; returns how many were new."""
    wanted: dict[str, str] = {}  # lower-cased -> as first written
    for address in addresses:
        if address.strip():
            wanted.setdefault(address.strip().lower(), address.strip())
    known = set(
        Suppression.objects.annotate(address_ci=Lower("address"))
        .filter(address_ci__in=wanted)
        .values_list("address_ci", flat=True)
    )
    new = [
        Suppression(address=address, reason=reason, source=source)
        for key, address in wanted.items()
        if key not in known
    ]
    # ignore_conflicts: an address added by someone else meanwhile is already where it should be.
    Suppression.objects.bulk_create(new, ignore_conflicts=True)
    logger.info("addresses suppressed", extra={"count": len(new), "reason": reason, "source": source})
    return len(new)
