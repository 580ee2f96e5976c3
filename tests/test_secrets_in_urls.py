"""A password in a URL setting is never printed, logged or stored whole."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leads.models import PipelineRun
from outreach_site.logs import redact, url_host
from tests.processes import django_env, free_port, manage

SECRET = "s3cret-Pa55word"


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        ("AIRTABLE_ENDPOINT_URL", f"http://user:{SECRET}@airtable.internal:8080"),
        ("EMAIL_URL", f"smtp+tls://sam%40sender.example:{SECRET}@smtp.example:587"),
        ("INBOX_URL", f"imaps://sam:{SECRET}@imap.example:993/INBOX"),
        ("REDIS_URL", f"redis://:{SECRET}@redis.internal:6379/0"),
        ("DATABASE_URL", f"postgres://outreach:{SECRET}@db.internal:5432/outreach"),
        ("OPENAI_PROXY", f"http://proxyuser:{SECRET}@proxy.internal:3128"),
    ],
)
def test_every_url_setting_loses_its_password_when_shown(setting, url):
    shown = redact(f"{setting} failed: {url} (also {url_host(url)})")
    assert SECRET not in shown
    assert ":***@" in shown
    assert url_host(url).split(":")[0] in shown


def test_the_command_error_and_the_run_record_hold_no_password(db, settings):
    settings.AIRTABLE_ENDPOINT_URL = f"http://user:{SECRET}@127.0.0.1:{free_port()}"
    settings.AIRTABLE_API_KEY = "patAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBB"
    settings.AIRTABLE_BASE_ID = "appAAAAAAAAAAAAAA"
    settings.AIRTABLE_TABLE_NAME = "Leads"
    settings.AIRTABLE_RETRY_BACKOFF_SECONDS = 0.0
    with pytest.raises(CommandError) as caught:
        call_command("sync_airtable", "--direction", "pull")
    assert SECRET not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    run = PipelineRun.objects.get()
    assert run.error
    assert SECRET not in run.error


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_command_with_a_password_in_its_url_prints_and_logs_none_of_it():
    port = free_port()
    env = django_env(
        AIRTABLE_ENDPOINT_URL=f"http://user:{SECRET}@127.0.0.1:{port}",
        AIRTABLE_API_KEY="patAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBB",
        AIRTABLE_BASE_ID="appAAAAAAAAAAAAAA",
        AIRTABLE_TABLE_NAME="Leads",
        AIRTABLE_RETRY_BACKOFF_SECONDS="0",
        LOG_LEVEL="DEBUG",  # every log line the command writes goes to stderr
    )
    result = manage("sync_airtable", "--direction", "pull", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"CommandError: Airtable (127.0.0.1:{port}) could not be reached: check AIRTABLE_ENDPOINT_URL and the network"
    )
    assert SECRET not in result.stderr + result.stdout
    assert SECRET not in PipelineRun.objects.get().error
