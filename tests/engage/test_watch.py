"""Follow-ups go only while the answers to earlier touches can be seen: a fresh inbox read, or ESP webhooks."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import checks

from leads.models import InboxState
from pipeline.engage import watch

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(settings):
    settings.INBOX_URL = "imaps://team:secret@imap.example:993/INBOX"
    settings.INBOX_MAX_AGE_MINUTES = 30
    settings.ANYMAIL_WEBHOOK_SECRET = ""


def _read(minutes_ago, mailbox="default", folder="INBOX"):
    InboxState.objects.create(mailbox=mailbox, folder=folder, last_read_at=NOW - timedelta(minutes=minutes_ago))


def test_a_mailbox_read_within_the_max_age_may_follow_up(inbox):
    _read(29)
    assert watch.blind(["default"], now=NOW) == {}


def test_a_mailbox_read_longer_ago_or_never_is_stale(inbox):
    assert watch.blind(["default"], now=NOW) == {"default": "inbox_stale"}
    _read(31)
    assert watch.blind(["default"], now=NOW) == {"default": "inbox_stale"}


def test_a_mailbox_without_an_inbox_has_no_inbox(inbox, settings):
    settings.INBOX_URL = ""
    _read(1)
    assert watch.blind(["default"], now=NOW) == {"default": "no_inbox"}
    assert watch.blind(["sales"], now=NOW, inboxes={"sales": ""}) == {"sales": "no_inbox"}


def test_esp_webhooks_see_the_answers_without_an_inbox(inbox, settings):
    settings.INBOX_URL = ""
    settings.ANYMAIL_WEBHOOK_SECRET = "hook:secret"
    assert watch.blind(["default"], now=NOW) == {}


def _warnings():
    return [message for message in checks.run_checks() if message.id == "pipeline.W002"]


def test_start_up_warns_when_follow_ups_could_not_see_answers(settings):
    settings.OUTREACH_FOLLOWUP_DAYS = [3]
    settings.INBOX_URL = ""
    settings.ANYMAIL_WEBHOOK_SECRET = ""
    (warning,) = _warnings()
    assert "no_inbox" in warning.msg
    assert "INBOX_URL" in warning.hint


@pytest.mark.parametrize(
    "configured",
    [
        {"OUTREACH_FOLLOWUP_DAYS": []},
        {"INBOX_URL": "imaps://team:secret@imap.example:993/INBOX"},
        {"ANYMAIL_WEBHOOK_SECRET": "hook:secret"},
    ],
)
def test_no_warning_without_follow_ups_or_with_a_way_to_see_answers(settings, configured):
    settings.OUTREACH_FOLLOWUP_DAYS = [3]
    settings.INBOX_URL = ""
    settings.ANYMAIL_WEBHOOK_SECRET = ""
    for name, value in configured.items():
        setattr(settings, name, value)
    assert _warnings() == []
