"""The grounding check: a draft may say only what its sources say. Pure: no I/O, no model.

Two checks, independent of each other, so a model that lists no claims is checked all the same:

1. Quotes: every claim the model lists comes with the source words that back it, and each
   quote must appear, fuzzily (rapidfuzz), in one source: the lead's fields, the scraped
   company description or the sender's offer; a number in a quote must be in the words it
   matched, exactly.
2. Risky tokens: every number (years, percentages, money, written-out numbers; compared
   by value, numbers.py), link or domain, capitalised name or place, superlative
   ("leading", "largest", "#1") and word that announces an event or an honour (an award,
   funding, an acquisition, a launch) in the subject or the body must appear in the
   sources or the allowlist (weekday names, the sender's own name and company).

`check` returns the problems (empty: the draft passed) and, for each claim, where its
quote was found, so that the admin can highlight the supported words.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz

from pipeline.generate import numbers, vocabulary

# A quote matches when rapidfuzz's partial ratio with a source is at least this (0-100):
# lenient enough for a changed plural or dropped article, strict enough that "coffee" is
# not "tea" (about 86).
QUOTE_MIN_SCORE = 90.0
# Words shown around a problem in the note that asks the model again.
_MAX_PROBLEM = 60

# A link or a domain: scheme or www, an address, or a host with a known-looking suffix.
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"')\]]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
# What a link needs somewhere: a dot between two characters, an @, a scheme or www; most texts
# have none, and the full pattern is slow to try at every word.
_MAYBE_LINK = re.compile(r"[\w-]\.[a-z]|@|://|www\.", re.IGNORECASE)
_WORD = re.compile(r"(?<![\w'’])[^\W\d_][\w'’]*")
_EST = re.compile(r"\b[^\W\d_]{2,}est\b")
_DETERMINED = re.compile(r"\b(?:a|an|the|one of the|a true)\s+(?P<word>leading|top)\b")
_THE_MOST = re.compile(r"\bthe most\s+[^\W\d_]+")
# "Best," / "Best regards" / "All the best": a sign-off, not a claim.
_SIGN_OFF_BEST = re.compile(r"\bbest(?=\s*(?:[,!.\n]|$|regards|wishes))|all the best", re.IGNORECASE)
_SUPERLATIVE_PHRASE = re.compile("|".join(re.escape(phrase) for phrase in vocabulary.SUPERLATIVE_PHRASES))
_EVENT = re.compile(r"\b(?:" + "|".join(vocabulary.EVENT_STEMS) + r")\b", re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", ":", ";", "\n")
_OPENERS = " \t\"'“‘([*-•>"
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


class Cause(StrEnum):
    """Why a draft failed the check (logged once per cause per run)."""

    QUOTE = "quote"  # a claim's source words are in no source
    NUMBER = "number"
    LINK = "link"
    NAME = "name"  # a capitalised name or place
    SUPERLATIVE = "superlative"
    EVENT = "event"  # an award, funding, an acquisition, a launch


@dataclass(frozen=True, slots=True)
class Claim:
    """What the model says the email claims, and the source words it says back it."""

    text: str
    quote: str


@dataclass(frozen=True, slots=True)
class Problem:
    cause: Cause
    text: str  # the draft's words that failed

    def __str__(self) -> str:
        return f"{self.cause}: {self.text[:_MAX_PROBLEM]!r}"


@dataclass(frozen=True, slots=True)
class Support:
    """Where a claim's quote was found: `source` names the text, `start:end` the words in it."""

    claim: str
    quote: str
    source: str = ""  # empty: found nowhere
    start: int = 0
    end: int = 0
    score: float = 0.0

    def as_dict(self) -> dict:
        return {
            "claim": self.claim,
            "quote": self.quote,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 1),
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    problems: tuple[Problem, ...]
    support: tuple[Support, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


class Sources:
    """What a draft may draw on, as named texts: the lead's fields, the scraped description, the
    sender's offer, and the sender's own name and company.

    Built once per lead; every check of a draft against it reads the index.
    """

    __slots__ = ("texts", "folded", "_all", "_words", "_numbers", "_hosts", "_links")

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)
        self.folded = {name: fold(text) for name, text in self.texts.items() if text}
        self._all = "\n".join(self.folded.values())
        self._words = _words(self._all)
        self._numbers = numbers.values(self._all)
        self._hosts, self._links = set(), set()
        for text in self.folded.values():  # per text: the long description seldom holds a link
            for link in _links(text):
                host, path = _split_link(link)
                self._hosts.add(host)
                self._links.add(host + path)

    def has_word(self, word: str) -> bool:
        key = _key(word)
        forms = (key, key.removesuffix("s"), key + "s")
        return bool(key) and any(form in self._words for form in forms)

    def has_phrase(self, phrase: str) -> bool:
        return phrase in self._all

    def has_stem(self, stem: str) -> bool:
        return any(word.startswith(stem) for word in self._words)

    def has_number(self, value: float) -> bool:
        return value in self._numbers

    def has_link(self, link: str) -> bool:
        host, path = _split_link(link)
        return host in self._hosts and (not path or host + path in self._links)


def fold(text: str) -> str:
    """Lower case and plain punctuation, keeping every character's position (spans stay valid)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower to two ("İ"); keep those as they are
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_FOLD)


def check(subject: str, body: str, claims: Sequence[Claim], sources: Sources) -> Verdict:
    """Whether the draft says only what the sources say: the problems found and each claim's support."""
    support = tuple(_support(claim, sources) for claim in claims)
    problems = [Problem(Cause.QUOTE, s.quote or s.claim) for s in support if not s.source]
    problems += _risky(subject, sources, is_subject=True)
    problems += _risky(body, sources, is_subject=False)
    return Verdict(problems=tuple(dict.fromkeys(problems)), support=support)


