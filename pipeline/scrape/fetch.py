"""Client: fetches the leads' websites safely. The only module that speaks HTTP to them.

The addresses come from a spreadsheet anyone on the team can edit, so every hop
is checked before a byte is sent: the scheme must be http(s), the host name is
resolved here (never by httpx), every address it resolves to must be public,
and the connection goes to the address that was checked, with the Host header
and the TLS server name set to the host name. A second lookup, which a
hostile DNS server could answer with 127.0.0.1, never happens. Redirects are
followed here, one checked hop at a time, and robots.txt is obeyed.

Every failure is a `ScrapeError` whose `detail` is the short text the scraper
writes to the SkipLog: `dns`, `timeout`, `http 404`, `blocked address`, …
"""

import contextlib
import socket
import ssl
import threading
import time
import urllib.robotparser
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urljoin

import httpx
from django.conf import settings

from pipeline.scrape import netcheck
from pipeline.scrape.failures import ScrapeCause, ScrapeError

_T = TypeVar("_T")
MAX_REDIRECTS = 5
# RFC 9309 asks crawlers to read at least 500 KiB of robots.txt; the rest is ignored.
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_UNAVAILABLE = frozenset({ScrapeCause.TOO_MANY_REDIRECTS, ScrapeCause.SCHEME, ScrapeCause.BAD_URL})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A body is decompressed here, this many bytes at a time, so that a small compressed
# body (a "zip bomb") never grows in memory past SCRAPER_MAX_BYTES plus one piece.
INFLATE_PIECE = 64 * 1024
GZIP_CODINGS = frozenset({"gzip", "x-gzip"})


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str  # the whole header, charset included
    body: bytes


def normalise_url(website: str) -> str:
    """`acme.com` -> `https://acme.com/`; raises ScrapeError (`bad url`, `scheme`)."""
    return _allowed(netcheck.normalise_url(website))


def host_key(url: str) -> str:
    """The host a URL belongs to, for per-host limits: its lower-case `host:port`."""
    return httpx.URL(url).netloc.decode("ascii")


def _allowed(checked: _T | netcheck.Refusal) -> _T:
    """The checked value, or its refusal raised as the ScrapeError the scraper logs."""
    if isinstance(checked, netcheck.Refusal):
        raise ScrapeError(checked.message, cause=checked.cause, permanent=checked.permanent)
    return checked


