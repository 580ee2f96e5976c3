"""The admin index is the dashboard: staff only, the data set's figures, each number a link
to the admin list that holds exactly that many rows."""

import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from leads.models import MailboxState
from tests.report import dataset

pytestmark = pytest.mark.django_db


class _Links(HTMLParser):
    """Every link of a page: (href, text, the id of the section around it)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self._href = None
        self._text = ""
        self._sections: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._sections.append(attrs.get("id") or "")
        if tag == "a":
            self._href, self._text = attrs.get("href"), ""

    def handle_endtag(self, tag):
        if tag == "section" and self._sections:
            self._sections.pop()
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip(), self._sections[-1] if self._sections else ""))
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            self._text += data


def links_of(html: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


@pytest.fixture
def staff(client, django_user_model, plain_static_storage):
    user = django_user_model.objects.create_superuser("reviewer", "", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def page(staff):
    dataset.build(timezone.now())
    response = staff.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def _number(links, section: str, *href_parts: str) -> str:
    """The text of the one link in `section` whose address holds every one of `href_parts`."""
    [text] = [text for href, text, where in links if where == section and all(part in href for part in href_parts)]
    return text


def test_a_visitor_who_is_not_staff_is_sent_to_the_login(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("someone", "", "pw"))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_funnel_shows_every_step_with_its_rate(page):
    links = links_of(page)
    funnel = [(text, href) for href, text, where in links if where == "funnel"]
    assert funnel == [
        ("9", "/admin/leads/lead/"),
        ("7", "/admin/leads/lead/?has_message=yes"),
        ("6", "/admin/leads/lead/?approved=yes"),
        ("5", "/admin/leads/lead/?contacted=yes"),
        ("2", "/admin/leads/lead/?sequence_stop_reason__exact=replied"),
    ]
    assert "83.3% of the step before" in page  # sent of approved
    assert "22.2% of leads" in page  # replied of leads


def test_the_period_figures_and_the_rates_per_source_touch_and_mailbox(page):
    links = links_of(page)
    outcomes = [text for href, text, where in links if where == "per-day" and "?" in href][:7]
    assert outcomes == ["5", "2", "1", "1", "1", "1", "1"]
    assert re.search(r'rate-ai">\s*<th scope="row">AI</th>.*?>3</a>.*?>1</a>.*?33\.3%', page, re.S)
    assert re.search(
        r'rate-fallback">\s*<th scope="row">Fallback template</th>.*?>1</a>.*?>1</a>.*?100\.0%', page, re.S
    )
    assert re.search(r'rate-1">\s*<th scope="row">Touch 1</th>.*?>4</a>.*?>2</a>.*?50\.0%', page, re.S)
    assert _number(links, "mailboxes", "kind__exact=complaint", "email__mailbox=second") == "33.3%"
    assert _number(links, "mailboxes", "kind__exact=bounce_hard", "email__mailbox=default") == "50.0%"
    assert [text for href, text, where in links if where == "waiting"] == [
        *("1", "3", "2", "1"),  # the review queue; deferred at the last engage run: awaiting_approval, daily_cap
        "2",  # skipped: no_email
        *("2", "1", "1"),  # sequences stopped: replied, bounced, complained
        *("2", "2", "4", "1", "1"),  # pulled, scraped, messages written: AI, fallback, manual
    ]
    assert _number(links, "waiting", "messagereview") == "1"


def test_the_chart_draws_a_bar_per_day_and_series_with_a_table_beside_it(page):
    [svg] = re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    assert 'role="img"' in svg
    assert svg.count('class="bar-sent"') == svg.count('class="bar-answers"') == 30
    today = dataset.today().isoformat()
    assert f"<title>{today}: 1 sent</title>" in svg
    assert f"<title>{today}: 2 answers</title>" in svg
    assert "#" not in svg.replace("&#x27;", "")  # colours are the admin's variables, not fixed ones
    assert f'<th scope="row">{today}</th>' in page


def test_every_count_links_to_a_list_of_exactly_that_many_rows(staff):
    dataset.build(timezone.now())
    links = links_of(staff.get("/admin/").content.decode())
    counted = [(href, int(text)) for href, text, _ in links if text.isdigit() and "pipelinerun" not in href]
    assert len(counted) > 40
    for href, number in counted:
        response = staff.get(href)
        assert response.status_code == 200, href
        assert response.context_data["cl"].result_count == number, href


def test_a_paused_mailbox_says_so_and_why_and_links_to_where_it_is_resumed(staff):
    MailboxState.objects.create(name="default", paused_at=timezone.now(), pause_reason="complaints 4 of the last 1000")
    page = staff.get("/admin/").content.decode()
    mailbox = "/admin/leads/mailboxstate/?name=default"
    assert re.search(
        rf'<th scope="row"><a href="{re.escape(mailbox)}">default</a></th>'
        rf'.*?<a class="paused" href="{re.escape(mailbox)}">paused</a>.*?complaints 4 of the last 1000',
        page,
        re.S,
    )
    assert staff.get(mailbox).context_data["cl"].result_count == 1


def test_the_model_list_stays_in_the_sidebar_and_under_all_models(page):
    assert 'id="nav-sidebar"' in page
    assert 'id="all-models"' in page
    assert 'href="/admin/leads/suppression/"' in page


def test_the_page_takes_a_fixed_number_of_queries(staff, django_assert_num_queries):
    staff.get("/admin/")  # the session and the user, once
    with django_assert_num_queries(QUERIES):
        staff.get("/admin/?days=7")
    dataset.build(timezone.now())
    with django_assert_num_queries(QUERIES):
        staff.get("/admin/?days=7")


# The session, the user, and the report's ten.
QUERIES = 12
