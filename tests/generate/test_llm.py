"""The one OpenAI client: real SDK, real HTTP to a local fake, every failure one LLMError with a cause."""

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.generate import llm
from tests.processes import VENV_BIN, django_env, free_port, manage, running, wait_for_port

MESSAGES = [{"role": "user", "content": "Write to <lead>{}</lead>"}]


def _established(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "OpenAI API connection established"]


def test_first_good_call_logs_connection_established_once_with_model_host_and_no_key(server, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.generate.llm")
    assert llm.complete(MESSAGES).startswith("Subject: ")
    assert llm.complete(MESSAGES).startswith("Subject: ")
    [record] = _established(caplog)
    assert (record.model, record.host, record.proxy) == ("gpt-test", f"127.0.0.1:{server.port}", False)
    assert server.api_key not in caplog.text
    assert all(server.api_key not in str(value) for value in record.__dict__.values())


def test_the_client_is_built_once_and_rebuilt_after_reset(server, caplog):
    """Two calls share one client (one 'established' line); reset() gives a new one."""
    caplog.set_level(logging.INFO, logger="pipeline.generate.llm")
    llm.complete(MESSAGES)
    llm.complete(MESSAGES)
    assert len(_established(caplog)) == 1
    llm.reset()
    llm.complete(MESSAGES)
    assert len(_established(caplog)) == 2


def test_requests_carry_the_model_and_key_from_settings(server, settings):
    settings.OPENAI_MODEL = "my-local-model"
    llm.complete(MESSAGES)
    [request] = server.completions
    assert request.body["model"] == "my-local-model"
    assert request.headers["authorization"] == f"Bearer {server.api_key}"
    assert request.path == "/v1/chat/completions"


@pytest.mark.parametrize(
    ("fault", "cause", "words"),
    [
        ("500", "server", "failed (HTTP 500)"),
        ("429", "rate_limited", "rate limiting"),
        ("401", "auth", "check OPENAI_API_KEY"),
        ("hang", "timeout", "no answer within 0.5s"),
        ("not_json", "bad_answer", "not valid JSON"),
        ("html", "bad_answer", "not a chat completion"),
    ],
)
def test_each_fault_is_one_llm_error_with_its_cause(server, settings, fault, cause, words):
    settings.OPENAI_TIMEOUT = 0.5
    server.fail_next(fault, retry_after=0.1)
    with pytest.raises(llm.LLMError) as caught:
        llm.complete(MESSAGES)
    assert caught.value.cause == cause
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert server.api_key not in str(caught.value)


def test_empty_content_comes_back_as_empty_text_for_the_checks(server):
    server.fail_next("empty")
    assert llm.complete(MESSAGES) == ""


def test_a_wrong_key_is_auth_and_permanent_and_never_echoed(server, settings):
    settings.OPENAI_API_KEY = "sk-wrong-key-0123456789abcdef"
    with pytest.raises(llm.LLMError) as caught:
        llm.complete(MESSAGES)
    assert (caught.value.cause, caught.value.permanent) == ("auth", True)
    assert "sk-wrong" not in str(caught.value)


def test_sdk_retries_come_from_settings(server, settings):
    settings.OPENAI_MAX_RETRIES = 1
    server.fail_next("500")
    assert llm.complete(MESSAGES).startswith("Subject: ")
    assert [r.status for r in server.completions] == [500, 200]


def test_a_closed_port_is_unreachable_naming_the_host(settings):
    port = free_port()
    settings.OPENAI_API_KEY = "sk-test-key-for-a-closed-port"
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.OPENAI_PROXY = ""
    settings.OPENAI_MAX_RETRIES = 0
    try:
        with pytest.raises(llm.LLMError) as caught:
            llm.complete(MESSAGES)
    finally:
        llm.reset()
    assert caught.value.cause == "unreachable"
    assert str(caught.value) == f"cannot reach the OpenAI server at 127.0.0.1:{port}; check OPENAI_BASE_URL"


# --- through a real proxy -------------------------------------------------------------


@contextlib.contextmanager
def http_proxy(log: Path) -> Iterator[str]:
    """pproxy, a real HTTP proxy, on a free loopback port; its verbose log lists each connection it relays."""
    port = free_port()
    args = [str(VENV_BIN / "pproxy"), "-l", f"http://127.0.0.1:{port}", "-v"]
    with running(args, env={"PYTHONUNBUFFERED": "1"}, log=log):
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"


def test_calls_go_through_the_proxy_when_one_is_set(server, settings, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.generate.llm")
    log = tmp_path / "pproxy.log"
    with http_proxy(log) as proxy:
        settings.OPENAI_PROXY = proxy
        assert llm.complete(MESSAGES).startswith("Subject: ")
        llm.reset()  # closes the pooled connection, so the proxy has logged it
    # pproxy logs each relayed connection as "http <client> -> <target>".
    relayed = [line for line in log.read_text().splitlines() if line.endswith(f"-> 127.0.0.1:{server.port}")]
    assert len(relayed) == len(server.completions) == 1, log.read_text()
    [record] = _established(caplog)
    assert record.proxy is True
    assert proxy not in caplog.text


def test_without_a_proxy_the_proxy_sees_nothing(server, settings, tmp_path):
    """The control for the test above: the proxy log stays empty when OPENAI_PROXY is unset."""
    log = tmp_path / "pproxy.log"
    with http_proxy(log):
        llm.complete(MESSAGES)
        llm.reset()
    assert f"127.0.0.1:{server.port}" not in log.read_text()


def test_a_proxy_on_a_closed_port_is_reported_as_proxy_refused(server, settings):
    port = free_port()
    settings.OPENAI_PROXY = f"http://user:secret@127.0.0.1:{port}"
    with pytest.raises(llm.LLMError) as caught:
        llm.complete(MESSAGES)
    assert caught.value.cause == "proxy"
    assert str(caught.value) == f"proxy 127.0.0.1:{port} refused the connection; check OPENAI_PROXY"
    assert server.completions == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OPENAI_PROXY": "http://llm-proxy:1", "HTTPS_PROXY": "http://other:2"}, "http://llm-proxy:1"),
        ({"HTTPS_PROXY": "http://https-proxy:2", "HTTP_PROXY": "http://http-proxy:3"}, "http://https-proxy:2"),
        ({"http_proxy": "http://lower:4"}, "http://lower:4"),
        ({}, ""),
    ],
)
def test_openai_proxy_falls_back_to_the_usual_proxy_variables(env, expected):
    names = ("OPENAI_PROXY", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
    child_env = {k: v for k, v in django_env().items() if k not in names} | env
    result = manage(
        "shell", "-c", "from django.conf import settings; print(repr(settings.OPENAI_PROXY))", env=child_env
    )
    assert result.stdout.strip().splitlines()[-1] == repr(expected)
