"""`manage.py report`: the fixed data set's figures, exactly, as JSON and as a table."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from leads.models import MailboxState
from pipeline import report
from tests.builders import make_email, make_inbound, make_lead
from tests.processes import django_env, manage
from tests.report import dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(capsys):
    dataset.build(timezone.now())
    call_command("report", "--json")
    return json.loads(capsys.readouterr().out)


def test_json_gives_the_data_sets_figures(figures):
    assert {key: figures[key] for key in dataset.EXPECTED} == dataset.EXPECTED


def test_json_counts_each_day_of_the_period(figures):
    days = figures["by_day"]
    assert len(days) == 30
    assert list(days) == sorted(days)
    assert {day: counts for day, counts in days.items() if any(counts.values())} == dataset.expected_days(
        dataset.today()
    )


def test_json_lists_the_last_runs_newest_first_with_their_outcome(figures):
    assert [(run["job"], run["outcome"], run["deferred"]) for run in figures["runs"]] == [
        ("check_inbox", "failed", 0),
        ("engage", "succeeded", 3),
        ("engage", "succeeded", 5),
    ]
    assert figures["runs"][0]["error"] == "The IMAP server refused the login (INBOX_URL)"


def test_days_narrows_the_period(capsys):
    dataset.build(timezone.now())
    call_command("report", "--json", "--days", "1")
    figures = json.loads(capsys.readouterr().out)
    assert list(figures["by_day"]) == [dataset.today().isoformat()]
    assert (figures["sent"], figures["replied"], figures["bounced"]) == (1, 1, {"hard": 1, "soft": 0})


def test_the_table_names_each_figure(capsys):
    dataset.build(timezone.now())
    call_command("report")
    out = capsys.readouterr().out
    assert "Outreach over the last 30 days" in out
    lines = out.splitlines()
    header = next(index for index, line in enumerate(lines) if "auto-replied" in line)
    assert lines[header + 2].replace("│", " ").split() == ["5", "2", "1", "1", "1", "1", "1"]
    assert any(line.replace("│", " ").split() == ["ai", "3", "1", "33.3%"] for line in lines)
    assert any(line.replace("│", " ").split() == ["second", "3", "0", "/", "-", "0.0%", "33.3%", "-"] for line in lines)
    assert any("deferred at the last engage run: awaiting_approval" in line and "2" in line for line in lines)


def test_fewer_than_one_day_is_refused_in_one_line():
    with pytest.raises(CommandError, match=r"^--days must be 1 or more$"):
        call_command("report", "--days", "0")


def test_the_same_number_of_queries_whatever_the_data(django_assert_num_queries):
    now = timezone.now()
    with django_assert_num_queries(QUERIES):
        report.run(now=now)
    for n in range(40):
        lead = make_lead(message_body="Hi", message_source=("ai", "manual", "fallback")[n % 3])
        for touch in range(1, 4):
            email = make_email(lead, touch=touch, mailbox=f"box{n % 4}", sent_at=now - (n % 20) * dataset.DAY)
            make_inbound(("reply", "bounce_hard", "complaint", "auto_reply")[(n + touch) % 4], email, received_at=now)
    dataset.build(now)
    with django_assert_num_queries(QUERIES):
        figures = report.run(now=now)
    assert figures.sent == 5 + 120
    assert len(figures.by_mailbox) == 6  # default, second, box0..box3


# The report's queries: the leads (funnel and period counts), leads contacted, the engager's
# skips, emails sent, inbound messages per day, answers per touch, source and mailbox of the
# email they answer, the mailboxes' states, the review queue, the last engage run, the last runs.
QUERIES = 10


def test_each_configured_mailbox_shows_todays_cap_with_warm_up_and_whether_it_paused(settings, capsys):
    settings.OUTREACH_MAILBOXES = ["alpha", "beta"]
    box = {"from_email": "Ann <ann@alpha.example>", "email_url": "", "inbox_url": "", "daily_cap": 20}
    settings.MAILBOX_SETTINGS = {"alpha": box, "beta": {**box, "daily_cap": 5}}
    settings.OUTREACH_WARMUP_START, settings.OUTREACH_WARMUP_STEP = 2, 2
    now = timezone.now()
    MailboxState.objects.create(name="alpha", paused_at=now, pause_reason="hard bounces 9 of the last 100 sends")
    MailboxState.objects.create(name="beta", send_days=3, last_send_day=timezone.localdate(now) - dataset.DAY)
    make_email(make_lead(), mailbox="alpha")
    call_command("report", "--json")
    boxes = json.loads(capsys.readouterr().out)["by_mailbox"]
    assert {name: (box["cap_today"], box["paused"], box["pause_reason"]) for name, box in boxes.items()} == {
        "alpha": (2, True, "hard bounces 9 of the last 100 sends"),  # warm-up day 1
        "beta": (5, False, ""),  # warm-up 2 + 2 x 3 days = 8, over its cap of 5
    }
    assert boxes["alpha"]["sent_today"] == 1


def test_deferred_is_what_the_last_engage_run_deferred_per_reason(smtp, settings, capsys):
    settings.OUTREACH_APPROVAL = "first"
    make_lead(message_subject="Hi", message_body="A message.", message_source="ai")
    make_lead(message_subject="Hi", message_body="Another.", message_source="ai")
    call_command("engage", "--json")
    assert json.loads(capsys.readouterr().out)["deferred_by"] == {"awaiting_approval": 2}
    call_command("report", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert (figures["deferred"], figures["deferred_total"]) == ({"awaiting_approval": 2}, 2)
    assert figures["review_queue"] == 2
    assert smtp.received == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_real_command_prints_one_json_object_or_one_line_on_stderr():
    dataset.build(timezone.now())
    result = manage("report", "--json", env=django_env(LOG_LEVEL="ERROR"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sent"] == dataset.EXPECTED["sent"]
    refused = manage("report", "--days", "0", env=django_env(LOG_LEVEL="ERROR"))
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.strip().splitlines() == ["CommandError: --days must be 1 or more"]
