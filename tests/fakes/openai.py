"""A fake OpenAI chat-completions server: real HTTP on 127.0.0.1, with latency and faults.

    with FakeOpenAI(latency=0.3) as server:
        settings.OPENAI_BASE_URL = server.url
        server.fail_next("429", retry_after=1)

Faults (`FAULTS`): "500", "429" (with `retry-after`), "401", "hang" (no answer until
the test ends or `hang_seconds` pass), "not_json" (a 200 whose JSON body is broken),
"html" (a 200 served as text/html), "empty" (no content), "placeholders"
(a message with `[Your Name]` and `{company}` left in). A wrong API key gets a 401
as OpenAI sends it. Every request is recorded in `requests`.

What the model writes (`answer_with`): `true_facts` (the default) writes only what the
lead's data says and lists its claims with their quotes; `invented_facts` adds a funding
round, an award, a city and a superlative no lead has (`INVENTED`); `invented_then_true`
invents on the first request and keeps to the facts when asked again. An answer given as
an `Email` is sent as JSON when the request asked for a `response_format` the server
takes (`response_formats`, default both `json_schema` and `json_object`), else in the
plain format with a `Claims:` block. A format the server does not take gets a 400, as
strict servers answer, unless `ignores_response_format` (a server that answers in plain
text whatever is asked).
"""

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("500", "429", "401", "hang", "not_json", "html", "empty", "placeholders")
API_KEY = "sk-test-fake-openai-key-0001"


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the server received it."""

    request_line: str
    path: str
    headers: dict[str, str]
    body: dict
    peer: tuple[str, int]
    arrived: float  # time.monotonic()
    status: int = 0

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])


@dataclass(slots=True)
class _Fault:
    kind: str
    retry_after: float | None = None


@dataclass(slots=True)
class _State:
    latency: float = 0.0
    hang_seconds: float = 30.0
    queued: deque = field(default_factory=deque)
    always: _Fault | None = None
    answer: Callable[[dict], "str | Email"] | None = None


@dataclass(frozen=True, slots=True)
class Email:
    """What the model writes: rendered as JSON or as the plain format, as the request allows."""

    subject: str
    body: str
    claims: tuple[tuple[str, str], ...] = ()  # (claim, quote)

    def as_json(self) -> str:
        claims = [{"claim": claim, "quote": quote} for claim, quote in self.claims]
        return json.dumps({"subject": self.subject, "body": self.body, "claims": claims})

    def as_plain(self) -> str:
        lines = "".join(f'\n- {claim} | "{quote}"' for claim, quote in self.claims)
        return f"Subject: {self.subject}\n\n{self.body}" + (f"\n\nClaims:{lines}" if lines else "")


# What `invented_facts` writes that no lead's data says.
INVENTED = ("$12M", "Series B", "Golden Kettle", "Lisbon", "largest")


def request_facts(body: dict) -> tuple[dict, str, str]:
    """The lead's data block, the sender's name and the offer, read from the request's first user message."""
    user = next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")
    match = re.search(r"<lead>\s*(\{.*?\})\s*</lead>", user, re.S)
    lead = json.loads(match.group(1)) if match else {}
    sender = re.search(r"^Sender's name: (.*)$", user, re.M)
    offer = re.search(r"^Sender's offer: (.*)$", user, re.M)
    return lead, sender.group(1).strip() if sender else "", offer.group(1).strip() if offer else ""


def true_facts(body: dict) -> Email:
    """An email that says only what the lead's data says, with its claims quoted from the data
    (a follow-up when the request shows earlier emails)."""
    lead, sender, offer = request_facts(body)
    if "earlier_emails" in lead:
        return followup_facts(body)
    first = (lead.get("name") or "").split(" ")[0] or "there"
    company = lead.get("company") or "your team"
    description = lead.get("company_description") or ""
    sentence = re.split(r"(?<=[.!?])\s", description, maxsplit=1)[0].strip()[:200]
    if sentence:
        about, claims = f'I read on your website: "{sentence}"', ((f"what {company} does", sentence),)
    else:
        about, claims = f"I came across {company} and thought of your team.", ()
    text = f"Hi {first},\n\n{about}\n\n{offer}\n\nWould a short call next week help?\n\nBest,\n{sender}"
    return Email(subject=f"An idea for {company}", body=text, claims=claims)


