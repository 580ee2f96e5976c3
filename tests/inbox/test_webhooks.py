"""ESP webhooks (Mailgun, through django-anymail's own views): Mailgun's real event payloads
posted to the running app, signed as Mailgun signs them and behind the basic-auth secret,
have the same effects as the mail the inbox reads, once."""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from leads.models import InboundMessage, Lead, LeadStatus, Suppression
from tests.inbox import mail
from tests.processes import django_env, gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAYLOADS = Path(__file__).resolve().parent / "webhooks"
SIGNING_KEY = "key-for-the-tests-0123456789abcdef"
SECRET = "mailgun:webhook-basic-auth-secret"


@pytest.fixture(scope="module")
def app(django_db_setup, tmp_path_factory):
    """The app under gunicorn on the test database, started once for these tests (one worker boots
    faster on a busy machine; its start is given a minute)."""
    env = django_env(
        ANYMAIL_WEBHOOK_SECRET=SECRET,
        ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY=SIGNING_KEY,
        LOG_LEVEL="WARNING",
        GUNICORN_WORKERS="1",
    )
    with gunicorn(env=env, log=tmp_path_factory.mktemp("web") / "gunicorn.log", timeout=60) as url:
        yield url


def _signature(timestamp: str, token: str, key: str) -> str:
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def _event(name: str, *, recipient: str, message_id: str, key: str = SIGNING_KEY) -> bytes:
    """A payload of webhooks/ about one email, signed as Mailgun signs it."""
    text = (PAYLOADS / f"{name}.json").read_text()
    text = text.replace("{{recipient}}", recipient).replace("{{message_id}}", message_id.strip("<>"))
    payload = json.loads(text)
    block = payload["signature"]
    block["signature"] = _signature(block["timestamp"], block["token"], key)
    return json.dumps(payload).encode()


def _post(url: str, body: bytes, *, content_type: str = "application/json", auth: str | None = SECRET) -> int:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - the app on loopback
    request.add_header("Content-Type", content_type)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - the app on loopback
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _tracking(app: str) -> str:
    return f"{app}/anymail/mailgun/tracking/"


def test_mailgun_events_have_the_inbox_effects(app):
    emails = {name: mail.sent_email() for name in ("permanent", "temporary", "complained", "unsubscribed")}
    for name, payload in (
        ("permanent", "mailgun-failed-permanent"),
        ("temporary", "mailgun-failed-temporary"),
        ("complained", "mailgun-complained"),
        ("unsubscribed", "mailgun-unsubscribed"),
    ):
        email = emails[name]
        assert _post(_tracking(app), _event(payload, recipient=email.recipient, message_id=email.message_id)) == 200
    delivered = emails["permanent"]
    body = _event("mailgun-delivered", recipient=delivered.recipient, message_id=delivered.message_id)
    assert _post(_tracking(app), body) == 200  # a delivery changes nothing
    rows = {row.email_id: row for row in InboundMessage.objects.all()}
    assert {name: rows[email.pk].kind for name, email in emails.items()} == {
        "permanent": "bounce_hard",
        "temporary": "bounce_soft",
        "complained": "complaint",
        "unsubscribed": "unsubscribe",
    }
    assert {row.mailbox for row in rows.values()} == {"esp:mailgun"}
    assert rows[emails["permanent"].pk].status == "5.1.1"
    assert "matched by its Message-ID" in rows[emails["permanent"].pk].detail
    statuses = {name: Lead.objects.get(pk=email.lead_id).engagement_status for name, email in emails.items()}
    assert statuses == {
        "permanent": LeadStatus.BOUNCED,
        "temporary": "",
        "complained": LeadStatus.DO_NOT_CONTACT,
        "unsubscribed": LeadStatus.UNSUBSCRIBED,
    }
    assert sorted(Suppression.objects.values_list("reason", "source")) == [
        ("bounced", "bounce_hard:esp:mailgun"),
        ("complained", "complaint:esp:mailgun"),
        ("unsubscribed", "unsubscribe:esp:mailgun"),
    ]


def test_an_event_posted_again_has_its_effect_once(app):
    email = mail.sent_email()
    body = _event("mailgun-failed-permanent", recipient=email.recipient, message_id=email.message_id)
    assert [_post(_tracking(app), body) for _ in range(2)] == [200, 200]
    assert InboundMessage.objects.count() == 1
    assert Suppression.objects.count() == 1


def test_an_event_is_matched_by_the_esps_own_id_when_ours_was_replaced(app):
    email = mail.sent_email(provider_message_id="<20180812214658.1.0DF563D0B3597700@mg.example.org>")
    body = _event("mailgun-complained", recipient="someone-else@example.org", message_id=email.provider_message_id)
    assert _post(_tracking(app), body) == 200
    assert InboundMessage.objects.get().email_id == email.pk
    assert Lead.objects.get(pk=email.lead_id).engagement_status == LeadStatus.DO_NOT_CONTACT


@pytest.mark.parametrize(
    ("key", "auth"),
    [("a key Mailgun never had", SECRET), (SIGNING_KEY, None), (SIGNING_KEY, "mailgun:wrong-secret")],
    ids=["bad signature", "no basic auth", "wrong basic auth"],
)
def test_a_post_that_fails_anymails_checks_is_refused_and_changes_nothing(app, key, auth):
    email = mail.sent_email()
    body = _event("mailgun-failed-permanent", recipient=email.recipient, message_id=email.message_id, key=key)
    assert _post(_tracking(app), body, auth=auth) == 400
    assert not InboundMessage.objects.exists()
    assert not Suppression.objects.exists()


def test_a_reply_mailgun_forwards_is_classified_like_mail_from_the_inbox(app):
    email = mail.sent_email()
    token, timestamp = "7c1d0f5a2b3e4d6f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e", str(int(time.time()))
    form = {
        "token": token,
        "timestamp": timestamp,
        "signature": _signature(timestamp, token, SIGNING_KEY),
        "recipient": mail.US,
        "sender": email.recipient,
        "body-mime": mail.answer("unsubscribe-es", email).decode(),
    }
    body = urllib.parse.urlencode(form).encode()
    assert _post(f"{app}/anymail/mailgun/inbound_mime/", body, content_type="application/x-www-form-urlencoded") == 200
    row = InboundMessage.objects.get()
    assert (row.kind, row.email_id, row.mailbox) == ("unsubscribe", email.pk, "esp:mailgun")
    assert Lead.objects.get(pk=email.lead_id).engagement_status == LeadStatus.UNSUBSCRIBED


def test_without_the_basic_auth_secret_no_webhook_is_served(client):
    assert client.post("/anymail/mailgun/tracking/", data="{}", content_type="application/json").status_code == 404
