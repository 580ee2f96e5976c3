"""The filtered admin list behind each figure of the dashboard."""

from datetime import date, datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from leads.models import InboundKind


def changelist(model: str, **filters: object) -> str:
    """The admin list of `leads.<model>`, filtered by these lookups (None values left out)."""
    url = reverse(f"admin:leads_{model}_changelist")
    query = {key: value for key, value in filters.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url


def day_range(field: str, day: date) -> dict[str, str]:
    """Lookups for one local calendar day of a date-time field."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return {f"{field}__gte": start.isoformat(), f"{field}__lt": (start + timedelta(days=1)).isoformat()}


def sent(since: datetime, **filters: object) -> str:
    return changelist("outboundemail", status__exact="sent", sent_at__gte=since.isoformat(), **filters)


def answers(since: datetime, kind: str | None = None, **filters: object) -> str:
    """Inbound messages of `kind` (else every kind but `other`) received since `since`."""
    kinds = {"kind__exact": kind} if kind else {"kind__in": ",".join(k for k in InboundKind.values if k != "other")}
    return changelist("inboundmessage", **kinds, received_at__gte=since.isoformat(), **filters)


def leads(**filters: object) -> str:
    return changelist("lead", **filters)
