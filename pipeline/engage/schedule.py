"""When may a lead be emailed: its time zone, the send window and days, in its own zone.
No database, no network: values in, answers out.

A lead's zone is what its Airtable field says (an IANA name such as `Europe/Berlin`, a
UTC offset such as `UTC+05:30`, or a country's ISO code or name, read as the country's
main zone from tzdata's zone1970.tab), else OUTREACH_TIME_ZONE. Every comparison turns
the instant (UTC) into the zone's local time with zoneinfo, so a day on which clocks
change is handled like any other: 09:00 local is whatever UTC instant it is that day.
"""

import functools
import importlib.resources
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Everyday names that iso3166.tab spells otherwise ("Britain (UK)").
_COUNTRY_ALIASES = {
    "uk": "gb",
    "united kingdom": "gb",
    "great britain": "gb",
    "usa": "us",
    "united states of america": "us",
}
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Window:
    """Local hours [start, end) on the given weekdays (0 = Monday); `always` when no window is set."""

    start: time = time.min
    end: time = time.min
    days: frozenset[int] = frozenset(range(7))
    always: bool = True

    def is_open(self, moment: datetime, zone: tzinfo) -> bool:
        """Whether `moment` (aware) falls inside the window in `zone`."""
        if self.always:
            return True
        local = moment.astimezone(zone)
        if local.weekday() not in self.days:
            return False
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end  # a window across midnight, 22:00-06:00

    def next_open(self, moment: datetime, zone: tzinfo) -> datetime:
        """The first instant at or after `moment` inside the window, in `zone`'s local time."""
        if self.is_open(moment, zone):
            return moment.astimezone(zone)
        local = moment.astimezone(zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            start = _local(day, self.start, zone)
            if day.weekday() in self.days and start > local:
                return start
        raise AssertionError("a window with days opens within a week")  # pragma: no cover

    def describe(self) -> str:
        if self.always:
            return "any time"
        days = ",".join(DAY_NAMES[day] for day in sorted(self.days))
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


def _local(day: date, clock: time, zone: tzinfo) -> datetime:
    """`clock` on `day` in `zone`, as a real instant (a time skipped by a clock change moves past the gap)."""
    naive = datetime.combine(day, clock)
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def window(text: str, days: str) -> Window:
    """OUTREACH_SEND_WINDOW (`09:00-17:00`, empty: any time) and OUTREACH_SEND_DAYS (`mon-fri`, `mon,wed`)."""
    text = "".join(text.split())
    if not text:
        return Window()
    start_text, _, end_text = text.partition("-")
    return Window(start=_clock(start_text), end=_clock(end_text), days=parse_days(days), always=False)


def _clock(text: str) -> time:
    hours, _, minutes = text.partition(":")
    if int(hours) == 24:
        return time.max
    return time(int(hours), int(minutes or 0))


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri` or `mon,wed,fri` (or `fri-mon`, wrapping) as weekday numbers; empty: every day."""
    found: set[int] = set()
    for part in filter(None, "".join(text.split()).lower().split(",")):
        first, _, last = part.partition("-")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        found.update((start + step) % 7 for step in range((end - start) % 7 + 1))
    return frozenset(found) if found else frozenset(range(7))


@functools.cache
def zone(text: str) -> tzinfo | None:
    """The zone a lead's field names, or None when it names none we know."""
    text = " ".join(str(text).split())
    if not text:
        return None
    match = _OFFSET.match(text)
    if match and (text[0] in "+-" or text[:3].lower() in {"utc", "gmt"}):
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta > timedelta(hours=14):
            return None
        delta = -delta if sign == "-" else delta
        return timezone(delta, f"UTC{sign}{int(hours):02d}:{int(minutes or 0):02d}")
    if text.lower() in {"utc", "gmt", "z"}:
        return UTC
    key = _COUNTRY_ALIASES.get(text.lower(), text.lower())
    name = _country_zones().get(key) or _zone_names().get(key)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # pragma: no cover - listed by tzdata, so present
        return None


def zone_label(tz: tzinfo) -> str:
    """How a zone is named to a person: `Europe/Berlin`, `UTC+05:30`."""
    return getattr(tz, "key", None) or tz.tzname(None) or "UTC"


@functools.cache
def _zone_names() -> dict[str, str]:
    """Lower-cased IANA name -> its spelling."""
    return {name.lower(): name for name in available_timezones()}


@functools.cache
def _country_zones() -> dict[str, str]:
    """Lower-cased ISO 3166 code or country name -> the country's first zone in zone1970.tab."""
    root = importlib.resources.files("tzdata").joinpath("zoneinfo")
    first: dict[str, str] = {}
    shared: dict[str, str] = {}  # zones a country shares with another listed first (Busingen's Europe/Zurich)
    for line in root.joinpath("zone1970.tab").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        codes, _, name = line.split("\t")[:3]
        lead, *others = codes.lower().split(",")
        first.setdefault(lead, name)
        for code in others:
            shared.setdefault(code, name)
    first = {**shared, **first}
    found = dict(first)
    for line in root.joinpath("iso3166.tab").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, country = line.split("\t")[:2]
        if code.lower() in first:
            found.setdefault(country.strip().lower(), first[code.lower()])
    return found


def lead_zone(text: str, default: str) -> tzinfo:
    """The lead's zone: its field's, else `default` (OUTREACH_TIME_ZONE), else UTC."""
    return zone(text) or zone(default) or UTC


def open_values(values: Iterable[str], moment: datetime, win: Window, *, default: str) -> set[str]:
    """The stored zone values (as leads hold them) whose window is open at `moment`."""
    return {value for value in values if win.is_open(moment, lead_zone(value, default))}


def next_window(text: str, moment: datetime, win: Window, *, default: str) -> str:
    """For a person: "next window Mon 09:00 Europe/Berlin"."""
    tz = lead_zone(text, default)
    start = win.next_open(moment, tz)
    return f"next window {DAY_NAMES[start.weekday()].capitalize()} {start:%H:%M} {zone_label(tz)}"