class Fetcher:
    """One run's fetching: a shared httpx client and a robots.txt cache per host; thread-safe."""

    def __init__(
        self,
        *,
        timeout: float,
        max_bytes: int,
        user_agent: str,
        allow_loopback: bool = False,
        resolve: netcheck.Resolver = netcheck.system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.allow_loopback = allow_loopback
        self._resolve = resolve
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            # The scraper connects only to addresses it checked itself, never through a proxy.
            trust_env=False,
            verify=verify,
            # No connection is reused: the pool is keyed by address, and two sites on one
            # address must not share a TLS session made for the other's name.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                "Accept-Encoding": "identity",
            },
        )
        self._lock = threading.Lock()
        self._robots: dict[str, urllib.robotparser.RobotFileParser | ScrapeError] = {}
        self._robots_locks: dict[str, threading.Lock] = {}

    @classmethod
    def from_settings(cls, **overrides) -> "Fetcher":
        """A fetcher configured by the SCRAPER_* settings and SITE_URL, read now (not at import)."""
        options = {
            "timeout": settings.SCRAPER_TIMEOUT,
            "max_bytes": settings.SCRAPER_MAX_BYTES,
            "user_agent": f"OutreachPipeline/1.0 (+{settings.SITE_URL})",
            "allow_loopback": settings.SCRAPER_ALLOW_PRIVATE,
        }
        options.update(overrides)
        return cls(**options)

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch_html(self, url: str) -> Fetched:
        """The HTML page at `url`, if robots.txt allows it; raises ScrapeError.

        SCRAPER_TIMEOUT bounds the whole fetch in wall-clock time: robots.txt, each
        redirect, each connection, the headers and the body together.
        """
        deadline = time.monotonic() + self.timeout
        fetched = self._follow(url, html_only=True, check_robots=True, max_bytes=self.max_bytes, deadline=deadline)
        if not 200 <= fetched.status < 300:
            raise ScrapeError(
                f"{host_key(fetched.url)} answered HTTP {fetched.status}",
                cause=ScrapeCause.HTTP_STATUS,
                status=fetched.status,
            )
        return fetched

    def _follow(self, url: str, *, html_only: bool, check_robots: bool, max_bytes: int, deadline: float) -> Fetched:
        """Fetch `url`, following at most MAX_REDIRECTS redirects, each hop checked like the first."""
        for _hop in range(MAX_REDIRECTS + 1):
            if check_robots and not self._robots_allow(url, deadline=deadline):
                raise ScrapeError(f"robots.txt of {host_key(url)} disallows {url[:200]}", cause=ScrapeCause.ROBOTS)
            fetched, location = self._get(url, html_only=html_only, max_bytes=max_bytes, deadline=deadline)
            if location is None:
                return fetched
            url = normalise_url(urljoin(url, location))
        raise ScrapeError(
            f"{host_key(url)} redirected more than {MAX_REDIRECTS} times", cause=ScrapeCause.TOO_MANY_REDIRECTS
        )

    def _get(self, url: str, *, html_only: bool, max_bytes: int, deadline: float) -> tuple[Fetched, str | None]:
        """One request to a checked address: the response, or the redirect's Location."""
        target = httpx.URL(normalise_url(url))
        host = target.raw_host.decode("ascii")
        port = target.port or (443 if target.scheme == "https" else 80)
        ips = _allowed(
            netcheck.checked_addresses(host, port, resolve=self._resolve, allow_loopback=self.allow_loopback)
        )
        extensions = {} if netcheck.is_ip_literal(host) or target.scheme != "https" else {"sni_hostname": host}
        headers = {"Host": target.netloc.decode("ascii")}
        for index, address in enumerate(ips):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ScrapeError(f"{host} gave no answer within {self.timeout:g}s", cause=ScrapeCause.TIMEOUT)
            watchdog = _Watchdog(remaining)
            request = self._client.build_request(
                "GET",
                target.copy_with(host=str(address)),
                headers=headers,
                extensions=extensions | {"trace": watchdog.trace},
                timeout=httpx.Timeout(remaining),
            )
            try:
                return self._send(request, url=str(target), html_only=html_only, max_bytes=max_bytes, watchdog=watchdog)
            except httpx.HTTPError as exc:
                if watchdog.fired:  # the deadline cut the connection; whatever httpx says about it
                    raise ScrapeError(
                        f"{host} gave no answer within {self.timeout:g}s", cause=ScrapeCause.TIMEOUT
                    ) from exc
                self._raise_for(exc, host=host, last=index == len(ips) - 1)
            finally:
                watchdog.cancel()
        raise AssertionError("unreachable: checked_addresses returns at least one address")

    def _raise_for(self, exc: httpx.HTTPError, *, host: str, last: bool) -> None:
        """httpx's error as the ScrapeError the scraper logs; returns only for a refused address with others left."""
        if isinstance(exc, httpx.ConnectError):
            if _is_tls_error(exc):
                raise ScrapeError(f"TLS with {host} failed", cause=ScrapeCause.TLS) from exc
            if last:
                raise ScrapeError(f"{host} refused the connection", cause=ScrapeCause.UNREACHABLE) from exc
            return
        if isinstance(exc, httpx.TimeoutException):
            raise ScrapeError(f"{host} gave no answer within {self.timeout:g}s", cause=ScrapeCause.TIMEOUT) from exc
        raise ScrapeError(
            f"{host} broke the connection ({type(exc).__name__})", cause=ScrapeCause.BAD_RESPONSE
        ) from exc

    def _send(
        self, request: httpx.Request, *, url: str, html_only: bool, max_bytes: int, watchdog: "_Watchdog"
    ) -> tuple[Fetched, str | None]:
        response = self._client.send(request, stream=True)
        try:
            content_type = response.headers.get("content-type", "")
            if response.status_code in REDIRECT_STATUSES and response.headers.get("location"):
                return Fetched(url, response.status_code, content_type, b""), response.headers["location"]
            if not 200 <= response.status_code < 300:
                return Fetched(url, response.status_code, content_type, b""), None
            if html_only and content_type.split(";")[0].strip().lower() not in HTML_TYPES:
                shown = content_type.split(";")[0].strip()[:60] or "no content type"
                raise ScrapeError(f"{host_key(url)} sent {shown}, not HTML", cause=ScrapeCause.NOT_HTML)
            body = self._read(response, url=url, max_bytes=max_bytes, watchdog=watchdog, truncate=not html_only)
            return Fetched(url, response.status_code, content_type, body), None
        finally:
            response.close()

    def _read(
        self, response: httpx.Response, *, url: str, max_bytes: int, watchdog: "_Watchdog", truncate: bool
    ) -> bytes:
        """The decoded body, stopped at `max_bytes` decoded bytes; the watchdog stops a server that drips forever.

        The body is read raw and decompressed here, piece by piece, whatever Content-Encoding
        says (`gzip, gzip` included): httpx would inflate each compressed piece whole.
        """
        too_large = ScrapeError(f"{host_key(url)} sent more than {max_bytes} bytes", cause=ScrapeCause.TOO_LARGE)
        slow = ScrapeError(
            f"{host_key(url)} took more than {self.timeout:g}s to send the page", cause=ScrapeCause.TIMEOUT
        )
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _decoded(response.iter_raw(), _codings(response, url=url)):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    if truncate:
                        break
                    raise too_large
                if watchdog.fired:
                    raise slow
        except zlib.error as exc:
            raise ScrapeError(
                f"{host_key(url)} sent a body that does not decompress", cause=ScrapeCause.BAD_RESPONSE
            ) from exc
        if watchdog.fired:  # the cut connection looked like the end of the body
            raise slow
        return b"".join(chunks)[:max_bytes]

    def _robots_allow(self, url: str, *, deadline: float) -> bool:
        """Whether robots.txt lets us fetch `url`; fetched once per host per run, through this fetcher."""
        target = httpx.URL(url)
        key = f"{target.scheme}://{target.netloc.decode('ascii')}"
        with self._lock:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:  # one fetch of robots.txt per host, however many leads share it
            if key not in self._robots:
                try:
                    self._robots[key] = self._fetch_robots(key, deadline=deadline)
                except ScrapeError as exc:
                    # A robots.txt that redirects nowhere useful is unavailable, which allows
                    # everything (RFC 9309); any other failure means the host itself is unusable
                    # (no DNS, blocked, silent), and its pages fail the same way without a try.
                    self._robots[key] = _allow_all() if exc.cause in ROBOTS_UNAVAILABLE else exc
        rules = self._robots[key]
        if isinstance(rules, ScrapeError):
            raise ScrapeError(str(rules), cause=rules.cause, permanent=rules.permanent, status=rules.status)
        return rules.can_fetch(self.user_agent, url)

    def _fetch_robots(self, origin: str, *, deadline: float) -> urllib.robotparser.RobotFileParser:
        rules = urllib.robotparser.RobotFileParser(f"{origin}/robots.txt")
        fetched = self._follow(
            f"{origin}/robots.txt", html_only=False, check_robots=False, max_bytes=ROBOTS_MAX_BYTES, deadline=deadline
        )
        # RFC 9309: no robots.txt (4xx) allows everything; a server error (5xx) allows nothing.
        if 200 <= fetched.status < 300:
            rules.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        elif 400 <= fetched.status < 500:
            return _allow_all()
        else:
            rules.disallow_all = True
        rules.modified()  # can_fetch refuses everything until the rules are marked as read
        return rules


