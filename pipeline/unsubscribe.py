"""Unsubscribe links and the suppression list.

A token is the signed id of the email it was sent in: short, unforgeable without
SECRET_KEY, and no address in the URL (URLs end up in access logs). The address
suppressed is the one that email went to, whatever the lead's address is now.
"""

import logging

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse

from leads.models import Lead, OutboundEmail, Suppression, SuppressionReason
from outreach_site.logs import mask_email

logger = logging.getLogger(__name__)

_SALT = "pipeline.unsubscribe"
# Written to every lead row with an address that unsubscribed, for the team to see in Airtable.
UNSUBSCRIBED_STATUS = "Unsubscribed"


def make_token(email_id: int) -> str:
    """The token for the unsubscribe link of one outbound email."""
    return signing.Signer(salt=_SALT).sign(str(email_id))


def link(email_id: int) -> str:
    """The absolute one-click unsubscribe URL for one outbound email (SITE_URL + /unsubscribe/<token>)."""
    return settings.SITE_URL + reverse("unsubscribe", args=[make_token(email_id)])


def email_for(token: str) -> OutboundEmail | None:
    """The email a token was made for; None when the token is forged, damaged or unknown."""
    try:
        email_id = int(signing.Signer(salt=_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return OutboundEmail.objects.filter(pk=email_id).first()


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
            .update(engagement_status=UNSUBSCRIBED_STATUS, pending_push=True)
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
