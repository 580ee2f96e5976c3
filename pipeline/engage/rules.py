"""Who may be emailed: lead facts + context -> Decision. No database, no network.

A lead is skipped only for one of the contract's reason codes; everything else is
engaged. The rules are checked in this order, and the first that matches is the
reason a person reads in the admin:

1. `no_email`: there is no address at all (empty, or a placeholder like "N/A").
2. `invalid_email`: the address is not one we can send to (syntax, or, with
   OUTREACH_CHECK_DELIVERABILITY, a domain that takes no email). Every later rule
   compares addresses, so it needs a valid one.
3. `suppressed`: the person unsubscribed or is on the do-not-contact list. A legal
   obligation, so it wins over every reason below.
4. `status_filtered`: the lead's Airtable status is one an operator excluded
   (OUTREACH_EXCLUDED_STATUSES): a person's explicit decision about this row.
5. `already_contacted`: this address was emailed within OUTREACH_RECONTACT_DAYS
   from any lead row, another row with it goes out in this run, or this row's
   Airtable status or date messaged says it was contacted.
6. `confidence_filtered`: the address's confidence level is excluded
   (OUTREACH_EXCLUDED_CONFIDENCE).

The daily cap and approval are not rules: a lead over the cap, or whose message no
person approved yet (`awaits_approval`), is deferred by the engager, not skipped.
"""

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol

from email_validator import EmailNotValidError, validate_email

from leads.models import SkipReason, address_key

# Statuses a team writes by hand for a lead already emailed (compared case-folded).
_CONTACTED_STATUSES = frozenset({"contacted", "messaged", "emailed", "sent"})
# What spreadsheets hold where there is no address; not worth calling "invalid".
_NO_ADDRESS = frozenset({"", "-", "--", "n/a", "na", "none", "null", "nil", "nan", "unknown", "no email"})
# Zero-width characters that copy-paste leaves around addresses; str.strip() keeps them.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_MAX_DETAIL = 500


