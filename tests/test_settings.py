"""Settings come from the environment, refuse malformed values, and log safely."""

import json
import logging
import re
import runpy
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from outreach_site import logs
from outreach_site import settings as settings_module
from tests.processes import django_env, manage

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-" + "9f3a" * 8,
    "ALLOWED_HOSTS": "outreach.example.com",
    "SITE_URL": "https://outreach.example.com",
    "OUTREACH_ALLOW_LOCAL_LINKS": "false",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "DATABASE_URL": "sqlite:////tmp/outreach-check.sqlite3",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return manage(*args, env=django_env(**env))


def test_check_deploy_is_clean_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_set():
    result = _manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", DEBUG="")
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_malformed_boolean_is_refused_with_its_name():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_json_log_lines_carry_extra_fields_and_mask_secrets():
    """LOG_FORMAT=json: one object per line; a key and an address never appear in full."""
    code = (
        "import logging; logging.getLogger('pipeline.test').warning("
        "'lead skipped', extra={'lead_id': 7, 'reason': 'no_email',"
        " 'note': 'key sk-abcdefghijklmnop for jane@acme.com'})"
    )
    result = _manage("shell", "-c", code, LOG_FORMAT="json")
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "lead skipped"
    assert line["lead_id"] == 7
    assert line["reason"] == "no_email"
    assert "sk-abcdefghijklmnop" not in line["note"]
    assert "jane@acme.com" not in line["note"]
    assert "j***@acme.com" in line["note"]


def test_text_log_lines_append_extra_fields_as_key_value():
    record = logging.makeLogRecord({"msg": "lead skipped", "levelno": 20, "levelname": "INFO", "lead_id": 3})
    assert logs.TextFormatter().format(record).endswith("lead skipped lead_id=3")


def test_mask_email_keeps_the_first_letter_and_the_domain():
    assert logs.mask_email("Jane.Doe@Acme.com") == "J***@Acme.com"
    assert logs.mask_email("") == ""
    assert logs.mask_email("not-an-address") == "n***"


# Every numeric variable: a value it must refuse for not being a number, and one out of its range.
NUMERIC = {
    "SECURE_HSTS_SECONDS": "-1",
    "EMAIL_TIMEOUT": "0",
    "AIRTABLE_TIMEOUT": "0",
    "AIRTABLE_REQUESTS_PER_SECOND": "-5",
    "AIRTABLE_MAX_RETRIES": "-1",
    "AIRTABLE_RETRY_429_SECONDS": "-1",
    "AIRTABLE_RETRY_BACKOFF_SECONDS": "-0.5",
    "AIRTABLE_INCREMENTAL_MARGIN_SECONDS": "-1",
    "AIRTABLE_FULL_PULL_HOURS": "169",
    "OPENAI_TIMEOUT": "0",
    "OPENAI_MAX_RETRIES": "-1",
    "OPENAI_CONCURRENCY": "0",
    "SCRAPER_CONCURRENCY": "0",
    "SCRAPER_PER_HOST": "0",
    "SCRAPER_TIMEOUT": "-1",
    "SCRAPER_MAX_BYTES": "10",
    "SCRAPER_RETRY_HOURS": "-1",
    "OUTREACH_DAILY_CAP": "-5",
    "OUTREACH_RECONTACT_DAYS": "-1",
    "OUTREACH_BATCH_SIZE": "0",
    "Q_TIMEOUT": "0",
    "Q_MAX_ATTEMPTS": "0",
    "Q_WORKERS": "0",
    "PIPELINE_SCHEDULE_MINUTES": "100000",
    "INBOX_POLL_MINUTES": "100000",
    "INBOX_MAX_AGE_MINUTES": "0",
    "INBOX_TIMEOUT": "0",
    "INBOX_RUN_SECONDS": "0",
    "OUTREACH_SOFT_BOUNCE_LIMIT": "0",
    "OUTREACH_WARMUP_START": "-1",
    "OUTREACH_WARMUP_STEP": "-1",
}
SETTINGS_FILE = Path(settings_module.__file__)


def _load_settings(monkeypatch, name: str, value: str) -> None:
    """Evaluates settings.py afresh with one variable set, as start-up does."""
    monkeypatch.setenv(name, value)
    runpy.run_path(str(SETTINGS_FILE))


def test_every_numeric_setting_goes_through_the_checked_reader():
    source = SETTINGS_FILE.read_text()
    assert "env.int(" not in source
    assert "env.float(" not in source
    assert set(re.findall(r'_number\(\s*"(\w+)"', source)) == set(NUMERIC)


@pytest.mark.parametrize("name", sorted(NUMERIC))
@pytest.mark.parametrize("kind", ["not a number", "out of range"])
def test_a_bad_number_is_refused_with_the_variable_and_the_value(monkeypatch, name, kind):
    value = {"not a number": "abc", "out of range": NUMERIC[name]}[kind]
    with pytest.raises(ImproperlyConfigured) as caught:
        _load_settings(monkeypatch, name, value)
    message = str(caught.value)
    assert message.startswith(f"{name} must be ")
    assert message.endswith(f", not {value!r}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("value", "wanted"), [("fast", "a number from 0.1 to 600"), ("nan", "a number from 0.1 to 600")]
)
def test_a_float_setting_names_its_range(monkeypatch, value, wanted):
    with pytest.raises(ImproperlyConfigured, match=f"OPENAI_TIMEOUT must be {wanted}, not '{value}'"):
        _load_settings(monkeypatch, "OPENAI_TIMEOUT", value)


def test_a_whole_number_refuses_a_fraction(monkeypatch):
    with pytest.raises(
        ImproperlyConfigured, match="OUTREACH_DAILY_CAP must be a whole number of at least 0, not '2.5'"
    ):
        _load_settings(monkeypatch, "OUTREACH_DAILY_CAP", "2.5")


def test_good_numbers_are_read_and_empty_means_the_default(monkeypatch):
    monkeypatch.setenv("OUTREACH_DAILY_CAP", " 7 ")
    monkeypatch.setenv("OPENAI_TIMEOUT", "2.5")
    monkeypatch.setenv("SCRAPER_CONCURRENCY", "")
    loaded = runpy.run_path(str(SETTINGS_FILE))
    assert (loaded["OUTREACH_DAILY_CAP"], loaded["OPENAI_TIMEOUT"], loaded["SCRAPER_CONCURRENCY"]) == (7, 2.5, 16)


def test_start_up_stops_with_one_line_naming_the_variable():
    result = _manage("check", OUTREACH_DAILY_CAP="abc")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith("OUTREACH_DAILY_CAP must be a whole number of at least 0, not 'abc'")


@pytest.mark.parametrize(("value", "days"), [("", []), ("3,5", [3, 5]), (" 2 , 4 ,7 ", [2, 4, 7])])
def test_followup_days_are_read_as_whole_days(monkeypatch, value, days):
    monkeypatch.setenv("OUTREACH_FOLLOWUP_DAYS", value)
    assert runpy.run_path(str(SETTINGS_FILE))["OUTREACH_FOLLOWUP_DAYS"] == days


@pytest.mark.parametrize("value", ["3,five", "0", "3,,5", "-2", "400"])
def test_a_bad_followup_delay_is_refused_with_the_variable_and_the_value(monkeypatch, value):
    with pytest.raises(ImproperlyConfigured) as caught:
        _load_settings(monkeypatch, "OUTREACH_FOLLOWUP_DAYS", value)
    assert str(caught.value).startswith("OUTREACH_FOLLOWUP_DAYS must be whole days")
    assert str(caught.value).endswith(f", not {value!r}")
