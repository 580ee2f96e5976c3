"""`manage.py generate` as an operator runs it: exit 0 and one log line per cause, whatever the LLM does."""

import subprocess

import pytest

from leads.models import Lead, MessageSource
from tests.builders import make_leads
from tests.processes import django_env, free_port, manage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _generate(**env: str) -> subprocess.CompletedProcess:
    return manage("generate", env=django_env(OPENAI_MAX_RETRIES="0", OPENAI_TIMEOUT="2", LOG_FORMAT="text", **env))


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"OPENAI_API_KEY": ""}, "OpenAI API key not set; every lead gets the fallback message"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:{port}/v1"}, "cause=unreachable count=6 error=cannot reach"),
        (
            {"OPENAI_BASE_URL": "http://127.0.0.1:{port}/v1", "OPENAI_PROXY": "http://127.0.0.1:{port}"},
            "cause=proxy count=6 error=proxy 127.0.0.1:{port} refused the connection",
        ),
    ],
    ids=["no_key", "server_down", "proxy_down"],
)
def test_the_command_exits_0_every_lead_gets_a_message_and_one_line_says_why(env, line):
    port = free_port()
    env = {"OPENAI_API_KEY": "sk-test-key-000000000000", **{k: v.format(port=port) for k, v in env.items()}}
    make_leads(6)
    result = _generate(**env)
    assert result.returncode == 0, result.stderr
    assert "generate: processed 6, succeeded 6" in result.stdout
    log_lines = [text for text in result.stderr.splitlines() if "pipeline." in text]
    assert len(log_lines) == 1, result.stderr
    assert line.format(port=port) in log_lines[0]
    assert "sk-test-key" not in result.stderr
    assert set(Lead.objects.values_list("message_source", flat=True)) == {MessageSource.FALLBACK}
