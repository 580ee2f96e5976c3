"""With OUTREACH_CHECK_DELIVERABILITY, DNS is asked before the claim's transaction, once per domain."""

import sys
import time

import pytest
from django.test import Client

from leads.models import OutboundEmail, Suppression
from pipeline import engage
from pipeline.engage import unsubscribe
from tests.builders import make_lead, make_leads
from tests.fakes.dns import SlowDNS
from tests.fakes.smtp import FakeSMTP
from tests.processes import django_env, running


@pytest.mark.django_db
def test_each_domain_is_asked_once_per_run_and_an_undeliverable_one_is_invalid_email(smtp, settings):
    with SlowDNS(delay=0) as resolver:
        settings.OUTREACH_CHECK_DELIVERABILITY = True
        settings.OUTREACH_DNS_SERVER = resolver.address
        settings.OUTREACH_BATCH_SIZE = 2
        make_leads(6, email="x@same.example")
        summary = engage.run()
        asked = [name for name in resolver.queries if name.startswith("same.example")]
    assert summary.skipped == {"invalid_email": 6}
    assert 0 < len(asked) <= 3  # MX, then A and AAAA once: the next batches use the run's cache
    assert smtp.received == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_unsubscribe_post_succeeds_on_sqlite_while_an_engager_waits_on_a_slow_resolver(tmp_path):
    """An engager with slow DNS lookups holds no write lock meanwhile: the one-click POST answers at once."""
    sent = make_lead(email="ada@engines.example")
    email = OutboundEmail.objects.create(lead=sent, recipient=sent.email, subject="Hi", body="Hi", status="sent")
    for n in range(6):
        make_lead(email=f"person@slow{n}.example")
    with SlowDNS(delay=1.0) as resolver, FakeSMTP() as smtp:
        env = django_env(
            EMAIL_URL=smtp.email_url(),
            OUTREACH_CHECK_DELIVERABILITY="true",
            OUTREACH_DNS_SERVER=resolver.address,
        )
        command = [sys.executable, "manage.py", "engage", "--json"]
        with running(command, env=env, log=tmp_path / "engage.log") as engager:
            deadline = time.monotonic() + 30
            while not resolver.queries and time.monotonic() < deadline:
                time.sleep(0.05)
            assert resolver.queries, (tmp_path / "engage.log").read_text()
            started = time.monotonic()
            response = Client(enforce_csrf_checks=True).post(
                f"/unsubscribe/{unsubscribe.make_token(email.pk)}", {"List-Unsubscribe": "One-Click"}
            )
            elapsed = time.monotonic() - started
            assert engager.poll() is None  # still asking DNS
            engager.wait(timeout=120)
    assert response.status_code == 200
    assert elapsed < 2, elapsed
    assert Suppression.objects.filter(address="ada@engines.example").exists()
