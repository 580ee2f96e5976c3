"""The cluster's configuration as django-q2 reads it, from the environment."""

import json
import subprocess
import sys

import pytest

from tests.processes import PROJECT_DIR, django_env

_READ_CONF = (
    "import json; from django_q.conf import Conf; "
    "print(json.dumps({'orm': Conf.ORM, 'redis': Conf.REDIS, 'timeout': Conf.TIMEOUT, 'retry': Conf.RETRY,"
    " 'max_attempts': Conf.MAX_ATTEMPTS, 'catch_up': Conf.CATCH_UP, 'ack_failures': Conf.ACK_FAILURES,"
    " 'save_limit': Conf.SAVE_LIMIT, 'workers': Conf.WORKERS}))"
)


def _conf(**env: str) -> tuple[dict, str]:
    result = subprocess.run(
        [sys.executable, "-W", "always", "manage.py", "shell", "-c", _READ_CONF],
        cwd=PROJECT_DIR,
        env=django_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1]), result.stderr


def test_the_orm_broker_is_the_default_and_redis_is_used_when_redis_url_is_set():
    conf, _ = _conf(REDIS_URL="")
    assert (conf["orm"], conf["redis"]) == ("default", {})
    conf, _ = _conf(REDIS_URL="redis://127.0.0.1:6379/9")
    assert (conf["orm"], conf["redis"]) == (None, "redis://127.0.0.1:6379/9")


@pytest.mark.parametrize("timeout", ["60", "1800"])
def test_timeout_stays_below_retry_so_a_slow_task_is_not_handed_out_twice(timeout):
    conf, stderr = _conf(Q_TIMEOUT=timeout)
    assert conf["timeout"] == int(timeout) < conf["retry"]
    assert "misconfigured" not in stderr


def test_attempts_are_bounded_missed_runs_are_not_replayed_and_failures_are_not_retried():
    conf, _ = _conf(Q_MAX_ATTEMPTS="3", Q_WORKERS="4")
    assert conf["max_attempts"] == 3
    assert conf["catch_up"] is False
    # Acknowledged: a failed task leaves the queue (the schedule runs it again);
    # django-q2 keeps every failure, whatever save_limit says, for the admin.
    assert conf["ack_failures"] is True
    assert conf["save_limit"] > 0
    assert conf["workers"] == 4


@pytest.mark.parametrize("variable", ["Q_TIMEOUT", "Q_MAX_ATTEMPTS"])
def test_zero_timeout_or_attempts_is_refused_with_its_name(variable):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=django_env(**{variable: "0"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert f"{variable} must be a whole number " in last
    assert last.endswith("not '0'")
