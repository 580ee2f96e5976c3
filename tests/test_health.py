"""`/health` answers whatever else is down; `/ready` names what is down."""

import json

import pytest

from tests.processes import django_env, free_port, gunicorn, http_get


def test_health_answers_ok_without_touching_the_database(client):
    """No db fixture: pytest-django makes any database access here an error."""
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_answers_ok_when_database_and_broker_answer(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.slow
def test_health_answers_under_gunicorn_with_the_database_down(tmp_path):
    """A database that refuses connections fails /ready, never /health."""
    closed_port = free_port()
    env = django_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/outreach", REDIS_URL="")
    with gunicorn(env=env, log=tmp_path / "gunicorn.log") as url:
        status, body = http_get(f"{url}/health")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = http_get(f"{url}/ready")
        assert status == 503
        assert json.loads(body)["failing"] == {"database": "OperationalError"}


@pytest.mark.slow
def test_ready_names_the_broker_when_redis_is_down(tmp_path, transactional_db):
    env = django_env(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with gunicorn(env=env, log=tmp_path / "gunicorn.log") as url:
        status, body = http_get(f"{url}/ready")
    assert status == 503
    assert list(json.loads(body)["failing"]) == ["broker"]
