"""Two `check_inbox` processes at once read the same new mail: each message is recorded and
acted on once, whichever process got to it first. Both are held at the IMAP server (paused
with SIGSTOP) until both have connected, so they always overlap."""

import sys
from collections import Counter

import pytest

from leads.models import InboundMessage, Lead, LeadStatus, Suppression
from tests.builders import make_leads
from tests.inbox import mail
from tests.processes import django_env, json_commands_at_once

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECK_INBOX = [sys.executable, "manage.py", "check_inbox", "--json"]


def _deliver(dovecot, count: int) -> Counter:
    """`count` sent emails, each answered one way; returns the kinds expected."""
    expected = Counter()
    for n, lead in enumerate(make_leads(count)):
        email = mail.sent_email(lead)
        how = n % 4
        if how == 0:
            dovecot.deliver(mail.answer("reply-en", email))
            expected["reply"] += 1
        elif how == 1:
            dovecot.deliver(mail.bounce(email))
            expected["bounce_hard"] += 1
        elif how == 2:
            dovecot.deliver(mail.answer("unsubscribe-de", email))
            expected["unsubscribe"] += 1
        else:
            dovecot.deliver(mail.answer("auto-es-xautoreply", email))
            expected["auto_reply"] += 1
    return expected


def _check_each_message_acted_on_once(dovecot, count: int) -> None:
    expected = _deliver(dovecot, count)
    env = django_env(INBOX_URL=dovecot.inbox_url(), LOG_LEVEL="WARNING")
    # Held at the paused server until both have connected, they read the same new mail at once.
    dovecot.pause()
    summaries = json_commands_at_once(CHECK_INBOX, processes=2, env=env, then=lambda: dovecot.resume_when_connected(2))
    kinds = sum((Counter(summary["kinds"]) for summary in summaries), Counter())
    assert kinds == expected
    assert sum(summary["succeeded"] for summary in summaries) == count
    # Each read what was new when it started; what the other had recorded first it left alone.
    assert all(summary["processed"] > 0 for summary in summaries), summaries  # they did overlap
    assert (
        sum(summary["skipped"].get("already_recorded", 0) for summary in summaries)
        == sum(summary["processed"] for summary in summaries) - count
    )
    assert InboundMessage.objects.count() == count
    assert Suppression.objects.count() == expected["bounce_hard"] + expected["unsubscribe"]
    statuses = Counter(Lead.objects.values_list("engagement_status", flat=True))
    assert statuses == {
        LeadStatus.REPLIED: expected["reply"],
        LeadStatus.BOUNCED: expected["bounce_hard"],
        LeadStatus.UNSUBSCRIBED: expected["unsubscribe"],
        "": expected["auto_reply"],
    }
    assert all(item.is_unread for item in dovecot.messages())


@pytest.mark.postgres
def test_two_check_inbox_processes_on_postgresql_act_on_each_message_once(dovecot):
    _check_each_message_acted_on_once(dovecot, 1000)


def test_two_check_inbox_processes_on_any_database_act_on_each_message_once(dovecot):
    _check_each_message_acted_on_once(dovecot, 400)
