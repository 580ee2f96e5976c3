"""Fake websites: any number of sites on 127.0.0.1, one port each, served by one
asyncio loop in a background thread. Each site answers from a dict of pages;
a page can be slow, drip its body, omit its length or redirect anywhere.

    with FakeWebsites() as web:
        site = web.site({"/": html_page("<p>Hello</p>")})
        site.url  # http://127.0.0.1:<port>
"""

import asyncio
import ssl
import subprocess
import threading
from dataclasses import dataclass, field

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer starts
    drip: float = 0.0  # seconds between 1 KB pieces of the body: a server that never finishes
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    head_drip: float = 0.0  # seconds between single bytes of a header that never ends (slowloris)


def html_page(html: str, *, charset: str = "utf-8", declare: bool = True, **options) -> Page:
    """An HTML page encoded in `charset`; `declare=False` leaves the charset out of Content-Type."""
    content_type = f"text/html; charset={charset}" if declare else "text/html"
    return Page(body=html.encode(charset), content_type=content_type, **options)


def redirect(location: str, status: int = 302) -> Page:
    return Page(status=status, headers={"Location": location}, content_type=None)


NOT_FOUND = Page(body=b"<h1>Not found</h1>", status=404)


@dataclass
class Request:
    path: str
    headers: dict[str, str]


class Site:
    """One website: its pages by path, and the requests it received."""

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages
        self.port = 0
        self.url = ""
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.server_names: list[str | None] = []  # the TLS server name (SNI) of each https connection

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


class FakeWebsites:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-websites", daemon=True)
        self._servers: list[asyncio.base_events.Server] = []
        self._tasks: set[asyncio.Task] = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self.completed: list[tuple[int, str]] = []  # (port, path) of each answer, in the order they finished

    def __enter__(self) -> "FakeWebsites":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def site(self, pages: dict[str, Page] | None = None, *, tls: ssl.SSLContext | None = None) -> Site:
        """A new site on a free port of 127.0.0.1, answering `pages` (others are 404); https with `tls`."""
        site = Site(dict(pages or {}))
        if tls is not None:
            tls.sni_callback = lambda connection, name, context: site.server_names.append(name)
        future = asyncio.run_coroutine_threadsafe(self._listen(site, tls), self._loop)
        future.result(timeout=10)
        return site

    async def _listen(self, site: Site, tls: ssl.SSLContext | None) -> None:
        server = await asyncio.start_server(
            lambda reader, writer: self._track(self._serve(site, reader, writer)), "127.0.0.1", 0, backlog=512, ssl=tls
        )
        self._servers.append(server)
        site.port = server.sockets[0].getsockname()[1]
        site.url = f"{'https' if tls else 'http'}://127.0.0.1:{site.port}"

    def _track(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counted = False
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            target = request_line.split(" ")[1]
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            path = target.split("?")[0]
            site.requests.append(Request(path=path, headers=headers))
            page = site.pages.get(path, NOT_FOUND)
            counted = True
            self._enter(site)
            await asyncio.sleep(page.delay)
            if page.head_drip:
                await self._drip_head(writer, page.head_drip)
            writer.write(_head(page))
            await writer.drain()
            await self._write_body(writer, page)
            self.completed.append((site.port, path))
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, IndexError):
            pass
        finally:
            if counted:
                site.in_flight -= 1
                self.in_flight -= 1
            writer.close()

    def _enter(self, site: Site) -> None:
        site.in_flight += 1
        site.max_in_flight = max(site.max_in_flight, site.in_flight)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    @staticmethod
    async def _drip_head(writer: asyncio.StreamWriter, interval: float) -> None:
        """A status line, then one byte of an endless header every `interval` seconds, until the client leaves."""
        writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while True:
            await writer.drain()
            await asyncio.sleep(interval)
            writer.write(b"a")

    @staticmethod
    async def _write_body(writer: asyncio.StreamWriter, page: Page) -> None:
        if not page.drip:
            writer.write(page.body)
            await writer.drain()
            return
        for start in range(0, len(page.body), 1024):
            writer.write(page.body[start : start + 1024])
            await writer.drain()
            await asyncio.sleep(page.drip)


def _head(page: Page) -> bytes:
    lines = [f"HTTP/1.1 {page.status} {REASONS.get(page.status, 'Status')}"]
    if page.content_type:
        lines.append(f"Content-Type: {page.content_type}")
    if page.send_length:
        lines.append(f"Content-Length: {len(page.body)}")
    lines.extend(f"{name}: {value}" for name, value in page.headers.items())
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def self_signed(directory, host: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for `host` made with the openssl command: (server context, client context trusting it)."""
    key, cert = directory / f"{host}.key", directory / f"{host}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={host}"]
        + ["-addext", f"subjectAltName=DNS:{host}"],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))
