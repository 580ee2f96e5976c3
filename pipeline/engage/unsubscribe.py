"""Unsubscribe links: the signed token in each email's one-click URL.

A token is the signed id of the email it was sent in: short, unforgeable without
SECRET_KEY, and no address in the URL (URLs end up in access logs). The address
suppressed (pipeline/suppression.py) is the one that email went to, whatever the
lead's address is now.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from leads.models import OutboundEmail

_SALT = "pipeline.unsubscribe"  # kept from the first release: links already sent stay valid


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
