"""Where a lead's website may be fetched from: its URL in canonical form, and the IP
addresses its host name resolves to, each one public.

The checks return a `Refusal` (a reason) instead of raising: fetch.py, the client that
speaks HTTP to the sites, raises it as its `ScrapeError`.
"""

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pipeline.scrape.failures import ScrapeCause

# Instance metadata services hand out cloud credentials. Most sit in ranges that
# are refused anyway; Azure's wire server (168.63.129.16) is a public address.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
# IPv6 forms that carry an IPv4 address: NAT64 (RFC 6052) is checked by its embedded address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a website is not fetched: one line, and the SkipLog detail (`bad url`, `scheme`, `dns`, …)."""

    message: str
    cause: ScrapeCause
    permanent: bool = False


def normalise_url(website: str) -> str | Refusal:
    """`acme.com` -> `https://acme.com/`, or why the value is no website (`bad url`, `scheme`).

    A value without a scheme is taken to be an https site: a spreadsheet holds
    `acme.com`, and no site is downgraded to plain http on a guess.
    """
    text = website.strip()
    if not text:
        return Refusal("the website is empty", cause=ScrapeCause.BAD_URL, permanent=True)
    if text.startswith("//"):
        text = f"https:{text}"
    elif "://" not in text and not _has_scheme_prefix(text):
        text = f"https://{text}"
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        return Refusal(f"{website[:100]!r} is not a web address", cause=ScrapeCause.BAD_URL, permanent=True)
    if url.scheme not in {"http", "https"}:
        return Refusal(f"only http and https sites are fetched, not {url.scheme[:20]}:", cause=ScrapeCause.SCHEME)
    if not url.host or not all(char.isalnum() or char in "-._:" for char in url.raw_host.decode("ascii")):
        return Refusal(f"{website[:100]!r} has no valid host name", cause=ScrapeCause.BAD_URL, permanent=True)
    return str(url.copy_with(fragment=None, path=url.path or "/"))


def _has_scheme_prefix(text: str) -> bool:
    """`mailto:x`, `javascript:…` have a scheme; `acme.com:8080/x` is a host and a port."""
    head, colon, rest = text.partition(":")
    if not colon or not head or not head[0].isalpha():
        return False
    if not all(char.isalnum() or char in "+.-" for char in head):
        return False
    return not rest[:1].isdigit()


def blocked_reason(address: IPAddress, *, allow_loopback: bool = False) -> str:
    """Why `address` must not be fetched ('' when it is a public address)."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return "" if allow_loopback else "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return ""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_addresses(host: str, port: int, *, resolve: Resolver, allow_loopback: bool) -> list[IPAddress] | Refusal:
    """Every address `host` resolves to, all of them allowed; else why not (`dns`, `blocked address`)."""
    if is_ip_literal(host):
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            return Refusal(f"{host} does not resolve", cause=ScrapeCause.DNS)
    for address in addresses:
        # One bad address refuses the host: a resolver that mixes a public and a
        # private answer is exactly what an attacker would set up.
        reason = blocked_reason(address, allow_loopback=allow_loopback)
        if reason:
            return Refusal(f"{host} resolves to a {reason} address ({address})", cause=ScrapeCause.BLOCKED)
    return addresses


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
