"""Skip logs: why each lead was left alone, with the count per reason above the list."""

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest

from leads.models import SkipLog


@admin.register(SkipLog)
class SkipLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "lead", "stage", "reason", "detail", "run"]
    list_filter = ["reason", "stage", "created_at"]
    search_fields = ["lead__email", "lead__name", "lead__company_name", "detail"]
    list_select_related = ["lead", "run"]
    date_hierarchy = "created_at"
    # One query counts every reason of the filtered list, shown above it.
    change_list_template = "admin/leads/skiplog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["reason_counts"] = list(
                changelist.queryset.order_by()
                .values("reason", "stage")
                .annotate(count=Count("id"))
                .order_by("-count", "reason")
            )
        return response
