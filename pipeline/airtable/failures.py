"""What an Airtable failure means: the error type and its causes, Airtable's error answer
read in either of its shapes, and the one line that tells a person what to fix.

Builds `AirtableError`s and raises nothing: the client (client.py) is the only module
that raises them.
"""

from enum import StrEnum

import requests

from outreach_site.logs import url_host
from pipeline.errors import ServiceError


class AirtableCause(StrEnum):
    """The only causes an AirtableError carries."""

    CONFIG = "config"  # a variable is not set: this deployment has no Airtable
    AUTH = "auth"  # the token was refused
    FORBIDDEN = "forbidden"  # no access to the base, or a scope missing
    NOT_FOUND = "not_found"  # no such base or table
    RATE_LIMITED = "rate_limited"  # 429s outlasted every retry
    SERVER = "server"  # 5xx after every retry
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # no connection to the endpoint
    INVALID_REQUEST = "invalid_request"  # Airtable refused this one request (a formula, a value)
    RECORD_DELETED = "record_deleted"  # the record was deleted in Airtable


class AirtableError(ServiceError):
    """Airtable could not be used; `str(err)` is one line naming what to fix."""

    causes = AirtableCause

    def __init__(self, message: str, *, cause: str, permanent: bool = False, error_type: str = "") -> None:
        super().__init__(message, cause=cause, permanent=permanent)
        self.error_type = error_type  # Airtable's own code, e.g. INVALID_FILTER_BY_FORMULA


def of_request(exc: requests.RequestException, *, endpoint_url: str, base_id: str, table_name: str) -> AirtableError:
    """The error a `requests` exception from one pyairtable call stands for (to be raised by the client)."""
    host = url_host(endpoint_url)  # never the user name or password an endpoint URL may carry
    if isinstance(exc, requests.HTTPError):
        return _of_answer(exc.response, base_id=base_id, table_name=table_name)
    if isinstance(exc, requests.Timeout):
        return AirtableError(f"Airtable ({host}) gave no answer in time; try again later", cause=AirtableCause.TIMEOUT)
    if isinstance(exc, requests.ConnectionError):
        return AirtableError(
            f"Airtable ({host}) could not be reached: check AIRTABLE_ENDPOINT_URL and the network",
            cause=AirtableCause.UNREACHABLE,
        )
    return AirtableError(f"Airtable request failed: {type(exc).__name__}", cause=AirtableCause.UNREACHABLE)


def _of_answer(response: requests.Response | None, *, base_id: str, table_name: str) -> AirtableError:
    status = response.status_code if response is not None else 0
    error_type, message = _error_body(response)
    if status == 401:
        return AirtableError(
            "Airtable refused the token: check AIRTABLE_API_KEY", cause=AirtableCause.AUTH, permanent=True
        )
    if status == 403:
        return AirtableError(
            f"No access to base {base_id}: check AIRTABLE_BASE_ID and the scopes of AIRTABLE_API_KEY",
            cause=AirtableCause.FORBIDDEN,
            permanent=True,
            error_type=error_type,
        )
    if error_type == "ROW_DOES_NOT_EXIST":  # a record deleted in Airtable, whatever the status (Airtable: 422)
        return AirtableError(
            f"Airtable refused the write: {message}"[:300], cause=AirtableCause.RECORD_DELETED, error_type=error_type
        )
    if status == 404:
        if error_type == "TABLE_NOT_FOUND" or "table" in message.lower():
            return AirtableError(
                f"Table {table_name!r} not found in base {base_id}: check AIRTABLE_TABLE_NAME",
                cause=AirtableCause.NOT_FOUND,
                permanent=True,
                error_type=error_type,
            )
        message = f"Base {base_id} not found: check AIRTABLE_BASE_ID"
        return AirtableError(message, cause=AirtableCause.NOT_FOUND, permanent=True, error_type=error_type)
    if status == 429:
        return AirtableError(
            "Airtable's rate limit held after every retry; try again later", cause=AirtableCause.RATE_LIMITED
        )
    if status >= 500:
        return AirtableError(
            f"Airtable answered {status} after every retry; try again later", cause=AirtableCause.SERVER
        )
    return AirtableError(
        f"Airtable refused the request ({status} {error_type}): {message}"[:300],
        cause=AirtableCause.INVALID_REQUEST,
        error_type=error_type,
    )


def _error_body(response: requests.Response | None) -> tuple[str, str]:
    """Airtable's error code and message; both shapes: {"error": "CODE"} and {"error": {"type", "message"}}."""
    try:
        error = response.json().get("error") if response is not None else None
    except ValueError:
        return "", ""
    if isinstance(error, dict):
        return str(error.get("type", "")), " ".join(str(error.get("message", "")).split())
    return str(error or ""), ""


def unknown_field(message: str, error_type: str) -> str:
    """The field name in `Unknown field name: "X"`, else ''."""
    if error_type != "UNKNOWN_FIELD_NAME":
        return ""
    start = message.find('"')
    end = message.rfind('"')
    return message[start + 1 : end] if 0 <= start < end else ""
