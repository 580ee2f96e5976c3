from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from outreach_site import health

admin.site.site_header = "Outreach pipeline"
admin.site.site_title = "Outreach pipeline"
admin.site.index_title = "Leads, messages and skip reasons"

urlpatterns = [
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
