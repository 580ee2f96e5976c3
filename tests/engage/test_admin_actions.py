"""The admin actions: preview what the engager would do, then queue it on the cluster;
add addresses to the suppression list."""

import time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django_q.brokers import get_broker
from django_q.signing import SignedPackage

from leads.models import Job, Lead, OutboundEmail, PipelineRun, RunOutcome, Suppression
from tests.builders import make_lead
from tests.fakes.airtable import FakeAirtable, record_fields
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, free_port, manage, running

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def _act(admin_client, action, leads, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [lead.pk for lead in leads], **extra}
    return admin_client.post("/admin/leads/lead/", data, follow=True)


def test_engage_shows_the_decisions_first_and_sends_nothing(admin_client, smtp):
    ada = make_lead(name="Ada Lovelace")
    nobody = make_lead(name="No Address", email="")
    page = _act(admin_client, "engage_selected", [ada, nobody])
    html = page.content.decode()
    assert "Engage these leads?" in html
    assert "Would send 1, skip 1 (no_email 1), defer 0" in " ".join(html.split())
    assert "skip: no_email" in html
    assert 'name="post" value="yes"' in html
    assert smtp.received == []
    assert not OutboundEmail.objects.exists()


def _queued_tasks() -> list[dict]:
    """Takes every task waiting in the broker (the ORM or Redis, as configured) and returns it unpacked."""
    broker = get_broker()
    tasks = []
    while batch := broker.dequeue():
        for ack_id, package in batch:
            tasks.append(SignedPackage.loads(package))
            broker.acknowledge(ack_id)
    return tasks


def test_engage_confirmed_is_queued_and_answers_within_a_second_with_airtable_down(admin_client, smtp, settings):
    """The web request waits on neither SMTP nor Airtable: the cluster sends and pushes."""
    settings.AIRTABLE_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # refuses every connection
    _queued_tasks()  # nothing left over from another test
    ada, grace = make_lead(), make_lead()
    make_lead()  # not selected
    started = time.monotonic()
    page = _act(admin_client, "engage_selected", [ada, grace], post="yes")
    assert time.monotonic() - started < 1
    assert "Queued on the cluster: the 2 selected leads are engaged within a minute" in page.content.decode()
    [task] = _queued_tasks()
    assert (task["func"], sorted(task["kwargs"]["lead_ids"])) == (
        "pipeline.jobs.tasks.run_engage",
        sorted([ada.pk, grace.pk]),
    )
    assert smtp.received == []
    assert not OutboundEmail.objects.exists()
    assert not PipelineRun.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_queued_engage_sends_to_the_selected_leads_only_then_pushes(admin_client, tmp_path):
    """The queued call, run by a real cluster: the two selected leads are emailed, the third is not,
    and their statuses reach Airtable."""
    with FakeAirtable(table=[record_fields(n) for n in range(1, 4)], rate_limit=None) as airtable, FakeSMTP() as smtp:
        env = django_env(
            EMAIL_URL=smtp.email_url(),
            AIRTABLE_ENDPOINT_URL=airtable.url,
            AIRTABLE_API_KEY=airtable.token,
            AIRTABLE_BASE_ID=airtable.base_id,
            AIRTABLE_TABLE_NAME=airtable.table_name,
            LOG_LEVEL="WARNING",
        )
        assert manage("sync_airtable", "--direction", "pull", env=env).returncode == 0
        ada, grace, other = Lead.objects.order_by("pk")
        _act(admin_client, "engage_selected", [ada, grace], post="yes")
        log = tmp_path / "qcluster.log"
        with running(["python", "manage.py", "qcluster"], env=env, log=log):
            deadline = time.monotonic() + 60
            while not PipelineRun.objects.filter(job=Job.SYNC_PUSH).exclude(outcome=RunOutcome.RUNNING).exists():
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.3)
        statuses = {r["fields"]["Email"]: r["fields"].get("Engagement Status") for r in airtable.records}
    assert sorted(smtp.recipients) == sorted([ada.email, grace.email])
    assert not other.emails.exists()
    assert statuses == {ada.email: "Contacted", grace.email: "Contacted", other.email: "New"}
    assert PipelineRun.objects.get(job=Job.SYNC_PUSH).outcome == RunOutcome.SUCCEEDED


def test_add_to_suppression_list(admin_client):
    leads = [make_lead(email="ada@engines.example"), make_lead(email="ADA@engines.example"), make_lead(email="")]
    Suppression.objects.create(address="grace@cobol.example")
    leads.append(make_lead(email="Grace@Cobol.example"))
    page = _act(admin_client, "suppress_selected", leads)
    assert "1 addresses added to the suppression list; 2 were on it already or repeated; 1 leads have no address." in (
        page.content.decode()
    )
    assert sorted(Suppression.objects.values_list("address", "source")) == [
        ("ada@engines.example", "admin"),
        ("grace@cobol.example", ""),
    ]
