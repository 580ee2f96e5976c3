"""`manage.py engage`: the contract's flags, a dry-run table, and one line on stderr when it cannot run."""

import json

import pytest
from django.core.management import call_command

from leads.models import OutboundEmail, SkipLog
from tests.builders import make_lead
from tests.processes import django_env, free_port, manage

pytestmark = pytest.mark.django_db


def test_dry_run_prints_a_table_and_sends_nothing(smtp, capsys):
    make_lead(name="Ada Lovelace", company_name="Engines")
    make_lead(name="Grace Hopper", email="")
    call_command("engage", "--dry-run")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["lead", "touch", "decision", "source", "subject"]
    assert "Ada Lovelace" in lines[1]
    assert lines[1].split()[3:] == ["1", "send", "fallback", "A", "quick", "idea", "for", "Engines"]
    assert "Grace Hopper" in lines[2]
    assert "skip: no_email" in lines[2]
    assert lines[3] == ("[dry run] engage: processed 2, succeeded 1, skipped 1 (no_email 1), deferred 0, failed 0")
    assert smtp.received == []
    assert not SkipLog.objects.exists()


def test_json_prints_one_object_with_the_contract_keys(smtp, capsys):
    make_lead()
    make_lead(email="not an address")
    call_command("engage", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert {
        key: summary[key] for key in ("stage", "dry_run", "processed", "succeeded", "skipped", "deferred", "failed")
    } == {
        "stage": "engage",
        "dry_run": False,
        "processed": 2,
        "succeeded": 1,
        "skipped": {"invalid_email": 1},
        "deferred": 0,
        "failed": 0,
    }
    assert len(smtp.received) == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_unreachable_smtp_server_exits_1_with_one_line():
    make_lead()
    port = free_port()
    result = manage("engage", "--json", env=django_env(EMAIL_URL=f"smtp://127.0.0.1:{port}", LOG_LEVEL="ERROR"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"CommandError: Could not connect to the SMTP server 127.0.0.1:{port} (EMAIL_URL): Connection refused"
    ]
    assert not OutboundEmail.objects.exists()
