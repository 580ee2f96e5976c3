"""An ESP's bounce and complaint notifications sent as email: Amazon SES through SNS
("AWS Notification Message", a JSON body, raw or wrapped in SNS's own envelope)."""

import json
from email.message import Message

from leads.models import InboundKind
from pipeline.inbox import parsing
from pipeline.inbox.findings import Recipient, Report

_SES_SENDERS = ("@sns.amazonaws.com", "@amazonses.com")


def read(message: Message, *, sender: str) -> Report | None:
    """The report in an SES notification, or None (another sender, a delivery notice, unreadable JSON)."""
    if not sender.endswith(_SES_SENDERS):
        return None
    # Sendmail folds lines over 990 characters as "!\n ": unfold them before reading the JSON.
    notice = _ses_json(parsing.all_text(message).replace("!\n ", ""))
    if notice is None:
        return None
    kind = notice.get("notificationType") or notice.get("eventType")
    original = _message_id(notice.get("mail") or {})
    if kind == "Bounce":
        bounce = notice.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        recipients = tuple(
            Recipient(
                str(item.get("emailAddress", "")).lower(),
                str(item.get("status") or ("5.0.0" if permanent else "4.0.0")),
                str(item.get("action") or ("failed" if permanent else "delayed")),
            )
            for item in bounce.get("bouncedRecipients") or []
            if isinstance(item, dict)
        )
        hard = any(r.status.startswith("5") for r in recipients) or (permanent and not recipients)
        kind = InboundKind.BOUNCE_HARD if hard else InboundKind.BOUNCE_SOFT
        return Report(kind, recipients, original, f"Amazon SES bounce ({bounce.get('bounceType', 'unknown')})")
    if kind == "Complaint":
        complaint = notice.get("complaint") or {}
        recipients = tuple(
            Recipient(str(item.get("emailAddress", "")).lower(), action="complained")
            for item in complaint.get("complainedRecipients") or []
            if isinstance(item, dict)
        )
        feedback = complaint.get("complaintFeedbackType") or "complaint"
        return Report(InboundKind.COMPLAINT, recipients, original, f"Amazon SES complaint ({feedback})")
    return Report(InboundKind.OTHER, (), original, f"Amazon SES notification ({kind or 'unknown'}): no bounce")


def _ses_json(text: str) -> dict | None:
    """The notification object: the body's JSON, or the `Message` string inside SNS's envelope."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        try:
            data = json.loads(data["Message"])
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def _message_id(mail: dict) -> str | None:
    """Our Message-ID as SES saw it in the headers of the email it sent."""
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            ids = parsing.message_ids(str(header.get("value", "")))
            if ids:
                return ids[0]
    common = (mail.get("commonHeaders") or {}).get("messageId")
    return str(common) if isinstance(common, str) and common.startswith("<") else None
