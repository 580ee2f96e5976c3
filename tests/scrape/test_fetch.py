"""The fetcher refuses every unsafe address with its reason, and fetches the rest over real HTTP."""

import ipaddress
import shutil

import pytest

from pipeline.scrape import fetch as fetcher
from pipeline.scrape import netcheck as addresses
from pipeline.scrape.fetch import Fetcher, ScrapeError
from tests.fakes.websites import FakeWebsites, Page, html_page, redirect, self_signed
from tests.processes import free_port

PAGE = "<html><head><title>Acme</title></head><body><p>Acme makes widgets.</p></body></html>"


@pytest.fixture
def web():
    with FakeWebsites() as websites:
        yield websites


def make_fetcher(*, allow_loopback: bool = True, **options) -> Fetcher:
    settings = {"timeout": 5.0, "max_bytes": 100_000, "user_agent": "OutreachPipeline/1.0 (+https://outreach.test)"}
    return Fetcher(**(settings | {"allow_loopback": allow_loopback} | options))


def refusal(url: str, **options) -> ScrapeError:
    with make_fetcher(**options) as client, pytest.raises(ScrapeError) as caught:
        client.fetch_html(url)
    return caught.value


@pytest.mark.parametrize(
    ("website", "url"),
    [
        ("acme.com", "https://acme.com/"),
        ("  Acme.COM/about  ", "https://acme.com/about"),
        ("www.acme.com", "https://www.acme.com/"),
        ("//acme.com", "https://acme.com/"),
        ("acme.com:8443/shop", "https://acme.com:8443/shop"),
        ("http://acme.com#team", "http://acme.com/"),
        ("HTTPS://ACME.COM", "https://acme.com/"),
        ("bücher.example", "https://xn--bcher-kva.example/"),
    ],
)
def test_bare_domains_and_odd_spellings_are_normalised(website, url):
    assert fetcher.normalise_url(website) == url


@pytest.mark.parametrize(
    ("website", "cause"),
    [
        ("ftp://acme.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("mailto:sales@acme.com", "scheme"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme"),
        ("", "bad url"),
        ("   ", "bad url"),
        ("http://", "bad url"),
        ("https://exa mple.com", "bad url"),
    ],
)
def test_other_schemes_and_broken_addresses_are_refused(website, cause):
    with pytest.raises(ScrapeError) as caught:
        fetcher.normalise_url(website)
    assert caught.value.detail == cause


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - the address under test, not a bind
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo around 127.0.0.1
    ],
)
def test_non_public_addresses_have_a_reason(address, reason):
    assert addresses.blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert addresses.blocked_reason(ipaddress.ip_address(address)) == ""


def test_allowing_loopback_for_tests_still_refuses_private_and_metadata_addresses():
    allowed = [a for a in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.1", "169.254.169.254")]
    reasons = [addresses.blocked_reason(ipaddress.ip_address(a), allow_loopback=True) for a in allowed]
    assert reasons == ["", "", "", "private", "cloud metadata"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://192.168.0.10:8080/admin",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, written as mapped IPv6 in hex
        "http://localhost/",  # a name that resolves to loopback
        "http://0x7f000001/",  # 127.0.0.1 in hex, which the resolver accepts
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0.0.0.0/",
    ],
)
def test_unsafe_addresses_are_refused_before_any_connection(url):
    error = refusal(url, allow_loopback=False)
    assert error.detail == "blocked address"


