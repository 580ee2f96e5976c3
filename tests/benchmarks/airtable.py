"""Benchmark: pull 10,000 records and push 1,000 changes through the fake Airtable.

With the rate limit on (5 requests/s per base), each is printed as records/s and
as a fraction of the ceiling (reading 5 x 100 = 500 records/s, writing 5 x 10 =
50 records/s), with the number of 429s received. Then 10 records edited in
Airtable and pulled again incrementally, limit on: its time against the full
pull's (goal: 10x faster). Then the full pull again with the limit off: the
app's own cost. Run with `make bench-airtable`.
"""

import datetime
import sys
import time
from pathlib import Path

from tests.benchmarks import throwaway_database

RECORDS = 10_000
CHANGES = 1_000
EDITS = 10


def main() -> int:
    with throwaway_database("airtable") as workdir:
        _run(workdir)
    return 0


def _run(workdir: Path) -> None:
    from django.conf import settings

    from leads.models import Lead
    from pipeline.airtable import sync
    from tests.fakes.airtable import FakeAirtable, record_fields

    # Airtable makes a client that went over wait 30 s; a shorter penalty (and wait) keeps the run bounded.
    penalty = 1.0
    # A table the team built earlier: its records last changed an hour ago.
    built = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    table = (record_fields(n) for n in range(1, RECORDS + 1))
    with FakeAirtable(table=table, penalty_seconds=penalty, modified=built) as fake:
        settings.AIRTABLE_ENDPOINT_URL = fake.url
        settings.AIRTABLE_API_KEY, settings.AIRTABLE_BASE_ID = fake.token, fake.base_id
        settings.AIRTABLE_TABLE_NAME = fake.table_name
        settings.AIRTABLE_RETRY_429_SECONDS = penalty
        settings.AIRTABLE_REQUESTS_PER_SECOND = 5.0
        settings.REDIS_URL = ""
        settings.VAR_DIR = workdir

        started = time.perf_counter()
        pulled = sync.run(direction="pull").succeeded
        full_seconds = time.perf_counter() - started
        _report("pull, limit on", pulled, full_seconds, ceiling=500, fake=fake)

        for record in fake.records[:: RECORDS // EDITS]:
            fake.edit_record(record["id"], {"Job Title": "CTO"})
        before = fake.count_429
        started = time.perf_counter()
        incremental = sync.run(direction="pull")
        seconds = time.perf_counter() - started
        assert incremental.extra["mode"] == "incremental"
        assert Lead.objects.filter(job_title="CTO").count() == EDITS
        _report("pull again incrementally, limit on", incremental.succeeded, seconds, fake=fake, before=before)
        sys.stdout.write(
            f"incremental pull {full_seconds / seconds:.0f}x faster than the full pull (goal: 10x); "
            f"the full pull at {pulled / full_seconds / 500:.1%} of the 500 records/s ceiling (goal: 95%)\n"
        )

        ids = list(Lead.objects.order_by("id").values_list("pk", flat=True)[:CHANGES])
        Lead.objects.filter(pk__in=ids).update(
            pending_push=True, engagement_status="Contacted", date_messaged=datetime.date(2025, 1, 2)
        )
        before = fake.count_429
        started = time.perf_counter()
        pushed = sync.run(direction="push").succeeded
        _report("push, limit on", pushed, time.perf_counter() - started, ceiling=50, fake=fake, before=before)
        assert Lead.objects.filter(pending_push=True).count() == 0

        fake.rate_limit = None
        settings.AIRTABLE_REQUESTS_PER_SECOND = 0
        started = time.perf_counter()
        again = sync.run(direction="pull", full=True).succeeded
        _report("pull again, limit off (updates)", again, time.perf_counter() - started)
        Lead.objects.all().delete()
        started = time.perf_counter()
        fresh = sync.run(direction="pull", full=True).succeeded
        _report("pull, limit off, empty database (inserts)", fresh, time.perf_counter() - started)


def _report(label: str, count: int, seconds: float, *, ceiling: int = 0, fake=None, before: int = 0) -> None:
    line = f"{label}: {count} records in {seconds:.2f} s = {count / seconds:.1f} records/s"
    if ceiling:
        line += f", {count / seconds / ceiling:.1%} of the {ceiling} records/s ceiling"
    if fake is not None:
        line += f", 429s: {fake.count_429 - before}"
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
