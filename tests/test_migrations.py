"""A database migrated by an earlier release upgrades with `migrate` and keeps every row.

The release before the one-package-per-stage layout kept `PipelineRun` in the
pipeline app (table pipeline_pipelinerun) and our Message-ID in
`provider_message_id`. The test migrates the test database back to that state,
writes rows through the historical models, then migrates forward as an operator's
`migrate` would, and reads every row back.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True)]

# What the release before this layout had applied.
BEFORE = [("leads", "0001_initial"), ("pipeline", "0001_initial")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [node for node in executor.loader.graph.leaf_nodes() if node[0] in {"leads", "pipeline"}]


@pytest.fixture
def old_database():
    """The test database as the earlier release left it; migrated forward again afterwards."""
    executor = _migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    _migrate(_latest())


def test_leads_emails_skips_and_runs_survive_the_upgrade(old_database):
    old = old_database
    Lead = old.get_model("leads", "Lead")
    OutboundEmail = old.get_model("leads", "OutboundEmail")
    SkipLog = old.get_model("leads", "SkipLog")
    OldRun = old.get_model("pipeline", "PipelineRun")
    ada = Lead.objects.create(airtable_id="recAda", email="ada@engines.example", name="Ada")
    nobody = Lead.objects.create(airtable_id="recNobody", email="", name="Nobody")
    OutboundEmail.objects.create(
        lead=ada,
        touch=1,
        recipient=ada.email,
        subject="Hello",
        body="Hi",
        status="sent",
        provider_message_id="<1.2@seller.example>",
    )
    runs = {job: OldRun.objects.create(job=job, outcome="succeeded", processed=3) for job in ("engage", "sync_both")}
    SkipLog.objects.create(lead=nobody, stage="engage", reason="no_email", run=runs["engage"])

    executor = _migrate(_latest())
    new = executor.loader.project_state(_latest()).apps
    assert set(new.get_model("leads", "Lead").objects.values_list("airtable_id", flat=True)) == {"recAda", "recNobody"}
    email = new.get_model("leads", "OutboundEmail").objects.get()
    assert (email.recipient, email.status) == ("ada@engines.example", "sent")
    assert (email.message_id, email.provider_message_id) == ("<1.2@seller.example>", "")
    moved = new.get_model("leads", "PipelineRun").objects.order_by("pk")
    assert [(run.pk, run.job, run.processed) for run in moved] == [
        (runs["engage"].pk, "engage", 3),
        (runs["sync_both"].pk, "sync", 3),  # one name per job now
    ]
    skip = new.get_model("leads", "SkipLog").objects.get()
    assert (skip.reason, skip.run_id) == ("no_email", runs["engage"].pk)
    assert "leads_pipelinerun" in connection.introspection.table_names()
    assert "pipeline_pipelinerun" not in connection.introspection.table_names()


def test_new_runs_after_the_upgrade_get_fresh_ids(old_database):
    """The moved table keeps its id sequence: a run recorded after the upgrade does not collide."""
    OldRun = old_database.get_model("pipeline", "PipelineRun")
    first = OldRun.objects.create(job="scrape", outcome="succeeded")
    executor = _migrate(_latest())
    PipelineRun = executor.loader.project_state(_latest()).apps.get_model("leads", "PipelineRun")
    later = PipelineRun.objects.create(job="scrape", outcome="running")
    assert later.pk > first.pk


def test_leads_emailed_before_sequences_count_their_emails_sent():
    """The migration that adds `touches` counts each lead's emails sent so far (failed ones not)."""
    before = [("leads", "0010_canonical_address_keys")]
    old = _migrate(before).loader.project_state(before).apps
    Lead = old.get_model("leads", "Lead")
    OutboundEmail = old.get_model("leads", "OutboundEmail")
    emailed = Lead.objects.create(airtable_id="recTwice", email="ada@engines.example")
    refused = Lead.objects.create(airtable_id="recRefused", email="bob@engines.example")
    for touch, lead, status in ((1, emailed, "sent"), (2, emailed, "sent"), (1, refused, "failed")):
        OutboundEmail.objects.create(
            lead=lead, touch=touch, recipient=lead.email, subject="Hi", body="Hi", status=status
        )
    _migrate(_latest())
    from leads.models import Lead as Current

    assert dict(Current.objects.values_list("airtable_id", "touches")) == {"recTwice": 2, "recRefused": 0}
