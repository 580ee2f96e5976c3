"""An auto-reply's return date is read from its words, and kept on the inbound record."""

from datetime import date

import pytest

from pipeline.inbox.classify import classify
from pipeline.inbox.returns import return_date
from tests.inbox import mail

WRITTEN = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("I am out of the office and back on Monday, December 14.", date(2026, 12, 14)),
        ("I'll be away until 5 January 2027 with limited access.", date(2027, 1, 5)),
        ("Out until the 7th of January.", date(2027, 1, 7)),  # no year: the next January
        ("I will return on Jan 4th, 2027.", date(2027, 1, 4)),
        ("Returning 2026-12-20; urgent matters to my colleague.", date(2026, 12, 20)),
    ],
)
def test_the_return_date_is_read_in_the_usual_phrasings(text, back):
    assert return_date(text, written_on=WRITTEN) == back


@pytest.mark.parametrize(
    "text",
    [
        "I am out of the office with limited access to email.",
        "Back on 03/05.",  # March 5 or May 3: no guess
        "Back on February 30.",
        "Away until December 9, 2024.",  # before it was written: a stale template
    ],
)
def test_no_date_or_an_unreadable_one_gives_none(text):
    assert return_date(text, written_on=WRITTEN) is None


def test_an_out_of_office_reply_carries_its_return_date():
    verdict = classify(mail.load("auto-en-ooo"))  # "until December 9", written on 3 December 2024
    assert (verdict.kind, verdict.returns_on) == ("auto_reply", date(2024, 12, 9))


def test_a_reply_has_no_return_date_whatever_it_says():
    raw = mail.load("reply-en").replace(b"\n\n", b"\n\nI am back on December 9.\n", 1)
    assert classify(raw).returns_on is None
