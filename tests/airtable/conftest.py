"""What the Airtable tests share: the fake Airtable on loopback, with the settings pointed at it."""

import pytest

from tests.fakes.airtable import FakeAirtable, demo_table, use


@pytest.fixture
def fake(settings, tmp_path):
    """A fake Airtable holding five demo records."""
    with FakeAirtable(table=demo_table(5)) as server:
        yield use(server, settings, tmp_path)
