"""A pull never writes back the stale copy of a lead that changed while it was reading: an email
sent or an unsubscribe in between keeps its status and date, on PostgreSQL with real concurrent
transactions."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from leads.models import Lead, SuppressionReason
from pipeline import engage, suppression
from pipeline.airtable import sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock() -> int:
    """Sessions of this test database blocked on a row lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _in_thread(target) -> tuple[threading.Thread, list]:
    errors: list[BaseException] = []

    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test, which raises it
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _send(lead: Lead) -> None:
    assert engage.run(lead_ids=[lead.pk]).succeeded == 1


def _unsubscribe(lead: Lead) -> None:
    suppression.suppress(lead.email, reason=SuppressionReason.UNSUBSCRIBED, source="test")


# Airtable's edit while the pull reads: another field, or the status itself (a person's "Interested").
AIRTABLE_EDITS = {"job title": {"Job Title": "CTO"}, "status": {"Engagement Status": "Interested"}}
LOCAL_WRITES = {"email sent": (_send, "Contacted"), "unsubscribed": (_unsubscribe, "Unsubscribed")}


@pytest.mark.parametrize("airtable_edit", AIRTABLE_EDITS.values(), ids=AIRTABLE_EDITS.keys())
@pytest.mark.parametrize("local_write", LOCAL_WRITES.values(), ids=LOCAL_WRITES.keys())
def test_a_change_made_here_while_a_pull_runs_is_not_overwritten(fake, smtp, airtable_edit, local_write):
    write, status = local_write
    sync.run(direction="pull")
    lead = Lead.objects.get(airtable_id=fake.records[0]["id"])
    fake.edit_record(lead.airtable_id, airtable_edit)
    written, release = threading.Event(), threading.Event()

    def writer():
        # The local change lands while the pull runs: made, and committed only when the pull
        # has read the lead and waits to write it.
        with transaction.atomic():
            write(lead)
            written.set()
            assert release.wait(30)

    writing, write_errors = _in_thread(writer)
    assert written.wait(30)
    pulling, pull_errors = _in_thread(lambda: sync.run(direction="pull"))
    deadline = time.monotonic() + 30
    while not _waiting_on_a_lock() and pulling.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    writing.join(30)
    pulling.join(30)
    assert write_errors == pull_errors == []

    lead.refresh_from_db()
    assert (lead.engagement_status, lead.pending_push) == (status, True)
    if write is _send:
        assert lead.date_messaged == timezone.localdate()
    if "Job Title" in airtable_edit:
        assert lead.job_title == "CTO"  # Airtable's change still arrives, read again after the local one
    sync.run(direction="push")
    assert fake.record(lead.airtable_id)["Engagement Status"] == status
