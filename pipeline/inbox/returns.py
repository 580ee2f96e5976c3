"""An auto-reply's return date: "back on March 5", "out until 5 March 2027", "returning 2027-03-05".

Pure: text in, a date or None out. A date without a year is the next one on or after the
day the auto-reply was written. Numeric dates other than ISO (03/05) are left alone: a
month and a day in either order cannot be told apart, and a wrong date is worse than none
(the follow-up then simply goes when it is due).
"""

import re
from datetime import date, timedelta

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>20\d\d))?"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
# The words that announce the day someone is back (or the last day away).
_LEAD_IN = (
    r"(?P<lead>back(?:\s+in\s+the\s+office)?(?:\s+on)?|return(?:s|ing)?(?:\s+on)?|in\s+the\s+office\s+(?:again\s+)?on"
    r"|until|till|through|thru|away\s+to)"
)
_PATTERNS = [
    re.compile(rf"\b{_LEAD_IN}\s+(?:the\s+)?{_WEEKDAY}(?P<iso>20\d\d-[01]\d-[0-3]\d)\b", re.IGNORECASE),
    re.compile(rf"\b{_LEAD_IN}\s+{_WEEKDAY}(?P<month>{_MONTH})\.?\s+{_DAY}\b{_YEAR}", re.IGNORECASE),
    re.compile(
        rf"\b{_LEAD_IN}\s+(?:the\s+)?{_WEEKDAY}{_DAY}(?:\s+of)?\s+(?P<month>{_MONTH})\b\.?{_YEAR}", re.IGNORECASE
    ),
]
# "until" names the last day away, "back on" the first day back: both end the wait the day after.
_HORIZON = timedelta(days=366)  # a "return date" further away is taken as a misreading


def return_date(text: str, *, written_on: date) -> date | None:
    """The first return date the text names, on or after `written_on` and within a year; else None."""
    best = None
    for pattern in _PATTERNS:
        for found in pattern.finditer(text[:5000]):
            day = _resolve(found, written_on)
            if day is not None and (best is None or found.start() < best[0]):
                best = (found.start(), day)
            break
    return best[1] if best else None


def _resolve(found: re.Match, written_on: date) -> date | None:
    groups = found.groupdict()
    try:
        if groups.get("iso"):
            day = date.fromisoformat(groups["iso"])
        else:
            month, number = _MONTHS[groups["month"].lower()], int(groups["day"])
            year = int(groups["year"]) if groups.get("year") else written_on.year
            day = date(year, month, number)
            if not groups.get("year") and day < written_on:  # "back March 5" written in December
                day = date(year + 1, month, number)
    except ValueError:  # February 30th
        return None
    if not written_on <= day <= written_on + _HORIZON:
        return None
    return day
