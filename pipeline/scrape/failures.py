"""Why a website gave nothing: the scraper's error type and its causes.

Only the fetcher (fetch.py) raises `ScrapeError`; the address checks (netcheck.py)
return a `Refusal` with one of these causes, which the fetcher raises.
"""

from enum import StrEnum

from pipeline.errors import ServiceError


class ScrapeCause(StrEnum):
    """The only causes a ScrapeError carries; each value is the SkipLog detail a person reads."""

    BAD_URL = "bad url"
    SCHEME = "scheme"  # not http or https
    DNS = "dns"  # the host name does not resolve
    BLOCKED = "blocked address"  # loopback, private, link-local, metadata, …
    UNREACHABLE = "unreachable"  # every address refused the connection
    TLS = "tls"  # the certificate or the handshake failed
    TIMEOUT = "timeout"
    BAD_RESPONSE = "bad response"  # the server broke the HTTP exchange
    HTTP_STATUS = "http"  # an answer other than 2xx: the detail names the status
    NOT_HTML = "not html"
    TOO_LARGE = "too large"
    ROBOTS = "robots"  # robots.txt disallows the page
    TOO_MANY_REDIRECTS = "too many redirects"
    BAD_PAGE = "bad page"  # anything else that went wrong with this one site: the next site still runs


class ScrapeError(ServiceError):
    """A website could not be fetched; `detail` is what the scraper writes to the SkipLog."""

    causes = ScrapeCause

    def __init__(self, message: str, *, cause: str, permanent: bool = False, status: int = 0) -> None:
        super().__init__(message, cause=cause, permanent=permanent)
        self.status = status  # the HTTP status, for HTTP_STATUS

    @property
    def detail(self) -> str:
        """`dns`, `timeout`, `http 404`, …"""
        return f"http {self.status}" if self.cause == ScrapeCause.HTTP_STATUS else self.cause.value
