"""The container: the Dockerfile and docker-compose.yml say what the issue asks, both
linters pass (and can fail), and the container's start, reproduced from the
Dockerfile's own CMD, ENV and HEALTHCHECK, is healthy within 10 s."""

import re
import subprocess
import sys
import time

import pytest
from ruamel.yaml import YAML

from tests import container
from tests.processes import PROJECT_DIR, VENV_BIN

COMPOSE = PROJECT_DIR / "docker-compose.yml"


@pytest.fixture(scope="module")
def dockerfile() -> container.Dockerfile:
    return container.read_dockerfile()


def test_the_image_runs_the_python_minor_version_the_tests_run_on(dockerfile):
    assert dockerfile.base == f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def test_the_image_runs_gunicorn_on_8080_as_a_user_that_is_not_root(dockerfile):
    assert dockerfile.cmd == ["gunicorn", "-c", "outreach_site/gunicorn.conf.py", "--bind", "0.0.0.0:8080"]
    assert dockerfile.expose == ["8080"]
    assert dockerfile.env["PYTHONPATH"] == dockerfile.workdir == "/app"
    assert dockerfile.user.split(":")[0] not in {"", "0", "root"}


def test_the_healthcheck_curls_health_on_the_agreed_timings(dockerfile):
    assert dockerfile.healthcheck == ["curl", "-fsS", "http://localhost:8080/health"]
    assert dockerfile.healthcheck_options == {"interval": "30s", "timeout": "5s", "start-period": "30s", "retries": "5"}


def test_the_image_installs_the_pinned_requirements_and_curl():
    text = (PROJECT_DIR / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --disable-pip-version-check -r requirements.txt" in text
    assert re.search(r"apt-get install -y --no-install-recommends curl\b", text)


def _collectstatic_step() -> str:
    """The build's collectstatic, as written in the Dockerfile's RUN (its first command)."""
    runs = [
        rest for keyword, rest in container.instructions((PROJECT_DIR / "Dockerfile").read_text()) if keyword == "RUN"
    ]
    step = next(run for run in runs if "collectstatic" in run)
    return step.split("&&")[0].strip()


@pytest.mark.slow
def test_the_container_start_is_healthy_within_its_start_period_and_serves_static_files(tmp_path, dockerfile):
    """Production-like settings: the probe's `localhost` is not in ALLOWED_HOSTS. Docker gives a
    container its HEALTHCHECK start period before a failed probe counts; it starts well inside it
    (about 2 s on a quiet machine), and a probe that outlasts its timeout counts as failed, as in Docker."""
    build_env = container.container_env(dockerfile, SECRET_KEY="")
    build = subprocess.run(
        ["sh", "-c", _collectstatic_step()], cwd=PROJECT_DIR, env=build_env, capture_output=True, text=True, timeout=120
    )
    assert build.returncode == 0, build.stderr
    production = {"DEBUG": "false", "ALLOWED_HOSTS": "outreach.example.com", "SECRET_KEY": "s" * 50}
    timeout = float(dockerfile.healthcheck_options["timeout"].removesuffix("s"))
    start_period = float(dockerfile.healthcheck_options["start-period"].removesuffix("s"))

    started = time.monotonic()
    with container.started(tmp_path / "web.log", **production) as web:
        while True:
            check = web.probe(dockerfile.healthcheck, timeout=timeout)
            if check is not None and check.returncode == 0:
                break
            assert time.monotonic() - started < start_period, (tmp_path / "web.log").read_text()[-2000:]
            time.sleep(0.1)
        healthy_after = time.monotonic() - started
        static = web.run(
            [
                "curl",
                "-fsS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{content_type}",
                "-H",
                "Host: outreach.example.com",
                "http://localhost:8080/static/admin/css/base.css",
            ],
            timeout=timeout,
        )

    assert healthy_after < start_period
    assert check.stdout == '{"status": "ok"}'
    assert static.stdout == '200 text/css; charset="utf-8"', static.stderr


def _compose() -> dict:
    return YAML(typ="safe").load(COMPOSE.read_text())


def test_compose_runs_web_worker_postgres_and_redis_with_health_checks():
    services = _compose()["services"]
    assert {"web", "worker", "postgres", "redis"} <= services.keys()
    assert services["web"]["healthcheck"]["test"] == ["CMD", "curl", "-fsS", "http://localhost:8080/health"]
    assert "command" not in services["web"]  # the image's CMD
    assert services["worker"]["command"] == ["python", "manage.py", "qcluster"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
    for name in ("web", "worker"):
        assert services[name]["env_file"] == ".env"
        conditions = {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
        assert conditions["postgres"] == conditions["redis"] == "service_healthy"


def test_the_worker_scales_and_the_database_keeps_its_data():
    compose = _compose()
    worker = compose["services"]["worker"]
    assert "container_name" not in worker  # `--scale worker=N` needs N names
    assert "ports" not in worker  # and N host ports would collide
    volume = compose["services"]["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def _lint(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)


def test_both_linters_pass_and_fail_on_a_broken_file(tmp_path):
    hadolint = [str(VENV_BIN / "hadolint"), "--failure-threshold", "warning"]
    schema = [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
    assert _lint([*hadolint, "Dockerfile"]).returncode == 0
    assert _lint([*schema, "docker-compose.yml"]).returncode == 0

    bad_dockerfile = tmp_path / "Dockerfile"
    bad_dockerfile.write_text("FROM python:latest\nRUN pip install gunicorn\nCMD gunicorn\n")
    assert _lint([*hadolint, str(bad_dockerfile)]).returncode != 0
    bad_compose = tmp_path / "docker-compose.yml"
    bad_compose.write_text(
        COMPOSE.read_text().replace("condition: service_healthy", "condition: when_it_feels_like_it", 1)
    )
    assert _lint([*schema, str(bad_compose)]).returncode != 0
