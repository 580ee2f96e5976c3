"""The admin site: Django's own, with the dashboard as its index (staff only, like every admin page)."""

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from leads.dashboard import panels
from pipeline import report

# The periods a person can pick; anything else shows the default.
PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30


class OutreachAdminSite(admin.AdminSite):
    site_header = "Outreach pipeline"
    site_title = "Outreach pipeline"
    index_title = "Dashboard"
    index_template = "admin/dashboard.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        """The dashboard over the last ?days=7|30|90 days; the model list stays in the sidebar."""
        try:
            days = int(request.GET.get("days", DEFAULT_DAYS))
        except ValueError:
            days = DEFAULT_DAYS
        if days not in PERIODS:
            days = DEFAULT_DAYS
        context = {**panels.context(report.run(days=days)), "periods": PERIODS, **(extra_context or {})}
        return super().index(request, context)
