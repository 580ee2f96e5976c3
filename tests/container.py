"""The container's start, reproduced without a Docker engine.

`read_dockerfile()` reads CMD, ENV, WORKDIR and HEALTHCHECK from the Dockerfile;
`started()` runs that exact CMD from the project directory with that ENV, and
runs commands (the HEALTHCHECK, a load client) beside it.

Docker gives each container a network namespace of its own; so do we, with
`unshare`, so that the CMD's fixed 0.0.0.0:8080 collides with nothing else on
the machine (`make run`, another test run) and nothing else answers in its
place. Where namespaces are not allowed, the CMD runs in the host's namespace
if 8080 is free; otherwise the test skips with the reason (fails under CI=true).
"""

import contextlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.processes import PROJECT_DIR, django_env, running

DOCKERFILE = PROJECT_DIR / "Dockerfile"


@dataclass
class Dockerfile:
    base: str = ""
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    cmd: list[str] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    user: str = ""
    healthcheck: list[str] = field(default_factory=list)  # the command, as argv
    healthcheck_options: dict[str, str] = field(default_factory=dict)


def instructions(text: str) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, rest = logical.partition(" ")
        yield keyword.upper(), rest.strip()
        logical = ""


def _command(text: str) -> list[str]:
    """Exec form (a JSON array) as is; shell form as Docker runs it, through /bin/sh -c."""
    if text.startswith("["):
        return json.loads(text)
    return ["/bin/sh", "-c", text]


def read_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    result = Dockerfile()
    for keyword, rest in instructions(path.read_text()):
        if keyword == "FROM":
            result.base = rest.split()[0]
        elif keyword == "WORKDIR":
            result.workdir = rest
        elif keyword == "ENV":
            result.env.update(item.split("=", 1) for item in shlex.split(rest))
        elif keyword == "CMD":
            result.cmd = _command(rest)
        elif keyword == "EXPOSE":
            result.expose.extend(rest.split())
        elif keyword == "USER":
            result.user = rest
        elif keyword == "HEALTHCHECK":
            match = re.fullmatch(r"((?:--\S+\s+)*)CMD\s+(.+)", rest)
            assert match, f"HEALTHCHECK without CMD: {rest}"
            for option in match[1].split():
                name, _, value = option[2:].partition("=")
                result.healthcheck_options[name] = value
            result.healthcheck = _command(match[2])
    return result


def _namespaces_allowed() -> bool:
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - the address the CMD binds
        except OSError:
            return False
    return True


@dataclass
class Container:
    """The CMD's process, and a way to run other commands beside it (as `docker exec` does)."""

    process: subprocess.Popen
    isolated: bool

    def command(self, args: Sequence[str]) -> list[str]:
        if not self.isolated:
            return list(args)
        return ["nsenter", f"--target={self.process.pid}", "--user", "--net", "--preserve-credentials", *args]

    def run(self, args: Sequence[str], *, timeout: float, env: dict[str, str] | None = None):
        return subprocess.run(
            self.command(args), cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
        )

    def probe(self, args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess | None:
        """One health probe as Docker runs it: None when it outlasts `timeout` (Docker counts that as failed)."""
        try:
            return self.run(args, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def load(self, url: str, *, count: int, seconds: float, concurrency: int = 1) -> dict:
        """The load client, as a second process beside the server; its JSON result."""
        args = [sys.executable, "-m", "tests.loadclient", url, f"--count={count}", f"--seconds={seconds}"]
        result = self.run([*args, f"--concurrency={concurrency}"], timeout=seconds + 30)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def container_env(dockerfile: Dockerfile, **overrides: str) -> dict[str, str]:
    """The Dockerfile's ENV with the WORKDIR read as the project directory, on the test database."""
    image_env = {name: value.replace(dockerfile.workdir, str(PROJECT_DIR)) for name, value in dockerfile.env.items()}
    return django_env(**image_env, **overrides)


@contextlib.contextmanager
def started(log: Path, **env: str) -> Iterator[Container]:
    """The Dockerfile's CMD, exactly, running from the project directory until the block ends."""
    dockerfile = read_dockerfile()
    process_env = container_env(dockerfile, **env)
    if _namespaces_allowed():
        # Bring up loopback in the new namespace, then become the CMD (same pid).
        args = ["unshare", "--user", "--map-root-user", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
        isolated = True
    elif _port_free(8080):
        args, isolated = [], False
    else:
        reason = "network namespaces are not allowed here and port 8080 is in use"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    process_env["PATH"] = f"{process_env['PATH']}{os.pathsep}/usr/sbin:/sbin"
    with running([*args, *dockerfile.cmd], env=process_env, log=log) as process:
        yield Container(process=process, isolated=isolated)
