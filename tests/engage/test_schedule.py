"""When a lead may be emailed, in its own time zone: pure functions, no database."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.engage import schedule

WORKDAY = schedule.window("09:00-17:00", "mon-fri")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("UTC+05:30", "UTC+05:30"),
        ("GMT-3", "UTC-03:00"),
        ("+0545", "UTC+05:45"),
        ("DE", "Europe/Berlin"),
        ("Germany", "Europe/Berlin"),
        ("in", "Asia/Kolkata"),
        ("United Kingdom", "Europe/London"),
        ("Japan", "Asia/Tokyo"),
    ],
)
def test_a_lead_zone_is_read_from_a_name_an_offset_or_a_country(text, name):
    assert schedule.zone_label(schedule.zone(text)) == name


def test_an_unknown_zone_falls_back_to_the_default():
    assert schedule.zone("Atlantis") is None
    assert schedule.zone_label(schedule.lead_zone("Atlantis", "America/Chicago")) == "America/Chicago"
    assert schedule.zone_label(schedule.lead_zone("", "Europe/Paris")) == "Europe/Paris"


def test_the_window_opens_at_nine_local_on_the_spring_changeover_day():
    """Europe/Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026; on Monday 30 March 09:00 is 07:00 UTC."""
    berlin = ZoneInfo("Europe/Berlin")
    assert not WORKDAY.is_open(datetime(2026, 3, 30, 6, 59, tzinfo=UTC), berlin)
    assert WORKDAY.is_open(datetime(2026, 3, 30, 7, 0, tzinfo=UTC), berlin)
    # The Friday before, still winter time: 09:00 was 08:00 UTC.
    assert not WORKDAY.is_open(datetime(2026, 3, 27, 7, 30, tzinfo=UTC), berlin)
    assert WORKDAY.is_open(datetime(2026, 3, 27, 8, 0, tzinfo=UTC), berlin)


def test_the_window_follows_new_york_across_the_autumn_changeover():
    """New York leaves daylight time on Sunday 1 November 2026: 17:00 local is 21:00 UTC before, 22:00 UTC after."""
    new_york = ZoneInfo("America/New_York")
    assert not WORKDAY.is_open(datetime(2026, 10, 30, 21, 0, tzinfo=UTC), new_york)
    assert WORKDAY.is_open(datetime(2026, 11, 2, 21, 30, tzinfo=UTC), new_york)
    assert not WORKDAY.is_open(datetime(2026, 11, 2, 22, 0, tzinfo=UTC), new_york)


def test_a_half_hour_zone_opens_at_its_own_nine():
    kolkata = schedule.zone("Asia/Kolkata")
    offset = schedule.zone("UTC+05:30")
    for tz in (kolkata, offset):
        assert not WORKDAY.is_open(datetime(2026, 12, 7, 3, 29, tzinfo=UTC), tz)
        assert WORKDAY.is_open(datetime(2026, 12, 7, 3, 30, tzinfo=UTC), tz)
        assert not WORKDAY.is_open(datetime(2026, 12, 7, 11, 30, tzinfo=UTC), tz)


def test_weekends_are_closed_and_the_next_window_is_monday():
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert not WORKDAY.is_open(saturday, ZoneInfo("Europe/Berlin"))
    assert schedule.next_window("Europe/Berlin", saturday, WORKDAY, default="UTC") == (
        "next window Mon 09:00 Europe/Berlin"
    )
    assert schedule.next_window("", saturday, WORKDAY, default="Asia/Kolkata") == "next window Mon 09:00 Asia/Kolkata"


def test_after_hours_the_next_window_is_the_next_morning():
    wednesday_evening = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    assert schedule.next_window("Europe/London", wednesday_evening, WORKDAY, default="UTC") == (
        "next window Thu 09:00 Europe/London"
    )


def test_open_zones_are_chosen_among_the_stored_values():
    monday_morning_utc = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09:30 Berlin, 14:00 Kolkata, 03:30 New York
    values = {"Europe/Berlin", "IN", "America/New_York", "", "nowhere"}
    assert schedule.open_values(values, monday_morning_utc, WORKDAY, default="America/New_York") == {
        "Europe/Berlin",
        "IN",
    }


def test_days_and_an_empty_window():
    assert schedule.parse_days("mon-fri") == frozenset(range(5))
    assert schedule.parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert schedule.parse_days("sat,sun") == frozenset({5, 6})
    assert schedule.window("", "mon").is_open(datetime(2026, 12, 6, 3, tzinfo=UTC), UTC)
