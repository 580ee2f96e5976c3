"""The grounding test set: drafts with one planted error each, and true paraphrases of the source.

Each draft is written against one of four leads (`LEADS`) as a model would write it: a
greeting, a line about the company, the offer, a sign-off. A planted draft changes one
fact (a wrong number, an invented award, client, city, funding round, a superlative, a
link, a quote from nowhere); a true draft rewords what the lead's data says. `make
bench-generate` prints how many of each the check gets right; tests/generate/
test_grounding.py requires every planted error caught and at most one false alarm.
"""

from dataclasses import dataclass

OFFER = "We help small sales teams turn their lead lists into personal first emails, without the busywork."
SENDER = "Sam Seller, Seller Co"

LEADS = {
    "ada": {
        "name": "Ada Lovelace",
        "job_title": "CTO",
        "company": "Analytical Engines",
        "website": "analytical-engines.example",
        "company_description": (
            "Analytical Engines builds calculating machines for research labs. Founded in 1843 in London, the "
            "company now has 40 engineers and serves universities across Europe. Its Difference Engine 2 is used "
            "by over 120 labs. Customers get on-site training and a 24/7 support line."
        ),
    },
    "grace": {
        "name": "Grace Hopper",
        "job_title": "VP Engineering",
        "company": "Cobol Systems",
        "website": "https://cobol.example",
        "company_description": (
            "Cobol Systems modernises legacy banking software. The team of 85 works from offices in Arlington and "
            "Toronto. In 2023 the company raised $12 million in a Series A led by Harbor Ventures. Clients include "
            "First Federal Bank and Maple Credit Union."
        ),
    },
    "radia": {
        "name": "Radia Perlman",
        "job_title": "Head of Network Engineering",
        "company": "Spanning Tree Labs",
        "website": "spanning.example",
        "company_description": (
            "Spanning Tree Labs designs network switches for hospitals and schools. A leading provider of "
            "resilient networking in the Midwest, it won the 2022 Illinois Innovation Award. Its devices cut "
            "network outages by 30%."
        ),
    },
    "katherine": {
        "name": "Katherine Johnson",
        "job_title": "Director of Operations",
        "company": "Orbit Analytics",
        "website": "orbit.example",
        "company_description": (
            "Orbit Analytics helps logistics firms plan delivery routes with satellite data. The platform tracks "
            "5,000 trucks every day for customers such as Northwind Freight."
        ),
    },
    "ken": {"name": "Ken Thompson", "job_title": "Head of Sales", "company": "Plan Nine", "website": "plan9.example"},
}

_CLOSE = f"\n\n{OFFER} Would a short call next Tuesday be useful?\n\nBest,\nSam"


@dataclass(frozen=True, slots=True)
class Case:
    lead: str
    line: str  # the sentence about the company; the rest of the draft is the same for every case
    claims: tuple[tuple[str, str], ...] = ()  # (claim, quote)
    subject: str = "An idea for your team"
    planted: str = ""  # what is wrong, for planted cases

    @property
    def body(self) -> str:
        first = LEADS[self.lead]["name"].split(" ")[0]
        return f"Hi {first},\n\n{self.line}{_CLOSE}"

    @property
    def sources(self) -> dict[str, str]:
        return {**LEADS[self.lead], "offer": OFFER, "sender": SENDER}


def _planted(lead: str, planted: str, line: str, *claims: tuple[str, str]) -> Case:
    return Case(lead=lead, line=line, claims=claims, planted=planted)


def _true(lead: str, line: str, *claims: tuple[str, str], subject: str = "An idea for your team") -> Case:
    return Case(lead=lead, line=line, claims=claims, subject=subject)


