"""What a page says about its company: description, title and charset, from real and hostile HTML."""

import time

import pytest

from pipeline.scrape import extract
from pipeline.scrape.extract import PageText

NORMAL = """<!doctype html>
<html><head><title>Acme Widgets | Home</title>
<meta name="description" content="Acme makes   industrial
widgets &amp; gears for factories in 40 countries.">
</head><body><p>Ignored, the meta description wins.</p></body></html>"""


def text_of(html: str, content_type: str = "text/html; charset=utf-8") -> PageText:
    return extract.page_text(html.encode("utf-8"), content_type)


def test_a_normal_page_gives_its_meta_description_and_title():
    assert text_of(NORMAL) == PageText(
        description="Acme makes industrial widgets & gears for factories in 40 countries.",
        title="Acme Widgets | Home",
    )


def test_og_description_is_used_when_there_is_no_meta_description():
    html = '<head><meta property="og:description" content="Open graph says: we build bridges for cities."></head>'
    assert text_of(html).description == "Open graph says: we build bridges for cities."


def test_meta_names_are_matched_in_any_case():
    html = '<head><META NAME="Description" CONTENT="Upper-case meta still describes the firm."></head>'
    assert text_of(html).description == "Upper-case meta still describes the firm."


def test_a_meta_only_page_with_no_body_still_gives_its_description():
    html = '<html><head><meta name="description" content="Only the head says what we do here."></head></html>'
    assert text_of(html) == PageText(description="Only the head says what we do here.", title="")


def test_without_meta_the_first_meaningful_paragraphs_are_used_and_boilerplate_skipped():
    html = """<html><head><title>Home - Tiny Co</title><style>p { color: red }</style></head><body>
    <header><p>Welcome to our wonderful website, please look around as long as you like.</p></header>
    <nav><p>Products Services About Contact Careers Blog Press Investors and more</p></nav>
    <div id="cookie-consent"><p>We use cookies to improve your experience. Accept all cookies?</p></div>
    <p>Hi!</p>
    <main><p>Tiny Co   repairs\n bicycles and\tsells spare parts to riders in Leeds.</p>
    <script>document.write("<p>Injected text that must never be read as a description.</p>")</script>
    <p>We have been fixing bikes since 1998 and offer same-day service.</p></main>
    <footer><p>Copyright 2024 Tiny Co Ltd. All rights reserved. Registered in England.</p></footer>
    </body></html>"""
    assert text_of(html).description == (
        "Tiny Co repairs bicycles and sells spare parts to riders in Leeds. "
        "We have been fixing bikes since 1998 and offer same-day service."
    )


def test_a_page_with_no_description_gives_an_empty_one():
    html = "<html><head><title>Coming soon</title></head><body><h1>Soon</h1><p>Stay tuned.</p></body></html>"
    assert text_of(html) == PageText(description="", title="Coming soon")


def test_a_long_description_is_cut_at_a_word_boundary():
    words = " ".join(f"word{n}" for n in range(300))
    description = text_of(f'<meta name="description" content="{words}">').description
    assert len(description) <= extract.MAX_DESCRIPTION
    assert description.endswith("…")
    assert description[:-1].split(" ")[-1].startswith("word")
    assert words.startswith(description[:-1])


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Acme Widgets | Home", "Acme Widgets"),
        ("Home - Acme", "Acme"),
        ("Welcome — Acme Ltd — Gears", "Acme Ltd"),
        ("Acme", "Acme"),
        ("Home", ""),
        ("", ""),
    ],
)
def test_the_company_name_is_the_telling_part_of_the_title(title, name):
    assert extract.company_name(title) == name


def test_a_title_is_cleaned_and_capped():
    title = text_of("<title>\n  Acme\t\tWidgets " + "x" * 400 + "</title>").title
    assert title.startswith("Acme Widgets x")
    assert len(title) <= extract.MAX_TITLE


# Hostile pages


def test_scripts_and_styles_never_become_the_description():
    html = (
        "<body><script>var description = 'Evil script text that is long enough to be a paragraph';</script>"
        "<style>.p::after { content: 'Style text that is long enough to count as a paragraph' }</style>"
        "<p><script>alert('inline script inside the paragraph')</script>Real words about the company and its work.</p>"
    )
    assert text_of(html).description == "Real words about the company and its work."


