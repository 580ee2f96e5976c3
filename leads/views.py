"""The public unsubscribe page: one-click POST (RFC 8058), and a page with one button for people."""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leads.models import SuppressionReason
from outreach_site.logs import mask_email
from pipeline import suppression
from pipeline.engage import unsubscribe as unsubscribing

logger = logging.getLogger(__name__)


# Mail providers POST `List-Unsubscribe=One-Click` with no cookie and no CSRF token;
# the signed token in the URL is what authorises the request.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button and changes nothing (link scanners follow GETs); POST unsubscribes."""
    email = unsubscribing.email_for(token)
    if email is None:
        return render(request, "leads/unsubscribe.html", {"state": "invalid"}, status=404)
    if request.method == "GET":
        return render(request, "leads/unsubscribe.html", {"state": "confirm", "address": email.recipient})
    source = "one-click" if request.POST.get("List-Unsubscribe") == "One-Click" else "link"
    suppression.suppress(email.recipient, reason=SuppressionReason.UNSUBSCRIBED, source=source)
    logger.info("unsubscribed", extra={"email": mask_email(email.recipient), "email_id": email.pk, "source": source})
    return render(request, "leads/unsubscribe.html", {"state": "done", "address": email.recipient})
