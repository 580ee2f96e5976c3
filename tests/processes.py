"""Starting the project's own processes (gunicorn, qcluster, commands) from tests,
pointed at the test database, and stopping them."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database the current test uses (the test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


def django_env(**overrides: str) -> dict[str, str]:
    """An environment for a child process of the project, on the test database.

    Nothing waits for approval, a send window or a gap there unless the test says so, as in the
    `_no_approval_unless_asked` and `_send_at_once` fixtures.
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "outreach_site.settings",
        "PYTHONPATH": str(PROJECT_DIR),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "OUTREACH_APPROVAL": "none",
        # As the `_send_at_once` fixture: no window, no gap, unless the test says so.
        "OUTREACH_SEND_WINDOW": "",
        "OUTREACH_SEND_GAP_SECONDS": "0",
        # Loopback servers, loopback links: the tests' SITE_URL is local on purpose.
        "OUTREACH_ALLOW_LOCAL_LINKS": "true",
    }
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a child process with `env`, run to its end: exit status, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def json_commands_at_once(
    args: list[str], *, processes: int, env: dict[str, str], timeout: float = 300, then=None
) -> list[dict]:
    """Start `processes` copies of a `--json` command at once (then call `then()`, if given); each must
    exit 0. Returns their JSON outputs."""
    started = [
        subprocess.Popen(args, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    if then is not None:
        then()
    outputs = [process.communicate(timeout=timeout) for process in started]
    for process, (_, stderr) in zip(started, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()[-2000:]  # noqa: S101 - a test helper's check
    return [json.loads(stdout) for stdout, _ in outputs]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URLs built by the tests
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_for_http(url: str, *, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        with contextlib.suppress(OSError):
            http_get(url, timeout=1)
            return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def wait_until(condition, timeout: float = 60.0) -> None:
    """Wait until `condition()` is true; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def wait_for_port(port: int, *, timeout: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


@contextlib.contextmanager
def running(args: list[str], *, env: dict[str, str], log: Path, cwd: Path = PROJECT_DIR) -> Iterator[subprocess.Popen]:
    """Run `args` in its own process group for the duration of the block."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            stop(process)


def gunicorn_command(bind: str) -> list[str]:
    """gunicorn with the project's config file, as the container starts it, bound to `bind`."""
    return [str(VENV_BIN / "gunicorn"), "-c", "outreach_site/gunicorn.conf.py", "--bind", bind]


@contextlib.contextmanager
def gunicorn(*, env: dict[str, str], log: Path, port: int | None = None, timeout: float = 20.0) -> Iterator[str]:
    """gunicorn with the project's config on a free loopback port; yields its base URL."""
    port = port or free_port()
    with running(gunicorn_command(f"127.0.0.1:{port}"), env=env, log=log) as process:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/health", process=process, timeout=timeout)
        yield url
