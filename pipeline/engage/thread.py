"""A follow-up answers the lead's previous email, so mail clients show one conversation.

In-Reply-To is the previous touch's Message-ID, References every earlier one in order
(with an ESP's own id beside ours, when it rewrote it, so either threads), the subject
`Re: ` + touch 1's exact subject, and the From of touch 1's mailbox. Pure: the earlier
emails in, headers out.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from leads.models import OutboundEmail

_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")


@dataclass(frozen=True, slots=True)
class Thread:
    subject: str
    mailbox: str  # the mailbox touch 1 left from: every follow-up leaves from it too
    in_reply_to: str
    references: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"In-Reply-To": self.in_reply_to, "References": " ".join(self.references)}


def thread_of(earlier: Iterable[OutboundEmail]) -> Thread | None:
    """The thread a lead's next touch belongs to; None when no earlier email has a Message-ID (nothing to answer)."""
    emails = sorted((email for email in earlier if email.message_id), key=lambda email: email.touch)
    if not emails or emails[0].touch != 1:
        return None
    references: list[str] = []
    for email in emails:
        references.append(email.message_id)
        provider = email.provider_message_id.strip()
        if provider != email.message_id and _MESSAGE_ID.match(provider):
            references.append(provider)
    first = emails[0]
    return Thread(
        subject=f"Re: {first.subject}",
        mailbox=first.mailbox,
        in_reply_to=emails[-1].message_id,
        references=tuple(dict.fromkeys(references)),
    )
