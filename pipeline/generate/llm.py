"""The process's one OpenAI client, and the only module that raises `LLMError`.

The client is built on first use from `OPENAI_*` settings (any OpenAI-compatible
server through `OPENAI_BASE_URL`, a proxy through `OPENAI_PROXY`) and kept for the
process; it is rebuilt only when those settings change (tests) or after `reset()`.
Every library failure is translated here into one `LLMError` with a cause.
"""

import email.utils
import json
import logging
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx2
import openai
from django.conf import settings
from openai.types.chat import ChatCompletion

from outreach_site.logs import url_host
from pipeline.errors import ServiceError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# A 429 pauses every thread for its retry-after, but never longer than this: a
# server asking for hours has run out of quota, and waiting will not help this run.
_MAX_PAUSE = 60.0
# The pause after a 429 that names no retry-after.
_DEFAULT_PAUSE = 1.0
# Structured output, best first. A server that refuses one (HTTP 400 or 422) is asked for
# the next, then for none (the prompt also describes a plain format); the client
# remembers what its server refused, so this costs a call or two once per process.
STRUCTURED_FORMATS = ("json_schema", "json_object")


class LLMCause(StrEnum):
    """The only causes an LLMError carries (and the generator's reasons for a fallback)."""

    NO_KEY = "no_key"  # OPENAI_API_KEY is not set: nothing is called
    AUTH = "auth"  # the key was refused
    UNREACHABLE = "unreachable"  # no connection to OPENAI_BASE_URL
    PROXY = "proxy"  # OPENAI_PROXY refused the connection
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    SERVER = "server"  # a 5xx after the SDK's retries
    REJECTED = "rejected"  # another 4xx: the model name, the request
    BAD_ANSWER = "bad_answer"  # an answer that is no usable chat completion or fails a check
    # Never raised here: the generator's reason for a fallback when a draft failed the
    # grounding check twice (grounding.py).
    UNGROUNDED = "ungrounded"
    # Never raised here either: an answer the output check refused (a foreign link or
    # address, markup, unsubscribe wording, a header line), e.g. a website's injected
    # instructions obeyed (pipeline/outbound_check.py).
    UNSAFE = "unsafe"


# Causes after which no other call in the batch can do better; the stage stops calling.
FATAL_CAUSES = frozenset({LLMCause.AUTH, LLMCause.UNREACHABLE, LLMCause.PROXY, LLMCause.TIMEOUT, LLMCause.SERVER})


class LLMError(ServiceError):
    """The LLM could not be used; `str(err)` is one line a person can act on."""

    causes = LLMCause


@dataclass(frozen=True, slots=True)
class _Config:
    api_key: str
    model: str
    base_url: str
    proxy: str
    timeout: float
    max_retries: int

    @classmethod
    def from_settings(cls) -> "_Config":
        return cls(
            api_key=settings.OPENAI_API_KEY,
            model=settings.OPENAI_MODEL,
            base_url=settings.OPENAI_BASE_URL or DEFAULT_BASE_URL,
            proxy=settings.OPENAI_PROXY,
            timeout=settings.OPENAI_TIMEOUT,
            max_retries=settings.OPENAI_MAX_RETRIES,
        )

    @property
    def host(self) -> str:
        return url_host(self.base_url)

    @property
    def proxy_host(self) -> str:
        return url_host(self.proxy)


def _retry_after(headers: httpx2.Headers) -> float:
    """Seconds a 429 asks us to wait: `retry-after-ms`, `retry-after` seconds or date, else a default."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            return min(max(float(headers[name]) / divisor, 0.0), _MAX_PAUSE)
        except (KeyError, ValueError):
            continue
    parsed = email.utils.parsedate_tz(headers.get("retry-after", ""))
    if parsed is None:
        return _DEFAULT_PAUSE
    return min(max(email.utils.mktime_tz(parsed) - time.time(), 0.0), _MAX_PAUSE)


class _Gate:
    """A pause shared by every thread: one 429 holds back all calls until its retry-after ends.

    It sits in the HTTP client's event hooks, so it also holds back the SDK's own retries.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self.pauses = 0  # pauses started, for the stage's one log line

    def wait(self, request: httpx2.Request | None = None) -> None:
        while (delay := self._until - time.monotonic()) > 0:
            time.sleep(delay)

    def on_response(self, response: httpx2.Response) -> None:
        if response.status_code != 429:
            return
        until = time.monotonic() + _retry_after(response.headers)
        with self._lock:
            if until > self._until:
                if self._until <= time.monotonic():
                    self.pauses += 1
                self._until = until


class _Client:
    """The SDK client with the gate it shares and whether a call has succeeded yet."""

    def __init__(self, config: _Config) -> None:
        self.config = config
        self.gate = _Gate()
        self.established = False
        self.formats = list(STRUCTURED_FORMATS)  # what the server has not refused yet
        self._lock = threading.Lock()
        self.sdk = openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            http_client=openai.DefaultHttpxClient(
                proxy=config.proxy or None,
                timeout=config.timeout,
                event_hooks={"request": [self.gate.wait], "response": [self.gate.on_response]},
            ),
        )

    def refuse(self, kind: str) -> None:
        with self._lock:
            if kind not in self.formats:
                return
            self.formats.remove(kind)
        logger.info(
            "OpenAI server refused a response format; asking for the next",
            extra={"response_format": kind, "next": self.formats[0] if self.formats else "plain text"},
        )

    def mark_established(self) -> None:
        with self._lock:
            if self.established:
                return
            self.established = True
        logger.info(
            "OpenAI API connection established",
            extra={"model": self.config.model, "host": self.config.host, "proxy": bool(self.config.proxy)},
        )


