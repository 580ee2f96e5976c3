"""Pipeline runs: read-only records of what each job did."""

from django.contrib import admin
from django.http import HttpRequest

from leads.models import PipelineRun


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    """Read-only: a run is a record of what happened."""

    list_display = [
        "started_at",
        "job",
        "outcome",
        "dry_run",
        "processed",
        "succeeded",
        "skipped_total",
        "deferred",
        "failed",
        "finished_at",
    ]
    list_filter = ["job", "outcome", "dry_run"]
    search_fields = ["error"]
    ordering = ["-started_at", "-id"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
