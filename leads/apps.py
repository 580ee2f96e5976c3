from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LeadsConfig(AppConfig):
    default = True
    name = "leads"
    verbose_name = "Outreach"


class OutreachAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the outreach dashboard as its index (in INSTALLED_APPS in place of
    `django.contrib.admin`). The site lives outside `leads.admin`, which registers on it."""

    default = False  # named in INSTALLED_APPS; `leads` itself is LeadsConfig
    default_site = "leads.dashboard.site.OutreachAdminSite"