def test_a_loopback_site_is_refused_and_never_contacted_when_loopback_is_not_allowed(web):
    site = web.site({"/": html_page(PAGE)})
    error = refusal(site.url, allow_loopback=False)
    assert error.detail == "blocked address"
    assert "loopback address (127.0.0.1)" in str(error)
    assert site.requests == []


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    error = refusal("http://mixed.test/", resolve=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    assert (error.detail, str(error)) == ("blocked address", "mixed.test resolves to a private address (10.1.2.3)")


def test_the_connection_goes_to_the_checked_address_with_no_second_lookup(web):
    """`shop.test` exists only in the resolver given to the fetcher: a second lookup by httpx would fail."""
    site = web.site({"/": html_page(PAGE)})
    lookups = []

    def resolve(host, port):
        lookups.append((host, port))
        return ["127.0.0.1"]

    with make_fetcher(resolve=resolve) as client:
        page = client.fetch_html(f"http://shop.test:{site.port}/")
    assert b"Acme makes widgets" in page.body
    assert lookups == [("shop.test", site.port)] * 2  # robots.txt, then the page: one lookup per request
    assert [(r.path, r.headers["host"]) for r in site.requests] == [
        ("/robots.txt", f"shop.test:{site.port}"),
        ("/", f"shop.test:{site.port}"),
    ]


def test_an_unresolvable_name_fails_as_dns():
    error = refusal("http://no-such-company.invalid/")
    assert (error.detail, str(error)) == ("dns", "no-such-company.invalid does not resolve")


def test_a_redirect_to_a_private_address_is_refused(web):
    site = web.site({"/": redirect("http://10.0.0.1/admin")})
    assert refusal(site.url).detail == "blocked address"
    assert site.paths == ["/robots.txt", "/"]


def test_a_redirect_to_the_metadata_service_is_refused(web):
    site = web.site({"/": redirect("http://169.254.169.254/latest/meta-data/", status=301)})
    error = refusal(site.url)
    assert (error.detail, str(error)) == (
        "blocked address",
        "169.254.169.254 resolves to a cloud metadata address (169.254.169.254)",
    )


@pytest.mark.parametrize(
    "location",
    ["http://[::ffff:10.0.0.1]/", "http://0x0a000001/", "https://192.168.1.1:8443/", "//172.16.0.1/x"],
)
def test_a_redirect_to_a_private_address_in_any_spelling_is_refused(web, location):
    site = web.site({"/": redirect(location)})
    assert refusal(site.url).detail == "blocked address"


def test_a_redirect_to_another_scheme_is_refused(web):
    site = web.site({"/": redirect("file:///etc/passwd")})
    assert refusal(site.url).detail == "scheme"


def test_a_redirect_loop_stops_after_five_redirects(web):
    site = web.site({"/a": redirect("/b"), "/b": redirect("/a")})
    error = refusal(f"{site.url}/a")
    assert (error.detail, str(error)) == ("too many redirects", f"127.0.0.1:{site.port} redirected more than 5 times")
    assert site.paths.count("/a") + site.paths.count("/b") == 6


def test_five_redirects_are_followed(web):
    pages = {f"/{n}": redirect(f"/{n + 1}") for n in range(5)} | {"/5": html_page(PAGE)}
    site = web.site(pages)
    with make_fetcher() as client:
        page = client.fetch_html(f"{site.url}/0")
    assert page.url == f"{site.url}/5"
    assert b"Acme makes widgets" in page.body


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_an_error_status_is_refused_with_its_code(web, status):
    site = web.site({"/": Page(body=b"<p>gone</p>", status=status)})
    assert refusal(site.url).detail == f"http {status}"


def test_a_missing_page_is_http_404(web):
    site = web.site({})
    error = refusal(f"{site.url}/about")
    assert (error.detail, str(error)) == ("http 404", f"127.0.0.1:{site.port} answered HTTP 404")


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/octet-stream", None])
def test_content_that_is_not_html_is_refused_unread(web, content_type):
    site = web.site({"/": Page(body=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, content_type=content_type)})
    assert refusal(site.url).detail == "not html"


def test_a_page_over_the_size_cap_is_too_large(web):
    site = web.site({"/": html_page("<p>" + "x" * 200_000 + "</p>")})
    error = refusal(site.url, max_bytes=100_000)
    assert (error.detail, str(error)) == ("too large", f"127.0.0.1:{site.port} sent more than 100000 bytes")


def test_a_page_without_a_length_is_cut_off_at_the_size_cap(web):
    site = web.site({"/": html_page("<p>" + "x" * 5_000_000 + "</p>", send_length=False)})
    assert refusal(site.url, max_bytes=100_000).detail == "too large"


def test_a_page_within_the_cap_is_read_whole(web):
    site = web.site({"/": html_page("<p>" + "x" * 90_000 + "</p>", send_length=False)})
    with make_fetcher(max_bytes=100_000) as client:
        assert len(client.fetch_html(site.url).body) == 90_007


def test_a_server_that_does_not_answer_times_out(web):
    site = web.site({"/": html_page(PAGE, delay=3)})
    error = refusal(site.url, timeout=0.5)
    assert (error.detail, str(error)) == ("timeout", "127.0.0.1 gave no answer within 0.5s")


def test_a_server_that_drips_its_page_times_out(web):
    """Each piece comes within the read timeout, but the whole page would take 6 s."""
    site = web.site({"/": html_page("<p>" + "x" * 30_000 + "</p>", drip=0.2)})
    assert refusal(site.url, timeout=1.0).detail == "timeout"


def test_a_closed_port_fails_as_unreachable():
    assert refusal(f"http://127.0.0.1:{free_port()}/").detail == "unreachable"


def test_robots_txt_that_disallows_the_page_is_obeyed(web):
    robots = Page(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain")
    site = web.site({"/robots.txt": robots, "/": html_page(PAGE)})
    error = refusal(site.url)
    assert error.detail == "robots"
    assert site.paths == ["/robots.txt"]


def test_robots_txt_rules_for_our_product_are_obeyed(web):
    robots = b"User-agent: OutreachPipeline\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    site = web.site({"/robots.txt": Page(body=robots, content_type="text/plain"), "/": html_page(PAGE)})
    assert refusal(site.url).detail == "robots"


def test_robots_txt_for_other_crawlers_does_not_stop_us(web):
    robots = b"User-agent: SomeOtherBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
    site = web.site({"/robots.txt": Page(body=robots, content_type="text/plain"), "/": html_page(PAGE)})
    with make_fetcher() as client:
        assert b"Acme" in client.fetch_html(site.url).body
    assert refusal(f"{site.url}/private/team").detail == "robots"


def test_robots_txt_that_fails_with_a_server_error_allows_nothing(web):
    site = web.site({"/robots.txt": Page(status=503), "/": html_page(PAGE)})
    assert refusal(site.url).detail == "robots"


def test_robots_txt_is_fetched_once_per_host(web):
    site = web.site({"/": html_page(PAGE), "/about": html_page(PAGE)})
    with make_fetcher() as client:
        client.fetch_html(site.url)
        client.fetch_html(f"{site.url}/about")
    assert site.paths == ["/robots.txt", "/", "/about"]


def test_requests_name_the_product_and_its_site(web):
    site = web.site({"/": html_page(PAGE)})
    with make_fetcher() as client:
        client.fetch_html(site.url)
    assert {r.headers["user-agent"] for r in site.requests} == {"OutreachPipeline/1.0 (+https://outreach.test)"}


def test_the_user_agent_comes_from_site_url(settings):
    settings.SITE_URL = "https://outreach.acme.test"
    with Fetcher.from_settings() as client:
        assert client.user_agent == "OutreachPipeline/1.0 (+https://outreach.acme.test)"


@pytest.fixture
def certificates(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    return lambda host: self_signed(tmp_path, host)


def test_https_goes_to_the_checked_address_with_the_host_name_for_sni_and_the_certificate(web, certificates):
    """The certificate names only `shop.test`: it verifies only if TLS is spoken for that name, not the address."""
    server_tls, trusted = certificates("shop.test")
    site = web.site({"/": html_page(PAGE)}, tls=server_tls)
    with make_fetcher(resolve=lambda host, port: ["127.0.0.1"], verify=trusted) as client:
        page = client.fetch_html(f"https://shop.test:{site.port}/")
    assert b"Acme makes widgets" in page.body
    assert site.server_names == ["shop.test", "shop.test"]
    assert site.requests[-1].headers["host"] == f"shop.test:{site.port}"


def test_a_certificate_for_another_name_fails_as_tls(web, certificates):
    server_tls, trusted = certificates("other.test")
    site = web.site({"/": html_page(PAGE)}, tls=server_tls)
    error = refusal(f"https://shop.test:{site.port}/", resolve=lambda host, port: ["127.0.0.1"], verify=trusted)
    assert (error.detail, str(error)) == ("tls", "TLS with shop.test failed")
    assert site.requests == []


def test_a_robots_txt_that_redirects_in_a_loop_counts_as_missing(web):
    site = web.site({"/robots.txt": redirect("/robots.txt"), "/": html_page(PAGE)})
    with make_fetcher() as client:
        assert b"Acme" in client.fetch_html(site.url).body
    assert site.paths == ["/robots.txt"] * 6 + ["/"]


def test_a_missing_robots_txt_allows_everything(web):
    site = web.site({"/": html_page(PAGE)})
    with make_fetcher() as client:
        assert b"Acme" in client.fetch_html(site.url).body
    assert site.paths == ["/robots.txt", "/"]
