"""Fixtures of the engage tests."""

import pytest

from tests.fakes.smtp import FakeSMTP


@pytest.fixture
def two_mailboxes(settings):
    """Mailboxes `alpha` and `beta`, each on its own real SMTP server, cap 3 each."""
    with FakeSMTP() as alpha, FakeSMTP() as beta:
        settings.OUTREACH_MAILBOXES = ["alpha", "beta"]
        settings.MAILBOX_SETTINGS = {
            "alpha": {
                "from_email": "Ann <ann@alpha.example>",
                "email_url": alpha.email_url(),
                "inbox_url": "",
                "daily_cap": 3,
            },
            "beta": {
                "from_email": "Bob <bob@beta.example>",
                "email_url": beta.email_url(),
                "inbox_url": "",
                "daily_cap": 3,
            },
        }
        yield {"alpha": alpha, "beta": beta}
