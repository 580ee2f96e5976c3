"""The root of the services' error types.

Each client module defines its own subclass (`AirtableError` in airtable.py,
`LLMError` in llm.py, `ScrapeError` in fetcher.py, `SendError` in sending.py) and is
the only module that raises it. `str(err)` is one line a person can act on: it
names the variable, field or host to fix and never holds a key or a full address.
"""


class ServiceError(Exception):
    """A service could not be used; `cause` is a short machine-readable word."""

    def __init__(self, message: str, *, cause: str = "error", permanent: bool = False) -> None:
        super().__init__(message)
        self.cause = cause
        self.permanent = permanent  # True when retrying cannot help (bad key, bad configuration)