class LeadFacts(Protocol):
    """What the rules read from a lead (a `Lead` row has all of it)."""

    email: object
    engagement_status: object
    date_messaged: date | None
    email_confidence_level: object


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the rules need besides the lead, loaded by the engager once per batch.

    Address sets hold lower-cased addresses.
    """

    today: date
    excluded_statuses: Set[str] = frozenset()  # case-folded, as settings normalise them
    excluded_confidence: Set[str] = frozenset()
    # Address -> why it is suppressed ("unsubscribed 2024-03-01").
    suppressed: Mapping[str, str] = field(default_factory=dict)
    # Address -> date it was last emailed (or marked messaged on another row) within the re-contact window.
    contacted_on: Mapping[str, date] = field(default_factory=dict)
    # Addresses another lead row is being emailed at in this run.
    taken: Set[str] = frozenset()
    # Domain (lower-case) -> why it takes no email; filled only with OUTREACH_CHECK_DELIVERABILITY.
    undeliverable: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Address:
    """An address as read from a lead: what to send to, and the keys it is compared by."""

    text: str  # trimmed, as the lead holds it
    normalized: str = ""  # what to send to; empty when there is none or it is invalid
    problem: str = ""  # why it is invalid (a SkipReason applies only when `text` is set)

    @property
    def keys(self) -> frozenset[str]:
        """Forms to compare with suppressions and past recipients: the canonical key (`address_key`), and
        the lower-cased text that lead rows are looked up by."""
        canonical = address_key(self.normalized or self.text) if self.text else ""
        return frozenset(key for key in (canonical, self.text.lower(), self.normalized.lower()) if key)

    @property
    def domain(self) -> str:
        return self.normalized.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["send", "skip"]
    reason: str = ""  # a SkipReason value when skipped
    detail: str = ""  # for a person: which status, which date, what is wrong with the address
    address: str = ""  # where to send, when sending

    @property
    def is_send(self) -> bool:
        return self.action == "send"


class DeferReason(StrEnum):
    """Why a lead that may be emailed waits for a later run (the contract's codes this engager uses)."""

    DAILY_CAP = "daily_cap"
    OUTSIDE_WINDOW = "outside_window"  # the lead's local time is outside OUTREACH_SEND_WINDOW/DAYS
    NOT_DUE = "not_due"  # every mailbox with room waits for its gap
    AWAITING_APPROVAL = "awaiting_approval"
    MAILBOX_PAUSED = "mailbox_paused"


def awaits_approval(approved_at: datetime | None, *, mode: str, touch: int) -> bool:
    """Whether this touch must wait for a person (OUTREACH_APPROVAL: first, all or none)."""
    if mode == "none" or approved_at is not None:
        return False
    return mode == "all" or touch == 1


def _texts(value: object) -> list[str]:
    """A field as a list of trimmed strings: Airtable gives text, lists (multi-selects,
    lookups), numbers or nothing where text belongs."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [text for item in value for text in _texts(item)]
    text = str(value).strip().strip(_INVISIBLE).strip()
    return [text] if text else []


def read_address(value: object) -> Address:
    """Trim the lead's address and check its syntax (pure: no DNS)."""
    texts = _texts(value)
    if len(texts) > 1:
        return Address(text=", ".join(texts), problem=f"{len(texts)} addresses in one field")
    text = texts[0] if texts else ""
    if text.casefold() in _NO_ADDRESS:
        return Address(text="")
    try:
        # Non-ASCII before the @ needs SMTPUTF8, which Django's SMTP backend cannot send;
        # a non-ASCII domain is fine: we send to its ASCII (punycode) form.
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as err:
        return Address(text=text, problem=str(err))
    return Address(text=text, normalized=result.ascii_email or result.normalized)


def _skip(reason: SkipReason, detail: str) -> Decision:
    return Decision(action="skip", reason=reason.value, detail=detail[:_MAX_DETAIL])


def decide(lead: LeadFacts, context: Context, *, address: Address | None = None) -> Decision:
    """Send, or skip with one of the contract's reason codes (see the module docstring for the order)."""
    address = address or read_address(lead.email)
    if not address.text:
        return _skip(SkipReason.NO_EMAIL, "no address")
    if address.problem:
        return _skip(SkipReason.INVALID_EMAIL, address.problem)
    if address.domain in context.undeliverable:
        return _skip(SkipReason.INVALID_EMAIL, context.undeliverable[address.domain])
    suppressed = sorted(address.keys & context.suppressed.keys())
    if suppressed:
        return _skip(SkipReason.SUPPRESSED, context.suppressed[suppressed[0]] or "on the suppression list")
    statuses = [status.casefold() for status in _texts(lead.engagement_status)]
    excluded = [status for status in statuses if status in context.excluded_statuses]
    if excluded:
        return _skip(SkipReason.STATUS_FILTERED, f"status {excluded[0]!r} is excluded")
    contacted = _contacted(lead, address, statuses, context)
    if contacted:
        return _skip(SkipReason.ALREADY_CONTACTED, contacted)
    confidence = [level.casefold() for level in _texts(lead.email_confidence_level)]
    excluded = [level for level in confidence if level in context.excluded_confidence]
    if excluded:
        return _skip(SkipReason.CONFIDENCE_FILTERED, f"confidence {excluded[0]!r} is excluded")
    return Decision(action="send", address=address.normalized)


def _contacted(lead: LeadFacts, address: Address, statuses: list[str], context: Context) -> str:
    """Why the lead counts as contacted already, or "" when it does not."""
    if lead.date_messaged:
        return f"Airtable says messaged on {lead.date_messaged:%Y-%m-%d}"
    contacted = [status for status in statuses if status in _CONTACTED_STATUSES]
    if contacted:
        return f"Airtable status is {contacted[0]!r}"
    if address.keys & context.taken:
        return "another lead with this address is emailed in this run"
    dates = [context.contacted_on[key] for key in address.keys if key in context.contacted_on]
    if dates:
        return f"this address was emailed on {max(dates):%Y-%m-%d}"
    return ""
