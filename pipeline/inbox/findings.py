"""What a report says: who it is about, the status of each, and the email it reports on."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str  # lower-cased; "" when the report names none
    status: str = ""  # "5.1.1"
    action: str = ""  # failed | delayed | delivered | relayed | expanded | complained


@dataclass(frozen=True, slots=True)
class Report:
    kind: str  # an InboundKind value
    recipients: tuple[Recipient, ...]
    original_message_id: str | None
    detail: str