def test_markup_in_the_meta_content_stays_plain_text():
    html = '<meta name="description" content="&lt;script&gt;alert(1)&lt;/script&gt; We sell safe software.">'
    assert text_of(html).description == "<script>alert(1)</script> We sell safe software."


def test_control_characters_and_odd_whitespace_are_removed():
    html = '<meta name="description" content="Line\x00one\x07 and\u00a0non-breaking\u2028separators, all on one line.">'
    assert text_of(html).description == "Line one and non-breaking separators, all on one line."


def test_huge_attributes_are_handled_and_capped():
    html = f'<html><head><meta name="description" content="{"A" * 1_000_000} end"></head><body x="{"y" * 1_000_000}">'
    description = extract.page_text(html.encode(), "text/html").description
    assert len(description) <= extract.MAX_DESCRIPTION


def test_deeply_nested_tags_are_parsed_in_bounded_time():
    """Parsing is quadratic in block nesting; only the start of the page is parsed, so this stays quick."""
    html = "<html><head><title>Deep</title></head><body>" + "<div>" * 400_000 + "<p>Lost at the bottom.</p>"
    started = time.monotonic()
    page = extract.page_text(html.encode(), "text/html")
    assert time.monotonic() - started < 10
    assert page.title == "Deep"


def test_unclosed_and_broken_markup_still_yields_text():
    html = "<html><body><p>Broken <b>markup <i>everywhere but the company still makes gears</p></div></span><p"
    assert text_of(html).description == "Broken markup everywhere but the company still makes gears"


def test_a_page_that_is_not_really_html_gives_nothing():
    assert extract.page_text(bytes(range(256)) * 100, "text/html") == PageText(description="", title="")


# Charsets

LATIN = "<html><head><title>Café Müller</title></head><body><p>Wir backen Brötchen, Kuchen und Gebäck für Groß und Klein.</p></body></html>"  # noqa: E501 - one page


def test_the_charset_in_the_content_type_header_is_used():
    page = extract.page_text(LATIN.encode("latin-1"), "text/html; charset=ISO-8859-1")
    assert page.title == "Café Müller"
    assert "Brötchen" in page.description


def test_the_charset_in_a_meta_tag_is_used():
    html = LATIN.replace("<head>", '<head><meta charset="windows-1252">')
    assert extract.page_text(html.encode("cp1252"), "text/html").title == "Café Müller"


def test_the_charset_in_a_meta_http_equiv_is_used():
    html = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><title>Привет, мир</title>'
    assert extract.page_text(html.encode("koi8-r"), "text/html").title == "Привет, мир"


@pytest.mark.parametrize("title", ["Café Müller", "Crème brûlée, naïve façade, déjà vu"])
def test_an_undeclared_latin_1_page_is_detected(title):
    page = extract.page_text(LATIN.replace("Café Müller", title).encode("latin-1"), "text/html")
    assert page.title == title


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Мы производим мебель для дома и офиса в Москве с 1995 года.", "cp1251"),
        ("Zażółć gęślą jaźń: firma produkuje meble w Łodzi od wielu lat.", "cp1250"),
        ("Η εταιρεία μας κατασκευάζει έπιπλα στην Αθήνα εδώ και χρόνια.", "cp1253"),
    ],
)
def test_an_undeclared_non_western_page_is_detected(text, encoding):
    page = extract.page_text(f"<p>{text}</p>".encode(encoding), "text/html")
    assert page.description == text


def test_shift_jis_declared_in_meta_is_decoded():
    html = '<meta charset="shift_jis"><title>株式会社テスト</title><p>東京の会社です。</p>'
    page = extract.page_text(html.encode("shift_jis"), "text/html")
    assert page.title == "株式会社テスト"


def test_a_utf_16_page_with_a_byte_order_mark_is_decoded():
    assert extract.page_text(LATIN.encode("utf-16"), "text/html").title == "Café Müller"


def test_an_unknown_declared_charset_falls_back_to_detection():
    page = extract.page_text(NORMAL.encode("utf-8"), "text/html; charset=x-made-up")
    assert page.title == "Acme Widgets | Home"
