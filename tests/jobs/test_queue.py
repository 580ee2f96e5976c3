"""django-q2 runs with the pinned Django: a task enqueued here is run by a real worker."""

import time

import pytest
from django.conf import settings
from django_q.brokers.orm import ORM
from django_q.models import Success
from django_q.tasks import async_task

from tests.processes import django_env, running

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_for_success(task_id: str, timeout: float = 30) -> Success:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = Success.objects.filter(id=task_id).first()
        if task is not None:
            return task
        time.sleep(0.2)
    raise TimeoutError(f"task {task_id} did not succeed within {timeout}s")


def _run_one_task_through_a_worker(tmp_path, *, broker=None, **env: str) -> Success:
    task_id = async_task("math.floor", 2.5, broker=broker)
    with running(["python", "manage.py", "qcluster"], env=django_env(**env), log=tmp_path / "qcluster.log"):
        return _wait_for_success(task_id)


def test_orm_broker_task_is_run_by_a_real_worker(tmp_path):
    """The embedded default: no REDIS_URL, so the queue lives in the database."""
    task = _run_one_task_through_a_worker(tmp_path, broker=ORM(list_key=settings.Q_CLUSTER["name"]), REDIS_URL="")
    assert task.result == 2


@pytest.mark.redis
def test_redis_broker_task_is_run_by_a_real_worker(tmp_path):
    assert settings.Q_CLUSTER.get("redis") == settings.REDIS_URL
    task = _run_one_task_through_a_worker(tmp_path)
    assert task.result == 2
