"""What the generator tests share: the fake OpenAI server on loopback, with the settings pointed at it."""

import pytest

from tests.fakes.openai import serving


@pytest.fixture
def server(settings):
    with serving(settings) as server:
        yield server
