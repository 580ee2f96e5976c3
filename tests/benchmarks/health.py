"""`make bench-health`: load on /health, with gunicorn started as the container starts it,
alone and while the cluster runs CPU-heavy jobs (one per worker).

The load comes from a second process (tests/loadclient.py) on loopback, bounded in
count and time; the database is a throwaway SQLite file. Prints requests/s and
p50/p99 for both states, then exits.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

SECONDS = 15.0  # the most each load may take
# (client threads, requests): one at a time, as a health checker probes; then
# as many at once as one gunicorn worker has threads.
LOADS = ((1, 1000), (4, 4000))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-health-") as workdir:
        _bench(Path(workdir))


def _bench(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["REDIS_URL"] = ""  # the embedded default: the queue lives in the database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django_q.tasks import async_task

    from tests import container
    from tests.processes import django_env, running

    call_command("migrate", "--no-input", verbosity=0)
    url = "http://127.0.0.1:8080/health"
    check = container.read_dockerfile().healthcheck
    rows = []
    with container.started(workdir / "web.log") as web:
        deadline = time.monotonic() + 20
        while web.run(check, timeout=5).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        rows += [("alone", c, web.load(url, count=n, seconds=SECONDS, concurrency=c)) for c, n in LOADS]

        workers = settings.Q_CLUSTER["workers"]
        for n in range(workers):
            async_task("tests.cpu_burn.burn", 60, str(workdir / f"burn-{n}"))
        with running(["python", "manage.py", "qcluster"], env=django_env(), log=workdir / "qcluster.log"):
            deadline = time.monotonic() + 30
            while len(list(workdir.glob("burn-*"))) < workers and time.monotonic() < deadline:
                time.sleep(0.2)
            label = f"cluster busy ({workers} CPU-heavy jobs)"
            rows += [(label, c, web.load(url, count=n, seconds=SECONDS, concurrency=c)) for c, n in LOADS]

    out = sys.stdout
    out.write(f"/health, gunicorn started as the Dockerfile's CMD, {os.cpu_count()} cores\n")
    out.write(f"{'state':<34}{'clients':>8}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}\n")
    for label, clients, r in rows:
        out.write(
            f"{label:<34}{clients:>8}{r['requests']:>9}{r['errors']:>8}{r['requests_per_second']:>9}"
            f"{r['p50_ms']:>9}{r['p99_ms']:>9}\n"
        )


if __name__ == "__main__":
    main()
