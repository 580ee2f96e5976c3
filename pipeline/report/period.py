"""The report's period: the last N calendar days in the site's time zone, today included."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone


@dataclass(frozen=True, slots=True)
class Period:
    days: int
    since: datetime  # midnight, local time, at the start of the first day
    today: date
    now: datetime

    @property
    def dates(self) -> list[date]:
        """Every day of the period, oldest first."""
        return [self.today - timedelta(days=offset) for offset in range(self.days - 1, -1, -1)]

    @property
    def today_start(self) -> datetime:
        return _midnight(self.today)


def last_days(days: int, *, now: datetime | None = None) -> Period:
    """The period of `days` calendar days that ends today; raises ValueError for fewer than one day."""
    if days < 1:
        raise ValueError("--days must be 1 or more")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    return Period(days=days, since=_midnight(today - timedelta(days=days - 1)), today=today, now=now)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
