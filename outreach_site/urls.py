from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from leads import views as leads_views
from outreach_site import health

urlpatterns = [
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("admin/", admin.site.urls),
    path("unsubscribe/<str:token>", leads_views.unsubscribe, name="unsubscribe"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
# ESP webhooks (django-anymail's own views and checks), served only behind their basic-auth secret.
if settings.ANYMAIL_WEBHOOK_SECRET:
    urlpatterns.append(path("anymail/", include("anymail.urls")))