class _Watchdog:
    """Shuts a request's socket down when its time is up.

    httpx's timeouts bound each read, not the request: a server that sends one header
    byte every half second would hold a scrape thread for hours. The socket is caught
    as httpcore opens it (its `trace` hook) and shut down from a timer thread, which
    wakes the blocked read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict) -> None:
        """httpcore's trace hook: remembers the socket of each connection it opens."""
        if event != "connection.connect_tcp.complete":
            return
        sock = info["return_value"].get_extra_info("socket")
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:  # the time ran out while connecting
            _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by httpx: nothing is waiting on it
        sock.shutdown(socket.SHUT_RDWR)


def _codings(response: httpx.Response, *, url: str) -> list[str]:
    """The body's Content-Encoding, outermost last, identity left out; raises ScrapeError for one we cannot undo."""
    codings = [part.strip().lower() for part in response.headers.get("content-encoding", "").split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    unknown = [coding for coding in codings if coding not in GZIP_CODINGS and coding != "deflate"]
    if unknown:
        raise ScrapeError(f"{host_key(url)} sent a body in {unknown[0][:30]} encoding", cause=ScrapeCause.BAD_RESPONSE)
    return codings


def _decoded(chunks: Iterable[bytes], codings: list[str]) -> Iterator[bytes]:
    """The body's pieces with each Content-Encoding undone, last one first, none larger than INFLATE_PIECE."""
    for coding in reversed(codings):
        chunks = _inflate(chunks, coding)
    return iter(chunks)


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """One gzip or deflate layer undone lazily: the next layer pulls a piece only when it needs one."""
    decompressor = None
    for chunk in chunks:
        if decompressor is None:
            if coding in GZIP_CODINGS:
                wbits = 16 + zlib.MAX_WBITS
            else:  # "deflate" is zlib-wrapped by the standard, raw in some servers
                wbits = zlib.MAX_WBITS if chunk[:1] and chunk[0] & 0x0F == 8 else -zlib.MAX_WBITS
            decompressor = zlib.decompressobj(wbits)
        data = chunk
        while True:
            piece = decompressor.decompress(data, INFLATE_PIECE)
            if piece:
                yield piece
            data = decompressor.unconsumed_tail
            if not data and len(piece) < INFLATE_PIECE:
                break
    if decompressor is not None:
        rest = decompressor.flush()
        if rest:
            yield rest


def _allow_all() -> urllib.robotparser.RobotFileParser:
    rules = urllib.robotparser.RobotFileParser()
    rules.allow_all = True
    rules.modified()
    return rules


def _is_tls_error(exc: BaseException | None) -> bool:
    """Whether httpx's ConnectError came from TLS (a bad certificate) rather than from TCP."""
    for _depth in range(10):  # the chain is httpx -> httpcore -> ssl; bounded in case of a cycle
        if exc is None:
            return False
        if isinstance(exc, ssl.SSLError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
