"""What an Airtable failure means: Airtable's error answer, read in either of its shapes, and
the one line (with its cause) that tells a person what to fix.

Builds `Failure`s and raises nothing: pipeline/airtable.py, the client, raises each one as
its `AirtableError`.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass(frozen=True, slots=True)
class Failure:
    message: str  # one line, naming the variable, field or host to check
    cause: str  # auth | forbidden | not_found | rate_limited | server | timeout | unreachable | invalid_request
    permanent: bool = False
    error_type: str = ""  # Airtable's own code, e.g. INVALID_FILTER_BY_FORMULA


def of_request(exc: requests.RequestException, *, endpoint_url: str, base_id: str, table_name: str) -> Failure:
    """The failure a `requests` exception from one pyairtable call stands for."""
    host = urlsplit(endpoint_url).netloc
    if isinstance(exc, requests.HTTPError):
        return _of_answer(exc.response, base_id=base_id, table_name=table_name)
    if isinstance(exc, requests.Timeout):
        return Failure(f"Airtable ({host}) gave no answer in time; try again later", cause="timeout")
    if isinstance(exc, requests.ConnectionError):
        return Failure(
            f"Airtable ({host}) could not be reached: check AIRTABLE_ENDPOINT_URL and the network", cause="unreachable"
        )
    return Failure(f"Airtable request failed: {type(exc).__name__}", cause="unreachable")


def _of_answer(response: requests.Response | None, *, base_id: str, table_name: str) -> Failure:
    status = response.status_code if response is not None else 0
    error_type, message = _error_body(response)
    if status == 401:
        return Failure("Airtable refused the token: check AIRTABLE_API_KEY", cause="auth", permanent=True)
    if status == 403:
        return Failure(
            f"No access to base {base_id}: check AIRTABLE_BASE_ID and the scopes of AIRTABLE_API_KEY",
            cause="forbidden",
            permanent=True,
            error_type=error_type,
        )
    if status == 404 and error_type == "ROW_DOES_NOT_EXIST":  # a record deleted in Airtable: that batch only
        return Failure(f"Airtable refused the batch: {message}"[:300], cause="invalid_request", error_type=error_type)
    if status == 404:
        if error_type == "TABLE_NOT_FOUND" or "table" in message.lower():
            return Failure(
                f"Table {table_name!r} not found in base {base_id}: check AIRTABLE_TABLE_NAME",
                cause="not_found",
                permanent=True,
                error_type=error_type,
            )
        message = f"Base {base_id} not found: check AIRTABLE_BASE_ID"
        return Failure(message, cause="not_found", permanent=True, error_type=error_type)
    if status == 429:
        return Failure("Airtable's rate limit held after every retry; try again later", cause="rate_limited")
    if status >= 500:
        return Failure(f"Airtable answered {status} after every retry; try again later", cause="server")
    return Failure(
        f"Airtable refused the request ({status} {error_type}): {message}"[:300],
        cause="invalid_request",
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
