"""What a lead is sent: the `Message` type, the sender's name, and the fallback template.

Shared by the generator, which stores a message for each lead, and the engager,
which sends the fallback to a lead the generator never reached (so the engager
works while the generator is down). The fallback is a template filled from the
lead's data, for when the LLM is unavailable or its answer fails a check. It states
no company facts beyond the company's name (so it is true for any lead: nothing
in it needs checking), never fails and reads naturally when fields are missing (no
`None`, no `Hi ,`).
"""

from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.template.loader import render_to_string

from leads.models import MessageSource
from pipeline import outbound_check


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str
    source: str = MessageSource.AI  # a MessageSource value: who wrote it


def _clean(value: object) -> str:
    """Text for the template: `None`, lists and stray whitespace become plain text."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(_clean(item) for item in value if _clean(item))
    text = " ".join(str(value).split())
    return "" if text.casefold() in {"none", "null", "n/a", "nan"} else text


def _first_name(name: str) -> str:
    first = name.split(" ")[0] if name else ""
    # A name that is markup, an address or a single letter is no name to greet.
    return first if len(first) > 1 and first.isalpha() else ""


def _checked(text: str) -> str:
    """A field the template quotes, or '' when it would fail the output check (a link, an address, markup)."""
    return text if outbound_check.passes(text) else ""


def sender_name() -> str:
    """The name emails are signed with: OUTREACH_FROM_EMAIL's display name, else its address."""
    name, address = parseaddr(settings.OUTREACH_FROM_EMAIL)
    return name or address


def sender_company() -> str:
    """The sender's company: the first part of OUTREACH_POSTAL_ADDRESS, which starts with its name."""
    return settings.OUTREACH_POSTAL_ADDRESS.split(",")[0].strip()


def fallback(*, name: object = "", job_title: object = "", company: object = "") -> Message:
    """Subject and body of the fallback email for a lead with these (possibly empty) fields."""
    context = {
        "first_name": _first_name(_clean(name)),
        "job_title": _checked(_clean(job_title)[:80]),
        "company": _checked(_clean(company)[:80]),
        "offer": _clean(settings.OUTREACH_OFFER),
        "sender": sender_name(),
    }
    subject = render_to_string("pipeline/fallback_subject.txt", context).strip()
    body = render_to_string("pipeline/fallback_body.txt", context).strip() + "\n"
    return Message(subject=subject, body=body, source=MessageSource.FALLBACK)


def fallback_for(lead: object) -> Message:
    """The fallback email for a lead (anything with a lead's name, job title and company)."""
    return fallback(name=lead.name, job_title=lead.job_title, company=lead.company_name)
