"""The suppression list, with the bounce, complaint or unsubscribe message each entry came from."""

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.html import format_html

from leads.models import InboundKind, InboundMessage, Suppression, address_key

_FROM_INBOX = [InboundKind.BOUNCE_HARD, InboundKind.BOUNCE_SOFT, InboundKind.COMPLAINT, InboundKind.UNSUBSCRIBE]


class SuppressionForm(forms.ModelForm):
    class Meta:
        model = Suppression
        fields = ["address", "reason", "source"]

    def clean_address(self) -> str:
        """One row per person: another spelling of a listed address (case, Unicode or punycode domain) is refused."""
        address = self.cleaned_data["address"].strip()
        others = Suppression.objects.filter(address_key=address_key(address)).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("This address is on the suppression list already.")
        return address


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    form = SuppressionForm
    list_display = ["address", "reason", "source", "report", "created_at"]
    list_filter = ["reason", "source"]
    search_fields = ["address"]

    def get_queryset(self, request):
        # One subquery for the whole page: each address's latest report or request from the inbox.
        latest = (
            InboundMessage.objects.annotate(address_ci=Lower("address"))
            .filter(address_ci=Lower(OuterRef("address")), kind__in=_FROM_INBOX)
            .order_by("-received_at", "-id")
            .values("pk")[:1]
        )
        return super().get_queryset(request).annotate(report_id=Subquery(latest))

    @admin.display(description="Report")
    def report(self, obj: Suppression) -> str:
        if not getattr(obj, "report_id", None):
            return "-"
        url = reverse("admin:leads_inboundmessage_change", args=[obj.report_id])
        return format_html('<a href="{}">{}</a>', url, "inbound message")
