"""Numbers in text, read as values: `10,000`, `10k` and "ten thousand" are one number. Pure.

The grounding check compares values, not spellings, so a draft may write `$12M` where
the source says "$12 million", and "forty-five" where it says 45.
"""

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.generate import vocabulary

_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_MULTIPLIER_WORDS = "|".join(sorted(vocabulary.MULTIPLIERS, key=len, reverse=True))
_DIGITS = re.compile(
    rf"(?<![\w.,])[$€£¥]?\s?(?P<digits>\d+(?:[.,]\d+)*)(?:\s?(?P<unit>%|percent|per cent|{_MULTIPLIER_WORDS})\b)?",
    re.IGNORECASE,
)
_SPELLED_WORDS = "|".join(sorted(vocabulary.NUMBER_WORDS, key=len, reverse=True))
_ONES = "|".join(vocabulary.ONES)
# "forty-five", "ten million", "twenty-one thousand": one number, read as one.
_SPELLED = re.compile(
    rf"(?<!\d)(?<!\d\s)\b(?P<word>{_SPELLED_WORDS})(?:[\s-](?P<ones>{_ONES}))?(?:[\s-](?P<unit>{_MULTIPLIER_WORDS}))?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Number:
    start: int
    end: int
    value: float
    word: str = ""  # the number word, for a written-out number


def find(folded: str) -> Iterator[Number]:
    """Every number in a folded (lower-case) text, where it stands and what it is worth."""
    for match in _DIGITS.finditer(folded):
        value = _value(match.group("digits"), match.group("unit"))
        if value is not None:
            yield Number(match.start(), match.end(), value)
    if any(word in folded for word in vocabulary.NUMBER_WORDS):  # the pattern is slow; most texts spell none
        for match in _SPELLED.finditer(folded):
            yield Number(match.start(), match.end(), _spelled(match), word=match.group("word"))


def values(folded: str) -> set[float]:
    """The values of every number in a folded text."""
    return {number.value for number in find(folded)}


@functools.lru_cache(maxsize=4096)  # the same few numbers come back in every draft and source
def _value(digits: str, unit: str | None) -> float | None:
    """The number a token stands for: `10,000` and `10k` are both 10000; `3.5` is 3.5."""
    if "," in digits and _THOUSANDS.fullmatch(digits):
        digits = digits.replace(",", "")
    digits = digits.replace(",", ".")
    try:
        value = float(digits)
    except ValueError:
        return None
    return round(value * vocabulary.MULTIPLIERS.get((unit or "").lower(), 1), 6)


def _spelled(match: re.Match) -> float:
    """The number a written-out number stands for: "ten million" is 10000000, "forty-five" 45."""
    value = vocabulary.NUMBER_WORDS[match.group("word")]
    if match.group("ones") and value in vocabulary.TENS:
        value += vocabulary.ONES[match.group("ones")]
    return value * vocabulary.MULTIPLIERS.get(match.group("unit") or "", 1)