PLANTED = [
    _planted("ada", "wrong number", "With 45 engineers at Analytical Engines, you must be busy."),
    _planted("ada", "wrong year", "Since 1850, Analytical Engines has built calculating machines for research labs."),
    _planted("ada", "invented city", "Your Paris office must keep the research labs well supplied."),
    _planted("ada", "invented award", "Congratulations on the Babbage Prize for your calculating machines."),
    _planted("ada", "invented award, lower case", "Congratulations on the recent award for your machines."),
    _planted("ada", "invented funding round", "After the recent funding round, your engineers must be busy."),
    _planted("ada", "invented client", "Supplying the research labs of Oxford must keep your team busy."),
    _planted("ada", "superlative", "As the largest maker of calculating machines, you must be busy."),
    _planted("ada", "superlative #1", "As the #1 supplier of research labs, you must be busy."),
    _planted("ada", "wrong percentage", "Your machines save research labs 20% of their time."),
    _planted("ada", "invented money", "Your machines, at $5 million a year in sales, serve labs across Europe."),
    _planted("ada", "invented page", "I read analytical-engines.example/careers and saw you are hiring."),
    _planted("ada", "invented domain", "I enjoyed your blog at engines-blog.example about research labs."),
    _planted(
        "ada",
        "quote from nowhere",
        "I read that you also ship calculating machines to hospitals.",
        ("ships machines to hospitals", "ships calculating machines to hospitals"),
    ),
    _planted("ada", "wrong number in words", "With forty-five engineers, your team must be busy."),
    _planted("grace", "wrong funding amount", "Congratulations on the $15 million Series A led by Harbor Ventures."),
    _planted("grace", "wrong funding round", "Congratulations on the Series B led by Harbor Ventures."),
    _planted("grace", "invented investor", "Congratulations on the Series A led by Sequoia."),
    _planted("grace", "invented city", "Your Boston office must be busy modernising legacy banking software."),
    _planted("grace", "wrong team size", "A team of 58 modernising legacy banking software is no small thing."),
    _planted("grace", "invented client", "Modernising legacy banking software for banks like Chase is no small thing."),
    _planted("grace", "invented acquisition", "Since you acquired a fintech startup, your team must be busy."),
    _planted("grace", "superlative", "As the fastest-growing modernisation firm in Toronto, you must be busy."),
    _planted("grace", "wrong year", "In 2021 you raised $12 million for Cobol Systems."),
    _planted("grace", "invented IPO", "Ahead of your IPO, modernising legacy banking software must keep you busy."),
    _planted(
        "grace",
        "quote with a changed number",
        "You raised $12 million in 2024.",
        ("raised money in 2024", "In 2024 the company raised $12 million"),
    ),
    _planted("radia", "wrong award year", "Congratulations on the 2021 Illinois Innovation Award."),
    _planted("radia", "wrong state", "Congratulations on the Ohio Innovation Award."),
    _planted("radia", "wrong percentage", "Your devices cut network outages by 50%, which is impressive."),
    _planted("radia", "superlative swapped", "As the largest provider of resilient networking, you must be busy."),
    _planted("radia", "superlative phrase", "Your world-class switches keep hospitals and schools online."),
    _planted("radia", "invented launch", "Since you launched a new router line, your team must be busy."),
    _planted("radia", "invented number", "Your switches run in 12 states across the Midwest."),
    _planted("katherine", "wrong number", "Tracking 10,000 trucks every day is no small thing."),
    _planted("katherine", "invented client", "Planning delivery routes for Contoso Freight is no small thing."),
    _planted("katherine", "invented city", "As a Denver-based platform, Orbit Analytics plans delivery routes."),
    _planted("katherine", "invented headquarters", "Headquartered in Seattle, Orbit Analytics plans delivery routes."),
    _planted("katherine", "superlative #1", "Orbit Analytics is the number one route planner for logistics firms."),
    _planted("katherine", "invented country", "Congrats on bringing your satellite data to Canada."),
    _planted("ken", "invented growth", "I saw your sales team grew 40% this year."),
    _planted("ken", "superlative", "Your award-winning sales team at Plan Nine must be busy."),
    _planted("ken", "invented partner", "Your partnership with Bell Labs must keep Plan Nine busy."),
]

