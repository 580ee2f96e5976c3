"""SITE_URL as the links in emails need it: public and HTTPS, or the unsubscribe links are dead.

The default (`http://localhost:8080`) suits a laptop, where emails are files. With a
real mail server or an ESP, a recipient would get a link to their own machine, so the
engager refuses to send (`refuse_local_links`, per email backend: each mailbox may have
its own), unless OUTREACH_ALLOW_LOCAL_LINKS says the links are meant to be local. A
system check warns about it too, at `check --deploy` and when the cluster starts.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

# Backends that deliver to no one: the links in what they write are never clicked by a lead.
LOCAL_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)


def problem(site_url: str) -> str | None:
    """Why links under `site_url` would not work for a recipient, or None when it is public HTTPS."""
    parts = urlsplit(site_url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return "a loopback address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_unspecified):
        return "a loopback address"
    if parts.scheme != "https":
        return "not HTTPS"
    return None


def refuse_local_links(backend: str | BaseEmailBackend) -> None:
    """Raise ImproperlyConfigured when `backend` delivers real email and SITE_URL would make its links dead."""
    path = backend if isinstance(backend, str) else f"{type(backend).__module__}.{type(backend).__qualname__}"
    if path in LOCAL_BACKENDS or settings.OUTREACH_ALLOW_LOCAL_LINKS:
        return
    if found := problem(settings.SITE_URL):
        raise ImproperlyConfigured(
            f"SITE_URL ({settings.SITE_URL}) is {found}: the unsubscribe links would not work for recipients. "
            "Set SITE_URL to this site's public https:// address, or OUTREACH_ALLOW_LOCAL_LINKS=true"
        )


def check_site_url(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: a warning for a loopback or plain-HTTP SITE_URL when DEBUG is off."""
    if settings.DEBUG or settings.OUTREACH_ALLOW_LOCAL_LINKS:
        return []
    found = problem(settings.SITE_URL)
    if found is None:
        return []
    return [
        checks.Warning(
            f"SITE_URL ({settings.SITE_URL}) is {found}: unsubscribe links in emails will not work.",
            hint="Set SITE_URL to this site's public https:// address; the engager refuses to send real email "
            "with this one unless OUTREACH_ALLOW_LOCAL_LINKS=true.",
            id="pipeline.W001",
        )
    ]
