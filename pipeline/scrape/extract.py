"""What a page says about its company: HTML bytes -> a short description and the title.

No I/O and no database: bytes in, `PageText` out. Parsing is done by
selectolax (lexbor), a real HTML parser, never by regular expressions.
"""

import codecs
from dataclasses import dataclass

import charset_normalizer
from charset_normalizer.md import mess_ratio
from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_DESCRIPTION = 500
MAX_TITLE = 255  # Lead.company_name's length
# The HTML parsing algorithm is quadratic in the nesting depth of block elements
# (100 KB of `<div>` costs lexbor about half a second), so only the start of a
# page is parsed. The head and the first paragraphs are there on real sites.
PARSE_LIMIT = 150_000
MIN_PARAGRAPH = 40  # shorter paragraphs are captions, buttons and bylines
MIN_META = 20  # a shorter meta description ("Home") says nothing

META_NAMES = ("description", "og:description", "twitter:description")
BOILERPLATE_TAGS = (
    "script, style, noscript, template, svg, nav, header, footer, aside, form, iframe, button, select, dialog"
)
# Class and id words of cookie banners, menus and pop-ups.
BOILERPLATE_WORDS = frozenset(
    {"cookie", "cookies", "consent", "gdpr", "banner", "newsletter", "popup", "modal", "menu", "nav", "navbar"}
    | {"navigation", "breadcrumb", "breadcrumbs", "footer", "sidebar", "share", "social", "skip"}
)
BOILERPLATE_PHRASES = ("cookie", "javascript", "your browser", "all rights reserved")
TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " · ", " :: ")
GENERIC_TITLES = frozenset({"home", "homepage", "home page", "welcome", "index", "start"})
# WHATWG: a page labelled Latin-1 or ASCII is decoded as windows-1252.
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
NOT_PAGE_CODECS = frozenset({"idna", "punycode", "undefined", "raw-unicode-escape", "unicode-escape"})
CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252"}


@dataclass(frozen=True, slots=True)
class PageText:
    description: str  # '' when the page has none
    title: str


def page_text(body: bytes, content_type: str = "") -> PageText:
    """The description and title of an HTML page, decoded by its declared or detected charset."""
    tree = LexborHTMLParser(decode(body[:PARSE_LIMIT], content_type))
    title_node = tree.css_first("title")
    title = clean(title_node.text() if title_node else "", limit=MAX_TITLE)
    meta = _meta_description(tree)
    if len(meta) >= MIN_META:
        return PageText(description=meta, title=title)
    return PageText(description=_paragraphs(tree) or meta, title=title)


def company_name(title: str) -> str:
    """A company name from a page title: `Acme Widgets | Home` -> `Acme Widgets`."""
    parts = [title]
    for separator in TITLE_SEPARATORS:
        if separator in title:
            parts = [part.strip() for part in title.split(separator)]
            break
    named = [part for part in parts if part and part.lower() not in GENERIC_TITLES]
    return named[0] if named else ""


def clean(text: str, *, limit: int) -> str:
    """Whitespace collapsed, control and replacement characters removed, cut at a word boundary within `limit`."""
    text = " ".join("".join(char if char.isprintable() and char != "\ufffd" else " " for char in text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def decode(body: bytes, content_type: str = "") -> str:
    """Bytes -> text: a byte-order mark, else the header's charset, else <meta charset>, else detection."""
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    declared = _known_codec(_charset_param(content_type)) or _known_codec(_meta_charset(body))
    if declared:
        try:
            return body.decode(declared, errors="replace")
        except (LookupError, UnicodeError, ValueError):  # a codec that cannot decode bytes to text
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return body.decode(_detected_codec(body), errors="replace")


def _detected_codec(body: bytes) -> str:
    """The likeliest encoding of undeclared bytes. Short Western text fits several code
    pages equally well, so windows-1252, the web's most common legacy encoding, is chosen
    whenever it reads about as cleanly as the detector's best guess."""
    best = charset_normalizer.from_bytes(body).best()
    try:
        western_chaos = mess_ratio(body.decode("cp1252"))
    except UnicodeDecodeError:  # bytes windows-1252 leaves undefined
        western_chaos = None
    if western_chaos is not None and (best is None or western_chaos <= best.chaos + 0.05):
        return "cp1252"
    return _known_codec(best.encoding if best else "") or "cp1252"


def _charset_param(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


def _meta_charset(body: bytes) -> str:
    """The charset a page declares in its first 4 KB (`<meta charset>` or `http-equiv`)."""
    head = LexborHTMLParser(body[:4096].decode("ascii", errors="replace"))
    for meta in head.css("meta"):
        attributes = {key.lower(): value or "" for key, value in meta.attributes.items()}
        if attributes.get("charset"):
            return attributes["charset"]
        if attributes.get("http-equiv", "").lower() == "content-type":
            return _charset_param(attributes.get("content", ""))
    return ""


def _known_codec(label: str) -> str:
    label = label.strip().lower()
    if not label:
        return ""
    label = CHARSET_ALIASES.get(label, label)
    try:
        codec = codecs.lookup(label)
    except LookupError:
        return ""
    # `hex`, `rot13`, `base64` are bytes-to-bytes or str-to-str codecs, and `idna`,
    # `punycode` and `undefined` cannot decode a page: a page naming one gets detection.
    if not codec._is_text_encoding or codec.name in NOT_PAGE_CODECS:
        return ""
    # A page that reached us as bytes without a BOM is not UTF-16, whatever its <meta> says.
    return "utf-8" if codec.name.startswith("utf-16") else codec.name


def _meta_description(tree: LexborHTMLParser) -> str:
    found: dict[str, str] = {}
    for meta in tree.css("meta"):
        attributes = {key.lower(): value or "" for key, value in meta.attributes.items()}
        name = (attributes.get("name") or attributes.get("property") or "").strip().lower()
        if name in META_NAMES and name not in found:
            found[name] = clean(attributes.get("content", ""), limit=MAX_DESCRIPTION)
    candidates = [found[name] for name in META_NAMES if found.get(name)]
    useful = [text for text in candidates if len(text) >= MIN_META]
    return (useful or candidates or [""])[0]


def _paragraphs(tree: LexborHTMLParser) -> str:
    """The first meaningful paragraphs of the page, menus, banners and scripts left out."""
    body = tree.body
    if body is None:
        return ""
    for node in body.css(BOILERPLATE_TAGS):
        node.decompose()
    kept: list[str] = []
    for paragraph in body.css("p"):
        if _is_boilerplate(paragraph):
            continue
        text = clean(paragraph.text(), limit=MAX_DESCRIPTION * 2)
        if len(text) < MIN_PARAGRAPH or any(phrase in text.lower() for phrase in BOILERPLATE_PHRASES):
            continue
        kept.append(text)
        if sum(len(part) + 1 for part in kept) >= MAX_DESCRIPTION:
            break
    return clean(" ".join(kept), limit=MAX_DESCRIPTION)


def _is_boilerplate(node: LexborNode) -> bool:
    """Whether the node sits inside a cookie banner, a menu or the like, by its or its ancestors' class/id."""
    depth = 0
    while node is not None and depth < 50:
        attributes = node.attributes
        words = f"{attributes.get('class') or ''} {attributes.get('id') or ''}".lower()
        for separator in "-_":
            words = words.replace(separator, " ")
        if BOILERPLATE_WORDS.intersection(words.split()):
            return True
        node = node.parent
        depth += 1
    return False
