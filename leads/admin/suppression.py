"""The suppression list."""

from django.contrib import admin

from leads.models import Suppression


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "source", "created_at"]
    list_filter = ["reason", "source"]
    search_fields = ["address"]
