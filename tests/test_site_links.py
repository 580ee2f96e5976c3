"""Links in emails: a loopback or plain-HTTP SITE_URL is warned about and refused for real email;
a rotated SECRET_KEY keeps old unsubscribe links working; X-Forwarded-Proto is trusted only when told."""

import runpy
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import Client

from leads.models import OutboundEmail, Suppression
from outreach_site import settings as settings_module
from pipeline import engage
from pipeline.engage import site_links, unsubscribe
from tests.builders import make_lead
from tests.processes import PROJECT_DIR, VENV_BIN, django_env, running

SETTINGS_FILE = settings_module.__file__
REFUSED = (
    "SITE_URL (http://localhost:8080) is a loopback address: the unsubscribe links would not work for recipients. "
    "Set SITE_URL to this site's public https:// address, or OUTREACH_ALLOW_LOCAL_LINKS=true"
)


@pytest.fixture
def local_links_refused(settings):
    settings.OUTREACH_ALLOW_LOCAL_LINKS = False  # the product's default (tests/conftest.py allows them)
    settings.DEBUG = False
    settings.SITE_URL = "http://localhost:8080"


@pytest.mark.parametrize(
    ("site_url", "problem"),
    [
        ("http://localhost:8080", "a loopback address"),
        ("https://localhost", "a loopback address"),
        ("https://app.localhost", "a loopback address"),
        ("https://127.0.0.1:8443", "a loopback address"),
        ("https://[::1]", "a loopback address"),
        ("http://0.0.0.0:8000", "a loopback address"),
        ("http://outreach.example.com", "not HTTPS"),
        ("https://outreach.example.com", None),
    ],
)
def test_a_site_url_is_judged_by_its_host_and_scheme(site_url, problem):
    assert site_links.problem(site_url) == problem


def test_check_deploy_warns_about_a_loopback_site_url(local_links_refused):
    with pytest.raises(SystemCheckError, match=r"pipeline\.W001.*SITE_URL \(http://localhost:8080\) is a loopback"):
        call_command("check", "--deploy", "--fail-level", "WARNING")


@pytest.mark.parametrize(
    "change",
    [{"SITE_URL": "https://outreach.example.com"}, {"DEBUG": True}, {"OUTREACH_ALLOW_LOCAL_LINKS": True}],
)
def test_no_warning_for_a_public_https_site_url_in_debug_or_when_allowed(local_links_refused, settings, change):
    for name, value in change.items():
        setattr(settings, name, value)
    assert site_links.check_site_url() == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_qcluster_warns_as_it_starts(tmp_path):
    env = django_env(OUTREACH_ALLOW_LOCAL_LINKS="false", DEBUG="false", SITE_URL="http://localhost:8080", REDIS_URL="")
    log = tmp_path / "qcluster.log"
    with running([str(VENV_BIN / "python"), "manage.py", "qcluster"], env=env, log=log, cwd=PROJECT_DIR):
        deadline = time.monotonic() + 30
        while "pipeline.W001" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert "pipeline.W001" in log.read_text()


def test_the_engager_refuses_real_email_with_a_loopback_site_url(db, local_links_refused, smtp):
    make_lead()
    with pytest.raises(ImproperlyConfigured) as caught:
        engage.run()
    assert str(caught.value) == REFUSED
    assert smtp.received == []
    assert not OutboundEmail.objects.exists()


def test_the_engage_command_stops_with_one_line(db, local_links_refused, smtp):
    make_lead()
    with pytest.raises(CommandError) as caught:
        call_command("engage")
    assert str(caught.value) == REFUSED


def test_files_and_the_console_are_sent_whatever_site_url_says(db, local_links_refused, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    make_lead()
    assert engage.run().succeeded == 1


def test_local_links_are_sent_when_allowed(db, local_links_refused, settings, smtp):
    settings.OUTREACH_ALLOW_LOCAL_LINKS = True
    make_lead()
    assert engage.run().succeeded == 1
    assert len(smtp.received) == 1


def test_a_backend_object_is_judged_by_its_class(local_links_refused):
    from django.core.mail import get_connection

    site_links.refuse_local_links(get_connection("django.core.mail.backends.console.EmailBackend"))
    with pytest.raises(ImproperlyConfigured):
        site_links.refuse_local_links(get_connection("django.core.mail.backends.smtp.EmailBackend"))


def test_rotating_the_secret_key_keeps_old_unsubscribe_links_working(db, settings, smtp):
    settings.SECRET_KEY = "old-key-" + "o" * 40
    make_lead(email="ada@engines.example")
    engage.run()
    token = unsubscribe.make_token(OutboundEmail.objects.get().pk)
    settings.SECRET_KEY = "new-key-" + "n" * 40
    settings.SECRET_KEY_FALLBACKS = []
    assert Client().post(f"/unsubscribe/{token}").status_code == 404  # without the old key: a forged token
    settings.SECRET_KEY_FALLBACKS = ["old-key-" + "o" * 40]
    assert Client().post(f"/unsubscribe/{token}").status_code == 200
    assert Suppression.objects.filter(address="ada@engines.example").exists()


def test_secret_key_fallbacks_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "first-old-key,second-old-key")
    assert runpy.run_path(SETTINGS_FILE)["SECRET_KEY_FALLBACKS"] == ["first-old-key", "second-old-key"]


@pytest.mark.parametrize(("trusted", "status"), [("", 301), ("false", 301), ("true", 404)])
def test_a_client_set_x_forwarded_proto_is_trusted_only_when_told(monkeypatch, settings, db, trusted, status):
    monkeypatch.setenv("TRUST_X_FORWARDED_PROTO", trusted)
    loaded = runpy.run_path(SETTINGS_FILE)
    settings.SECURE_PROXY_SSL_HEADER = loaded.get("SECURE_PROXY_SSL_HEADER")  # None: Django's default
    settings.SECURE_SSL_REDIRECT = True
    # Served (a 404 for an unknown token) when the request counts as HTTPS; else redirected.
    response = Client().get("/unsubscribe/unknown-token", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == status
    if status == 301:
        assert response["Location"].startswith("https://")
