"""Follow-up messages, written ahead: each lead whose next touch is due within a day gets its
body stored (`FollowUpMessage`), so the engager never waits on the LLM.

The same path as touch 1's: the LLM (followup_prompts.py), the answer checks, the grounding
check with the earlier emails as one more source, one more request when a draft fails, and
the touch's fallback template when the LLM is down or its answers keep failing. A follow-up
written by the model is left alone; a fallback one is written again by a later run while the
LLM is configured (as touch 1's). A lead that gets nothing here still gets the fallback at
send time: nothing is ever blocked on this stage.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from leads.models import FollowUpMessage, Lead, MessageSource, OutboundEmail
from pipeline import message as messages
from pipeline import sequence
from pipeline.generate import drafts, followup_prompts, grounding, llm, prompts
from pipeline.generate.drafts import Failure, Written
from pipeline.generate.llm import LLMCause

# Follow-ups due within this long are written now.
AHEAD = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Job:
    lead: Lead
    touch: int
    last: bool
    earlier: list[followup_prompts.Earlier]


def write_due(
    *, now: datetime, dry_run: bool = False, lead_ids: list[int] | None = None, limit: int | None = None
) -> tuple[Counter, list[dict]]:
    """Write every follow-up due within a day that has no AI message yet; returns the counts
    (`written`, `fell_back`) and, in a dry run, one item per lead."""
    days = settings.OUTREACH_FOLLOWUP_DAYS
    counts: Counter = Counter()
    jobs = _jobs(days, now=now, lead_ids=lead_ids, limit=limit)
    if not jobs:
        return counts, []
    context = prompts.Context(
        offer=settings.OUTREACH_OFFER, sender=messages.sender_name(), sender_company=messages.sender_company()
    )
    rows = []
    for job, outcome in _answers(jobs, context):
        rows.append(_row(job, outcome, context, now=now))
        counts["fell_back" if rows[-1].source == MessageSource.FALLBACK else "written"] += 1
    if dry_run:
        return counts, [{"lead": row.lead_id, "touch": row.touch, "source": row.source} for row in rows]
    FollowUpMessage.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["lead", "touch"],
        update_fields=["body", "source", "evidence", "generated_at", "approved_at"],
        batch_size=500,
    )
    return counts, []


def _jobs(days, *, now: datetime, lead_ids, limit) -> list[_Job]:
    leads = sequence.in_sequence(days).filter(sequence.due_query(days, before=now + AHEAD)).order_by("pk")
    if lead_ids is not None:
        leads = leads.filter(pk__in=lead_ids)
    leads = list(leads.defer("raw_fields", "message_evidence"))
    written = {
        (lead_id, touch): source
        for lead_id, touch, source in FollowUpMessage.objects.filter(lead__in=leads).values_list(
            "lead_id", "touch", "source"
        )
    }
    retry_fallback = llm.is_configured()
    wanted = []
    for lead in leads:
        source = written.get((lead.pk, lead.sent_touch + 1))
        if source is None or (source == MessageSource.FALLBACK and retry_fallback):
            wanted.append(lead)
    wanted = wanted[:limit] if limit is not None else wanted
    earlier: dict[int, list[followup_prompts.Earlier]] = {}
    for email in (
        OutboundEmail.objects.filter(lead__in=wanted).order_by("touch").only("lead_id", "touch", "subject", "body")
    ):
        earlier.setdefault(email.lead_id, []).append(followup_prompts.Earlier(email.touch, email.subject, email.body))
    last = sequence.last_touch(days)
    return [_Job(lead, lead.sent_touch + 1, lead.sent_touch + 1 == last, earlier.get(lead.pk, [])) for lead in wanted]


def _answers(jobs: list[_Job], context: prompts.Context):
    """Each job with its checked AI follow-up or the failure, in the order the answers come."""
    if not llm.is_configured():
        for job in jobs:
            yield job, Failure(LLMCause.NO_KEY, "OPENAI_API_KEY is not set")
        return
    breaker = drafts.Breaker()
    checking = drafts.is_checking()
    with ThreadPoolExecutor(
        max_workers=min(settings.OPENAI_CONCURRENCY, len(jobs)), thread_name_prefix="followup"
    ) as pool:
        futures = {pool.submit(_write, job, context, breaker, checking): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _write(job: _Job, context: prompts.Context, breaker: drafts.Breaker, checking: bool) -> Written | Failure:
    data = prompts.LeadData.of(job.lead)
    outcome = drafts.write(
        data,
        context,
        breaker,
        checking=checking,
        conversation=followup_prompts.messages(data, context, touch=job.touch, last=job.last, earlier=job.earlier),
        sources=_sources(data, context, job),
        check_subject=False,
    )
    if isinstance(outcome, Written) and (problem := followup_prompts.problem(outcome.message.body)):
        return Failure(LLMCause.BAD_ANSWER, problem)
    return outcome


def _sources(data: prompts.LeadData, context: prompts.Context, job: _Job) -> grounding.Sources:
    texts = dict(drafts.sources_for(data, context).texts)
    texts["earlier_emails"] = followup_prompts.earlier_text(job.earlier)
    return grounding.Sources(texts)


def _row(job: _Job, outcome: Written | Failure, context: prompts.Context, *, now: datetime) -> FollowUpMessage:
    data = prompts.LeadData.of(job.lead)
    evidence = drafts.evidence(_sources(data, context, job), outcome)
    if isinstance(outcome, Written):
        body, source = outcome.message.body, MessageSource.AI
    else:
        lead = job.lead
        body = messages.followup_fallback(
            touch=job.touch, last=job.last, name=lead.name, job_title=lead.job_title, company=lead.company_name
        )
        source = MessageSource.FALLBACK
    return FollowUpMessage(
        lead=job.lead, touch=job.touch, body=body, source=source, evidence=evidence, generated_at=now, approved_at=None
    )
