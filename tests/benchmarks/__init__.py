"""Benchmarks: each prints its figures and exits; run as `.venv/bin/python -m tests.benchmarks.<name>`."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def throwaway_database(name: str, **env: str) -> Iterator[Path]:
    """Django set up on a fresh, migrated SQLite file in a temporary folder, removed afterwards; yields the folder.

    `env` is set before Django reads its settings; LOG_LEVEL is WARNING unless the caller's
    environment says otherwise (a line per lead would measure the terminal).
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class QueryCounter:
    """Counts every query (`connection.execute_wrapper`), with no cap (CaptureQueriesContext keeps only 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