def _support(claim: Claim, sources: Sources) -> Support:
    quote = fold(" ".join(claim.quote.split())).strip(" \"'.")
    if not quote:
        return Support(claim=claim.text, quote=claim.quote)
    best = Support(claim=claim.text, quote=claim.quote)
    for name, text in sources.folded.items():
        if len(quote) > len(text):  # partial_ratio would find the short source inside the long quote
            score, start, end = fuzz.ratio(quote, text), 0, len(text)
        else:
            found = fuzz.partial_ratio_alignment(quote, text, score_cutoff=QUOTE_MIN_SCORE)
            if found is None:
                continue
            score, start, end = found.score, found.dest_start, found.dest_end
        if score >= max(QUOTE_MIN_SCORE, best.score) and numbers.values(quote) <= numbers.values(text[start:end]):
            best = Support(claim.text, claim.quote, source=name, start=start, end=end, score=score)
    return best


def _risky(text: str, sources: Sources, *, is_subject: bool) -> list[Problem]:
    """The risky tokens of one text that no source or allowlist backs."""
    folded = fold(text)
    problems = []
    plain, folded_plain = text, folded
    if _MAYBE_LINK.search(folded):
        for match in _LINK.finditer(folded):
            if not sources.has_link(match.group(0)):
                problems.append(Problem(Cause.LINK, text[match.start() : match.end()].rstrip(".,;:!?")))
        # Links are judged whole: their parts are not judged again as words or numbers.
        plain = _LINK.sub(lambda m: " " * len(m.group(0)), text)
        folded_plain = fold(plain)
    problems += _unsupported_numbers(plain, folded_plain, sources)
    problems += _unsupported_names(plain, sources, is_subject=is_subject)
    problems += _unsupported_superlatives(plain, folded_plain, sources)
    for match in _EVENT.finditer(folded_plain):
        if not sources.has_stem(vocabulary.EVENT_STEMS[match.group(0)]):
            problems.append(Problem(Cause.EVENT, plain[match.start() : match.end()]))
    return problems


def _unsupported_numbers(text: str, folded: str, sources: Sources) -> list[Problem]:
    problems = []
    for found in numbers.find(folded):
        # A written-out number is also fine when the source spells it the same way ("dozens").
        if not sources.has_number(found.value) and not (found.word and sources.has_word(found.word)):
            problems.append(Problem(Cause.NUMBER, text[found.start : found.end].strip()))
    return problems


def _unsupported_names(text: str, sources: Sources, *, is_subject: bool) -> list[Problem]:
    problems = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        if not word[0].isupper():
            continue
        key = _key(word)
        if key in vocabulary.ALWAYS_FINE or key in vocabulary.NUMBER_WORDS or sources.has_word(word):
            continue  # a number word is the number check's to judge
        # Title-case subjects and sentence openers are capitalised by grammar, not because they are names.
        if (is_subject or _opens_sentence(text, match.start())) and _is_ordinary(key):
            continue
        problems.append(Problem(Cause.NAME, word))
    return problems


def _unsupported_superlatives(text: str, folded: str, sources: Sources) -> list[Problem]:
    found = []  # (start, end, what the sources must hold, whether that is a phrase)
    found += [(m.start(), m.end(), m.group(0), True) for m in _SUPERLATIVE_PHRASE.finditer(folded)]
    found += [(m.start(), m.end(), m.group(0)[4:], True) for m in _THE_MOST.finditer(folded)]
    found += [(*m.span("word"), m.group("word"), False) for m in _DETERMINED.finditer(folded)]
    est = [m for m in _EST.finditer(folded) if m.group(0) not in vocabulary.NOT_SUPERLATIVE]
    found += [(*m.span(), m.group(0), False) for m in est]
    sign_offs = [m.span() for m in _SIGN_OFF_BEST.finditer(folded)]
    found += [
        (*m.span(), "best", False)
        for m in re.finditer(r"\bbest\b", folded)
        if not any(start <= m.start() < end for start, end in sign_offs)
    ]
    problems = []
    for start, end, wanted, is_phrase in found:
        if not (sources.has_phrase(wanted) if is_phrase else sources.has_word(wanted)):
            problems.append(Problem(Cause.SUPERLATIVE, text[start:end]))
    return problems


def _is_ordinary(key: str) -> bool:
    return key in vocabulary.COMMON or (len(key) > 5 and key.endswith(vocabulary.ORDINARY_ENDINGS))


def _opens_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip(_OPENERS)
    return not before or before.endswith(_SENTENCE_END)


def _key(word: str) -> str:
    """A word as the index holds it: lower case, without a possessive."""
    return _folded_key(fold(word))


def _folded_key(word: str) -> str:
    return word.strip("'").removesuffix("'s")


def _words(folded: str) -> set[str]:
    return {_folded_key(word) for word in _WORD.findall(folded)}


def _links(folded: str) -> list[str]:
    return _LINK.findall(folded) if _MAYBE_LINK.search(folded) else []


def _split_link(link: str) -> tuple[str, str]:
    """(host, path) of a link, an address or a bare domain, lower case, without scheme or www."""
    link = fold(link).rstrip(".,;:!?)'\"").removeprefix("mailto:")
    link = re.sub(r"^https?://", "", link)
    if "@" in link and "/" not in link:
        link = link.rpartition("@")[2]
    host, _, path = link.partition("/")
    return host.removeprefix("www."), ("/" + path).rstrip("/") if path else ""