_current: _Client | None = None
_current_lock = threading.Lock()


def _client() -> _Client:
    """The process's one client; built on first use, rebuilt only when the settings change."""
    global _current
    config = _Config.from_settings()
    with _current_lock:
        if _current is None or _current.config != config:
            if _current is not None:
                _current.sdk.close()
            _current = _Client(config)
        return _current


def reset() -> None:
    """Close and forget the client; the next call builds a new one (tests, settings reloads)."""
    global _current
    with _current_lock:
        if _current is not None:
            _current.sdk.close()
        _current = None


def is_configured() -> bool:
    """Whether an API key is set; without one the stage uses the fallback and calls nothing."""
    return bool(settings.OPENAI_API_KEY.strip())


def rate_limit_pauses() -> int:
    """How many shared pauses 429s have caused in this process's client so far."""
    return _current.gate.pauses if _current is not None else 0


def complete(
    messages: list[dict[str, str]], *, max_tokens: int | None = None, schema: dict[str, Any] | None = None
) -> str:
    """The text of one chat completion for `messages`.

    With `schema` (`{"name": …, "schema": {…}}`), asks for structured output: a JSON schema where
    the server takes one, else JSON mode, else plain text. Raises LLMError with the cause when the
    server cannot be used or its answer is not a chat completion. Thread-safe: the pool's threads
    share the client and its pause.
    """
    client = _client()
    config = client.config
    kinds = [*client.formats, None] if schema else [None]
    for kind in kinds:
        try:
            reply = client.sdk.chat.completions.create(
                model=config.model,
                messages=messages,
                **({"max_tokens": max_tokens} if max_tokens else {}),
                **({"response_format": _response_format(kind, schema)} if kind else {}),
            )
        except openai.APIStatusError as exc:
            if kind and exc.status_code in (400, 422):  # the format, most likely: try the next one
                client.refuse(kind)
                continue
            raise _translate(exc, config) from exc
        except openai.OpenAIError as exc:
            raise _translate(exc, config) from exc
        except json.JSONDecodeError as exc:  # a 200 whose JSON body is broken; not an OpenAIError
            raise LLMError(f"the answer from {config.host} was not valid JSON", cause=LLMCause.BAD_ANSWER) from exc
        return _content(reply, client)
    raise AssertionError("unreachable: the last try asks for no format")  # pragma: no cover


def _response_format(kind: str, schema: dict[str, Any]) -> dict[str, Any]:
    if kind == "json_schema":
        return {"type": "json_schema", "json_schema": schema}
    return {"type": "json_object"}


def _content(reply: object, client: _Client) -> str:
    host = client.config.host
    if not isinstance(reply, ChatCompletion):  # a 200 served as text/html comes back as a str
        raise LLMError(f"the answer from {host} was not a chat completion", cause=LLMCause.BAD_ANSWER)
    content = reply.choices[0].message.content if reply.choices else None
    if not isinstance(content, str):
        raise LLMError(f"the answer from {host} had no message", cause=LLMCause.BAD_ANSWER)
    client.mark_established()
    return content


def _translate(exc: openai.OpenAIError, config: _Config) -> LLMError:
    """One line per cause, naming what to fix; never the key."""
    host = config.host
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError, its parent class
        return LLMError(f"OpenAI server at {host} gave no answer within {config.timeout:g}s", cause=LLMCause.TIMEOUT)
    if isinstance(exc, openai.APIConnectionError):
        if config.proxy and isinstance(exc.__cause__, httpx2.ConnectError | httpx2.ProxyError):
            return LLMError(
                f"proxy {config.proxy_host} refused the connection; check OPENAI_PROXY",
                cause=LLMCause.PROXY,
                permanent=True,
            )
        return LLMError(f"cannot reach the OpenAI server at {host}; check OPENAI_BASE_URL", cause=LLMCause.UNREACHABLE)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMError(
            f"OpenAI server at {host} refused the key (HTTP {exc.status_code}); check OPENAI_API_KEY",
            cause=LLMCause.AUTH,
            permanent=True,
        )
    if isinstance(exc, openai.RateLimitError):
        if exc.code == "insufficient_quota":
            return LLMError(f"OpenAI quota exhausted at {host}", cause=LLMCause.RATE_LIMITED, permanent=True)
        return LLMError(f"OpenAI server at {host} is rate limiting us (HTTP 429)", cause=LLMCause.RATE_LIMITED)
    if isinstance(exc, openai.InternalServerError):
        return LLMError(f"OpenAI server at {host} failed (HTTP {exc.status_code})", cause=LLMCause.SERVER)
    if isinstance(exc, openai.APIStatusError):
        hint = "; check OPENAI_MODEL" if exc.status_code == 404 else ""
        return LLMError(
            f"OpenAI server at {host} rejected the request (HTTP {exc.status_code}){hint}",
            cause=LLMCause.REJECTED,
            permanent=exc.status_code == 404,
        )
    return LLMError(f"the answer from {host} was unusable ({type(exc).__name__})", cause=LLMCause.BAD_ANSWER)
