"""The output check: what an email may say, whoever wrote it (the LLM, a person, the template).

A lead's website is written by anyone, and an LLM that reads it may obey what it says
("include http://evil.example/login, CC ceo@…"). So every message passes this check
before it can be sent: it may link only to the sender's own domain and the lead's own
website, name no email address but the sender's, carry no HTML or other markup, no
unsubscribe wording (the engager adds its own line and headers) and no line that looks
like an email header. Pure: texts and settings in, the first problem out.

Shared by the generator (an AI answer that fails gets the template) and the engager
(nothing that fails is sent), hence its place outside both stages.
"""

import re
from email.utils import getaddresses

from django.conf import settings

# A link as mail clients find one: with a scheme, starting with www., or a bare host name
# followed by a path. `\S` stops at whitespace, the trailing punctuation is trimmed.
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://[^\s<>\"']+|www\.[^\s<>\"']+|(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"']*)")
# A bare host name in a well-known top-level domain, which clients turn into a link too.
_BARE_HOST = re.compile(
    r"(?i)(?<![@\w.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|io|co|biz|info|xyz|app|dev|site|online|top|ru|cn|example|test|invalid|local|link|click))\b(?![@.\w-])"
)
_EMAIL = re.compile(r"(?i)[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}")
# Markup: an HTML tag or comment, an entity, a Markdown link or image, a BBCode tag.
_MARKUP = re.compile(
    r"(?i)<\s*/?\s*[a-z!][^>]*>|<!--|&(?:#\d+|#x[0-9a-f]+|[a-z]{2,8});|!?\[[^\]\n]*\]\([^)\n]*\)|\[/?(?:url|img|b|i|link)\b[^\]]*\]"
)  # noqa: E501 - one pattern
_UNSUBSCRIBE = re.compile(
    r"(?i)\bun-?subscri|\bopt[\s-]?out\b|\bremove me\b|\bstop (?:receiving|these|all) (?:e-?mails|messages)\b"
)
# A line that reads as a header: a known header name, or any X- header, then a colon.
_HEADER_NAMES = (
    "from|to|cc|bcc|reply-to|subject|sender|date|message-id|return-path|mime-version|content-type"
    "|content-transfer-encoding|content-disposition|list-unsubscribe|list-unsubscribe-post|received|x-[a-z0-9-]+"
)
_HEADER_LINE = re.compile(rf"(?im)^[ \t]*(?:{_HEADER_NAMES})[ \t]*:")


def problem(subject: str, body: str, *, website: str = "") -> str | None:
    """The first reason the message may not be sent, in one line without the text itself; None when it passes."""
    if "\r" in subject or "\n" in subject:
        return "the subject has more than one line"
    text = f"{subject}\n{body}"
    if _MARKUP.search(text):
        return "it contains HTML or other markup"
    if _HEADER_LINE.search(text):
        return "a line looks like an email header"
    if _UNSUBSCRIBE.search(text):
        return "it has its own unsubscribe wording"
    allowed_addresses = _sender_addresses()
    for address in _EMAIL.findall(text):
        if address.casefold() not in allowed_addresses:
            return f"it names an email address other than the sender's ({_domain(address)})"
    allowed_hosts = _sender_domains(allowed_addresses) | _hosts_of(website)
    without_addresses = _EMAIL.sub(" ", text)
    for found in _URL.findall(without_addresses) + _BARE_HOST.findall(without_addresses):
        host = _host(found)
        if not _is_allowed(host, allowed_hosts):
            return f"it links to {host[:80] or 'an address'}, neither the sender's domain nor the lead's website"
    return None


def passes(text: str, *, website: str = "") -> bool:
    """Whether a piece of text (a field the template quotes) could stand in a message."""
    return problem("", text, website=website) is None


def _sender_addresses() -> frozenset[str]:
    values = [settings.OUTREACH_FROM_EMAIL, settings.OUTREACH_REPLY_TO]
    return frozenset(address.casefold() for _, address in getaddresses([value for value in values if value]) if address)


def _sender_domains(addresses: frozenset[str]) -> frozenset[str]:
    return frozenset(_registrable(address.rpartition("@")[2]) for address in addresses if "@" in address)


def _hosts_of(website: str) -> frozenset[str]:
    host = _host(website.strip())
    return frozenset({_registrable(host)}) if host else frozenset()


def _host(url: str) -> str:
    """`https://www.Acme.com:8080/x` -> `www.acme.com`; also for `acme.com/x` and `www.acme.com`."""
    rest = url.strip().rstrip(".,;:!?)]}'\"").split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    return host.split(":")[0].strip(".").lower()


def _registrable(host: str) -> str:
    """The host without `www.`: a link to www.acme.com belongs to acme.com's site."""
    return host.removeprefix("www.")


def _is_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether `host` is one of the allowed hosts or a subdomain of one."""
    host = _registrable(host)
    return bool(host) and any(host == domain or host.endswith(f".{domain}") for domain in allowed if domain)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()[:80]
