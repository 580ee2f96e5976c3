"""Settings come from the environment, refuse malformed values, and log safely."""

import json
import logging
import subprocess

from outreach_site import logs
from tests.processes import django_env, manage

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-" + "9f3a" * 8,
    "ALLOWED_HOSTS": "outreach.example.com",
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