def followup_facts(body: dict) -> Email:
    """A follow-up that adds the description's second sentence (else the offer), quoted from the data."""
    lead, sender, offer = request_facts(body)
    first = (lead.get("name") or "").split(" ")[0] or "there"
    sentences = re.split(r"(?<=[.!?])\s", lead.get("company_description") or "")
    sentence = (sentences[1] if len(sentences) > 1 else "").strip()[:200]
    if sentence:
        about, claims = f'One more thought: you write that "{sentence}"', (("what the company says", sentence),)
    else:
        about, claims = f"One more thought: {offer}", ()
    closing = "This is my last note." if lead.get("last_touch") else "Worth a short call?"
    text = f"Hi {first},\n\n{about}\n\n{closing}\n\nBest,\n{sender}"
    return Email(subject="Re", body=text, claims=claims)


def bumping(body: dict) -> Email:
    """A follow-up with nothing in it: what the generator must not send."""
    _, sender, _ = request_facts(body)
    return Email(subject="Re", body=f"Hi,\n\nJust bumping this to the top of your inbox.\n\nBest,\n{sender}")


def invented_facts(body: dict) -> Email:
    """The true email plus a funding round, an award, a city and a superlative that no lead has."""
    email = true_facts(body)
    lead, _, _ = request_facts(body)
    company = lead.get("company") or "your company"
    invented = (
        f"Congratulations on {company}'s $12M Series B and the Golden Kettle Award; "
        "as the largest team in Lisbon you must be busy."
    )
    first, _, rest = email.body.partition("\n\n")
    claims = (
        ("raised $12M in a Series B", "raised $12M in a Series B"),
        ("won an award", "Golden Kettle Award winner"),
    )
    return Email(subject=email.subject, body=f"{first}\n\n{invented}\n\n{rest}", claims=email.claims + claims)


def invented_then_true(body: dict) -> Email:
    """Invents on the first request; keeps to the facts when asked again (the request then has the draft)."""
    return true_facts(body) if len(body.get("messages", [])) > 2 else invented_facts(body)


def default_answer(body: dict) -> str:
    """The default answer, in the plain format: what `true_facts` writes."""
    return true_facts(body).as_plain()


ANSWERS = {"true": true_facts, "invented": invented_facts, "invented_once": invented_then_true, "bumping": bumping}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops connections a pool of 8 opens at once


