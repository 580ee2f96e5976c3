"""What a lead is sent: the `Message` type, the sender's name, and the fallback templates
(touch 1's, and one per follow-up touch).

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


def _fields(name: object, job_title: object, company: object) -> dict:
    """What the templates may quote of a lead, and the sender's offer and name."""
    return {
        "first_name": _first_name(_clean(name)),
        "job_title": _checked(_clean(job_title)[:80]),
        "company": _checked(_clean(company)[:80]),
        "offer": _clean(settings.OUTREACH_OFFER),
        "sender": sender_name(),
    }


def fallback(*, name: object = "", job_title: object = "", company: object = "") -> Message:
    """Subject and body of the fallback email for a lead with these (possibly empty) fields."""
    context = _fields(name, job_title, company)
    subject = render_to_string("pipeline/fallback_subject.txt", context).strip()
    body = render_to_string("pipeline/fallback_body.txt", context).strip() + "\n"
    return Message(subject=subject, body=body, source=MessageSource.FALLBACK)


def followup_fallback(
    *, touch: int, last: bool, name: object = "", job_title: object = "", company: object = ""
) -> str:
    """The body of the fallback follow-up at `touch` (2, 3, …); `last` for the sequence's final touch.

    Like touch 1's, it states nothing about the company beyond its name, and reads naturally
    without any field. Its subject is always touch 1's, as `Re: …`.
    """
    context = {**_fields(name, job_title, company), "touch": touch, "last": last}
    return render_to_string("pipeline/followup_body.txt", context).strip() + "\n"


def fallback_for(lead: object) -> Message:
    """The fallback email for a lead (anything with a lead's name, job title and company)."""
    return fallback(name=lead.name, job_title=lead.job_title, company=lead.company_name)
