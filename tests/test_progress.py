"""Stage commands show a progress bar on a terminal and stay quiet elsewhere."""

import json
import os
import pty
import subprocess
import sys

import pytest

from tests.builders import make_leads
from tests.processes import PROJECT_DIR, django_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BAR = "━"  # rich draws its bar with this character


def _engage_dry_run(*flags: str, terminal: bool) -> tuple[str, str]:
    """Run `engage --dry-run` with stderr on a pseudo-terminal or a pipe; return (stdout, stderr)."""
    args = [sys.executable, "manage.py", "engage", "--dry-run", *flags]
    env = django_env(COLUMNS="100", TERM="xterm")
    if not terminal:
        result = subprocess.run(args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60)
        return result.stdout, result.stderr
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(args, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=follower, timeout=60)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes once the child is gone and the buffer is read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return result.stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_a_progress_bar():
    make_leads(30)
    _, stderr = _engage_dry_run(terminal=True)
    assert BAR in stderr
    assert "engage" in stderr


def test_a_pipe_gets_no_progress_bar():
    make_leads(30)
    stdout, stderr = _engage_dry_run(terminal=False)
    assert BAR not in stderr
    assert "engage: processed 30" in stdout


def test_json_output_stays_quiet_even_on_a_terminal():
    make_leads(30)
    stdout, stderr = _engage_dry_run("--json", terminal=True)
    assert BAR not in stderr
    assert json.loads(stdout)["processed"] == 30
