"""The output check at the last moment: a message that fails it is not sent, whoever wrote it.

The generator already replaces an AI answer that fails the check with the template,
but a person's message, or one stored before the check existed, reaches the engager
as it is. Such a lead is held back (`awaiting_approval`: a person must change the
message) and the team sees why on the lead's page: a SkipLog on the message's stage,
`generate`, written once per lead and reason, never one per run.
"""

import logging

from leads.models import Lead, SkipLog, Stage
from outreach_site.logs import mask_email
from pipeline import outbound_check
from pipeline.message import Message

logger = logging.getLogger("pipeline.engage.stage")  # one logger for all of the stage's events

REFUSED_PREFIX = "message not sent: "


def refusal(lead: Lead, message: Message) -> str | None:
    """Why `message` may not go to `lead` (the SkipLog detail), or None when it passes the output check."""
    found = outbound_check.problem(message.subject, message.body, website=lead.website)
    return f"{REFUSED_PREFIX}{found}"[:500] if found else None


def record(refused: dict[int, str], leads: list[Lead], *, run) -> None:
    """A SkipLog for each refused lead that has none with this reason yet, and one warning per lead."""
    if not refused:
        return
    shown = set(
        SkipLog.objects.filter(lead_id__in=refused, stage=Stage.GENERATE, detail__startswith=REFUSED_PREFIX)
        .values_list("lead_id", "detail")
        .distinct()
    )
    by_id = {lead.pk: lead for lead in leads}
    new = [(lead_id, detail) for lead_id, detail in refused.items() if (lead_id, detail) not in shown]
    SkipLog.objects.bulk_create(
        SkipLog(lead_id=lead_id, stage=Stage.GENERATE, reason="", detail=detail, run=run) for lead_id, detail in new
    )
    for lead_id, detail in new:
        logger.warning(
            "message refused by the output check",
            extra={"lead_id": lead_id, "email": mask_email(by_id[lead_id].email), "stage": "engage", "detail": detail},
        )
