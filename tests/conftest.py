"""Shared fixtures. Services that a test needs are real; a missing one skips
the test with the reason, except under CI=true, where it fails the run."""

import os

import pytest
from django.conf import settings as django_settings

from tests.fakes import dovecot as dovecot_server
from tests.fakes.smtp import FakeSMTP

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing_service(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and django_settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        return "needs PostgreSQL: set DATABASE_URL=postgres://… (../shared/ci/services.sh starts one)"
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        return "needs Redis: set REDIS_URL=redis://… (../shared/ci/services.sh starts one)"
    if item.get_closest_marker("dovecot") and not dovecot_server.available():
        return dovecot_server.MISSING
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_service(item)
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and a service is missing: {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_outbox(settings, tmp_path):
    """Tests never write to the project's var/outbox; Django's test runner uses locmem."""
    settings.EMAIL_FILE_PATH = str(tmp_path / "outbox")


@pytest.fixture(autouse=True)
def _no_approval_unless_asked(settings):
    """Tests of sending don't approve each lead; the tests of the review queue set OUTREACH_APPROVAL
    themselves (the product's default is `first`, see tests/engage/test_approval.py)."""
    settings.OUTREACH_APPROVAL = "none"


@pytest.fixture(autouse=True)
def _send_at_once(settings):
    """Tests send the moment they run: no window, no gap, no warm-up (the product's defaults are a
    working day and 60-240 s; tests/engage/test_schedule.py and test_mailboxes.py set their own)."""
    settings.OUTREACH_SEND_WINDOW = ""
    settings.OUTREACH_SEND_GAP_SECONDS = (0.0, 0.0)
    settings.OUTREACH_WARMUP_START = 0


@pytest.fixture(autouse=True)
def _local_links_allowed(settings):
    """The tests send to loopback mail servers with a loopback SITE_URL; tests/test_site_links.py
    checks the refusal with this off."""
    settings.OUTREACH_ALLOW_LOCAL_LINKS = True


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, with Django's email settings pointed at it."""
    with FakeSMTP() as server:
        server.use_in(settings)
        yield server


@pytest.fixture
def dovecot(settings):
    """A real Dovecot IMAP server on loopback with INBOX_URL pointed at it (tests using it are marked `dovecot`)."""
    with dovecot_server.Dovecot() as server:
        server.use_in(settings)
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the Dovecot fixture needs Dovecot: it skips (or fails under CI) without it."""
    for item in items:
        if "dovecot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dovecot)


@pytest.fixture
def plain_static_storage(settings):
    """The manifest storage needs collectstatic; tests that render admin pages go without it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _browser_env(request):
    """Browser tests (marker `browser`): Playwright's sync API runs an event loop in the test's
    thread, while the ORM calls the live server and the fixtures make there stay synchronous;
    admin pages render without collectstatic, with DEBUG off as in production."""
    if request.node.get_closest_marker("browser") is None:
        return
    request.getfixturevalue("plain_static_storage")
    request.getfixturevalue("monkeypatch").setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    request.getfixturevalue("settings").DEBUG = False
