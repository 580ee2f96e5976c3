"""The team's mailboxes as configured: one source of truth for the engager (which sends
from them) and the inbox (which reads them). Configuration only, no state.

With OUTREACH_MAILBOXES empty there is one mailbox, `default`, made of today's
settings (OUTREACH_FROM_EMAIL, EMAIL_URL, INBOX_URL, OUTREACH_DAILY_CAP), so a
single-mailbox team changes nothing. Otherwise each named mailbox has its own
MAILBOX_<NAME>_FROM, _EMAIL_URL, _INBOX_URL and _DAILY_CAP (settings.py reads them).
"""

from dataclasses import dataclass

from django.conf import settings

DEFAULT_MAILBOX = "default"


@dataclass(frozen=True, slots=True)
class Mailbox:
    name: str  # stored on each outbound email and inbound message
    from_email: str  # the From header, "Name <address>"
    email_url: str  # smtp://… for this mailbox; empty: Django's email settings (EMAIL_URL)
    inbox_url: str  # imaps://…; empty: no inbox is read for it
    daily_cap: int
    prefix: str  # the settings a person fixes: "MAILBOX_SALES_" or "" for the default mailbox

    def setting(self, suffix: str) -> str:
        """The variable behind one of its values: setting("EMAIL_URL") -> MAILBOX_SALES_EMAIL_URL or EMAIL_URL."""
        if self.prefix:
            return f"{self.prefix}{suffix}"
        return {"FROM": "OUTREACH_FROM_EMAIL", "DAILY_CAP": "OUTREACH_DAILY_CAP"}.get(suffix, suffix)


def configured() -> list[Mailbox]:
    """Every mailbox the team sends from, in the order OUTREACH_MAILBOXES names them."""
    if not settings.OUTREACH_MAILBOXES:
        return [
            Mailbox(
                name=DEFAULT_MAILBOX,
                from_email=settings.OUTREACH_FROM_EMAIL,
                email_url="",
                inbox_url=settings.INBOX_URL.strip(),
                daily_cap=settings.OUTREACH_DAILY_CAP,
                prefix="",
            )
        ]
    return [
        Mailbox(
            name=name,
            from_email=values["from_email"],
            email_url=values["email_url"],
            inbox_url=values["inbox_url"].strip(),
            daily_cap=values["daily_cap"],
            prefix=f"MAILBOX_{name.upper()}_",
        )
        for name, values in ((name, settings.MAILBOX_SETTINGS[name]) for name in settings.OUTREACH_MAILBOXES)
    ]


def by_name() -> dict[str, Mailbox]:
    return {mailbox.name: mailbox for mailbox in configured()}
