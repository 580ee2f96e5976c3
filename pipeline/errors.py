"""The root of the services' error types.

Each client module defines its own subclass with its causes as a `StrEnum` beside
it (`AirtableError` in airtable/client.py, `LLMError` in generate/llm.py,
`ScrapeError` in scrape/fetch.py, `SendError` in engage/sending.py, `InboxError` in
inbox/imap.py) and is the only module that raises it. `str(err)` is one line a person can act on: it names the
variable, field or host to fix and never holds a key or a full address.
"""

from enum import StrEnum


class ServiceError(Exception):
    """A service could not be used; `cause` is one of the subclass's `causes`."""

    causes: type[StrEnum]  # each subclass names its vocabulary

    def __init__(self, message: str, *, cause: str, permanent: bool = False) -> None:
        super().__init__(message)
        # An unknown cause fails here, where the error is built, not silently where it is compared.
        self.cause = self.causes(cause)
        self.permanent = permanent  # True when retrying cannot help (bad key, bad configuration)