TRUE = [
    _true(
        "ada",
        "I read that Analytical Engines builds calculating machines for research labs.",
        ("builds calculating machines for labs", "builds calculating machines for research labs"),
    ),
    _true(
        "ada",
        "Founded in 1843 in London, Analytical Engines now has 40 engineers.",
        ("founded in 1843 in London", "Founded in 1843 in London"),
        ("has 40 engineers", "the company now has 40 engineers"),
    ),
    _true(
        "ada",
        "With over 120 labs using the Difference Engine 2, your support line must be busy.",
        ("the Difference Engine 2 is used by 120 labs", "Its Difference Engine 2 is used by over 120 labs"),
    ),
    _true(
        "ada",
        "A 24/7 support line and on-site training for customers says a lot about Analytical Engines.",
        ("offers 24/7 support", "a 24/7 support line"),
    ),
    _true(
        "ada",
        "Serving universities across Europe from London is quite a reach.",
        ("serves universities across Europe", "serves universities across Europe"),
        subject="A Quick Idea For Analytical Engines",
    ),
    _true(
        "ada",
        "As CTO of a company that builds calculating machines, you know what careful work looks like.",
        ("the lead is CTO", "CTO"),
    ),
    _true(
        "ada",
        "Forty engineers building calculating machines for research labs is an impressive team.",
        ("40 engineers", "now has 40 engineers"),
    ),
    _true(
        "ada",
        "I came across analytical-engines.example and read about your calculating machines.",
        ("website", "analytical-engines.example"),
    ),
    _true(
        "grace",
        "Congratulations on the $12 million Series A led by Harbor Ventures in 2023!",
        ("raised $12 million in a Series A", "raised $12 million in a Series A led by Harbor Ventures"),
    ),
    _true(
        "grace",
        "With offices in Arlington and Toronto and a team of 85, Cobol Systems covers a lot of ground.",
        ("offices in Arlington and Toronto", "works from offices in Arlington and Toronto"),
    ),
    _true(
        "grace",
        "Helping clients like First Federal Bank and Maple Credit Union modernise legacy banking software is "
        "demanding work.",
        ("clients include First Federal Bank", "Clients include First Federal Bank and Maple Credit Union"),
    ),
    _true(
        "grace",
        "You raised $12M in 2023, so the team of 85 must be growing.",
        ("raised $12M in 2023", "In 2023 the company raised $12 million"),
    ),
    _true(
        "grace",
        "Modernising legacy banking software takes patience, and Cobol Systems has clearly built that.",
        ("modernises banking software", "Cobol Systems modernises legacy banking software"),
    ),
    _true(
        "grace",
        "As VP Engineering at Cobol Systems, you probably hear from many vendors.",
        ("the lead is VP Engineering", "VP Engineering"),
        subject="Cobol Systems and Your Lead Lists",
    ),
    _true(
        "grace",
        "I saw on cobol.example that your team works from Arlington and Toronto.",
        ("website", "cobol.example"),
    ),
    _true(
        "grace",
        "Eighty-five people modernising banking software is a serious team.",
        ("team of 85", "The team of 85"),
    ),
    _true(
        "radia",
        "As a leading provider of resilient networking in the Midwest, Spanning Tree Labs must be busy.",
        ("a leading provider", "A leading provider of resilient networking in the Midwest"),
    ),
    _true(
        "radia",
        "Congratulations on winning the 2022 Illinois Innovation Award.",
        ("won the 2022 Illinois Innovation Award", "it won the 2022 Illinois Innovation Award"),
    ),
    _true(
        "radia",
        "Cutting network outages by 30% for hospitals and schools is no small thing.",
        ("cuts outages by 30%", "Its devices cut network outages by 30%"),
    ),
    _true(
        "radia",
        "Designing network switches for hospitals and schools means uptime matters.",
        ("designs switches for hospitals and schools", "designs network switches for hospitals and schools"),
    ),
    _true(
        "radia",
        "As Head of Network Engineering at Spanning Tree Labs, you know how much outages cost.",
        ("the lead's title", "Head of Network Engineering"),
    ),
    _true(
        "radia",
        "Your award from Illinois must have been a proud moment for Spanning Tree Labs.",
        ("won an Illinois award", "won the 2022 Illinois Innovation Award"),
    ),
    _true(
        "radia",
        "Resilient networking for hospitals and schools across the Midwest is important work.",
        ("resilient networking in the Midwest", "resilient networking in the Midwest"),
        subject="Resilient Networking And Your Sales Team",
    ),
    _true(
        "katherine",
        "Planning delivery routes with satellite data for logistics firms sounds fascinating.",
        ("plans routes with satellite data", "helps logistics firms plan delivery routes with satellite data"),
    ),
    _true(
        "katherine",
        "Tracking 5,000 trucks every day for customers such as Northwind Freight is a big job.",
        ("tracks 5,000 trucks", "The platform tracks 5,000 trucks every day"),
    ),
    _true(
        "katherine",
        "With five thousand trucks tracked daily, Orbit Analytics must generate a lot of data.",
        ("tracks 5,000 trucks", "tracks 5,000 trucks every day"),
    ),
    _true(
        "katherine",
        "As Director of Operations at Orbit Analytics, you must see a lot of delivery routes.",
        ("the lead's title", "Director of Operations"),
    ),
    _true(
        "katherine",
        "Northwind Freight and other logistics firms rely on your route planning.",
        ("Northwind Freight is a customer", "customers such as Northwind Freight"),
    ),
    _true(
        "ken",
        "As Head of Sales at Plan Nine, you probably see more leads than your team can write to.",
        ("the lead's title", "Head of Sales"),
    ),
    _true("ken", "I came across Plan Nine and thought of your sales team.", ("company", "Plan Nine")),
    _true(
        "ken",
        "Your team at Plan Nine might like a faster way to write first emails.",
        subject="An Idea For Plan Nine",
    ),
    _true("ken", "I saw plan9.example and wanted to reach out.", ("website", "plan9.example")),
]