class FakeOpenAI:
    """The server; use as a context manager. `url` is the base URL for the SDK."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        api_key: str = API_KEY,
        port: int = 0,
        response_formats: tuple[str, ...] = ("json_schema", "json_object"),
        ignores_response_format: bool = False,
    ) -> None:
        self.api_key = api_key
        self.response_formats = response_formats
        self.ignores_response_format = ignores_response_format
        self.requests: list[Recorded] = []
        self.peak_in_flight = 0  # most requests being answered at one time
        self._in_flight = 0
        self._state = _State(latency=latency)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- switches ---------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.latency = seconds

    @property
    def hang_seconds(self) -> float:
        return self._state.hang_seconds

    @hang_seconds.setter
    def hang_seconds(self, seconds: float) -> None:
        self._state.hang_seconds = seconds

    def fail_next(self, kind: str, *, count: int = 1, retry_after: float | None = None) -> None:
        """The next `count` requests get this fault, then answers are normal again."""
        assert kind in FAULTS, kind
        with self._lock:
            self._state.queued.extend(_Fault(kind, retry_after) for _ in range(count))

    def fail_always(self, kind: str | None, *, retry_after: float | None = None) -> None:
        """Every request gets this fault until `fail_always(None)`."""
        assert kind is None or kind in FAULTS, kind
        self._state.always = _Fault(kind, retry_after) if kind else None

    def answer_with(self, answer: "Callable[[dict], str | Email] | None") -> None:
        """Normal answers come from `answer(request_body)` instead of `true_facts`."""
        self._state.answer = answer

    @property
    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # --- lifecycle --------------------------------------------------------------
    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # ends any hanging answer at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- serving ----------------------------------------------------------------
    def _next_fault(self) -> _Fault | None:
        with self._lock:
            if self._state.queued:
                return self._state.queued.popleft()
        return self._state.always

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add about 40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                arrived = time.monotonic()
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                status, headers, payload = fake._respond(self.headers.get("authorization", ""), body)
                fake._record(
                    Recorded(
                        request_line=self.requestline,
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        peer=self.client_address,
                        arrived=arrived,
                        status=status,
                    )
                )
                if status == 0:  # a hang: the client gives up first; close without answering
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def _respond(self, authorization: str, body: dict) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            return self._answer(authorization, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, authorization: str, body: dict) -> tuple[int, dict[str, str], bytes]:
        if self._state.latency:
            self._closing.wait(self._state.latency)
        fault = self._next_fault()
        kind = fault.kind if fault else ""
        if kind == "401" or authorization != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error")
        if kind == "500":
            return _error(500, "The server had an error while processing your request.", None, "server_error")
        if kind == "429":
            status, headers, payload = _error(429, "Rate limit reached.", "rate_limit_exceeded", "requests")
            if fault.retry_after is not None:
                headers["retry-after"] = f"{fault.retry_after:g}"
            return status, headers, payload
        if kind == "hang":
            self._closing.wait(self._state.hang_seconds)
            return 0, {}, b""
        if kind == "not_json":
            return 200, {"content-type": "application/json"}, b'{"id": "chatcmpl-1", "choices": [{"mess'
        if kind == "html":
            return 200, {"content-type": "text/html"}, b"<html><body><h1>Gateway login</h1></body></html>"
        if kind == "empty":
            content = ""
        elif kind == "placeholders":
            content = "Subject: An idea for {company}\n\nHi [First Name],\n\nWe can help None.\n\nBest,\n[Your Name]"
        else:
            requested = (body.get("response_format") or {}).get("type")
            if requested and requested not in self.response_formats and not self.ignores_response_format:
                message = f"response_format {requested!r} is not supported by this model"
                return _error(400, message, None, "invalid_request_error")
            answer = (self._state.answer or true_facts)(body)
            if isinstance(answer, Email):
                answer = answer.as_json() if requested in self.response_formats else answer.as_plain()
            content = answer
        return 200, {"content-type": "application/json"}, _completion(body.get("model", ""), content)


def _error(status: int, message: str, code: str | None, kind: str) -> tuple[int, dict[str, str], bytes]:
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return status, {"content-type": "application/json"}, json.dumps(payload).encode()


def _completion(model: str, content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
    ).encode()


@contextlib.contextmanager
def serving(settings, **options: object) -> Iterator[FakeOpenAI]:
    """A running fake with the `OPENAI_*` settings pointed at it: no proxy, short timeout, no SDK retries."""
    from pipeline.generate import llm

    with FakeOpenAI(**options) as server:
        settings.OPENAI_API_KEY = server.api_key
        settings.OPENAI_BASE_URL = server.url
        settings.OPENAI_MODEL = "gpt-test"
        settings.OPENAI_PROXY = ""
        settings.OPENAI_TIMEOUT = 2.0
        settings.OPENAI_MAX_RETRIES = 0
        settings.OPENAI_CONCURRENCY = 8
        try:
            yield server
        finally:
            llm.reset()


def main() -> None:
    """`python -m tests.fakes.openai PORT LATENCY [true|invented|invented_once]`: serve in a process of its own
    until killed (benchmarks)."""
    import sys

    port, latency = int(sys.argv[1]), float(sys.argv[2])
    with FakeOpenAI(latency=latency, port=port) as server:
        server.answer_with(ANSWERS[sys.argv[3] if len(sys.argv) > 3 else "true"])
        server._thread.join()


if __name__ == "__main__":
    main()
