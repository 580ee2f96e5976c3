"""Stage: lead -> message. An AI message when the LLM answers well and truly, else the fallback.

Which leads: those not yet contacted (no OutboundEmail) whose message is empty, and,
while an API key is set, those whose message is the fallback (unless a person approved
it), so that a lead that got the template while the LLM was down gets a real message
on a later run. A message written by the model or by a person is left alone; the
admin's Regenerate (`rewrite=True`) writes it again.

With OUTREACH_GROUNDING=check, every AI draft passes the grounding check or is asked for
again once (drafts.py); the counts are the summary's `grounding` key. Each message is
stored with its evidence: what it was written from, and where each claim is backed.
Writing a message clears its approval: a person approves what is sent, not what was.

A person's message (Airtable's CUSTOM_MESSAGE) is kept as `manual` when it passes
the same checks as the model's answer. Calls run on a pool of OPENAI_CONCURRENCY
threads that only talk to the LLM; the database is read and written here, in the
calling thread, in bulk.
"""

import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from leads.models import Lead, MessageSource, OutboundEmail, SkipReason
from pipeline import message as messages
from pipeline.generate import drafts, followups, llm, prompts
from pipeline.generate.drafts import Failure, Written
from pipeline.generate.llm import LLMCause
from pipeline.progress import NO_PROGRESS, Progress
from pipeline.summary import StageSummary, Tally

logger = logging.getLogger(__name__)

# Leads written per bulk update; also how often progress reaches the database.
_STORE_BATCH = 500
_MESSAGE_FIELDS = [
    "message_subject",
    "message_body",
    "message_source",
    "message_grounding",
    "message_evidence",
    "message_generated_at",
    "message_approved_at",
    "message_approved_by",
]


def run(
    *,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
    lead_ids: list[int] | None = None,
    rewrite: bool = False,
    now: datetime | None = None,
) -> StageSummary:
    """Give every lead without a usable message one (ai, manual or fallback); never raises for the LLM.

    `rewrite` (with `lead_ids`: the admin's Regenerate) asks the LLM again for those leads
    whatever their message. A dry run makes the same calls and checks and lists each lead's
    source and subject, but stores nothing. Then the follow-ups due within a day are written
    (followups.py); the summary's `followups` key counts them.
    """
    now = now or timezone.now()
    tally = Tally(stage="generate", dry_run=dry_run)
    notes = _Notes(pauses_before=llm.rate_limit_pauses())
    leads = _pending(limit=limit, lead_ids=lead_ids, rewrite=rewrite)
    progress.start(len(leads), "Generating messages")
    context = prompts.Context(
        offer=settings.OUTREACH_OFFER, sender=messages.sender_name(), sender_company=messages.sender_company()
    )

    to_generate, to_store = [], []
    for lead in leads:
        manual = None if rewrite else _manual_message(lead)
        if isinstance(manual, messages.Message):
            to_store.append(_set_message(lead, manual, grounding="", evidence={}))
            progress.advance()
        else:
            notes.manual_rejected(manual)
            to_generate.append(lead)
    for lead, answer in _answers(to_generate, context):
        to_store.append(_with_answer(lead, answer, context, notes))
        if not dry_run and len(to_store) >= _STORE_BATCH:
            _store(to_store, tally)
            to_store = []
        progress.advance()

    if dry_run:
        tally.succeeded = tally.processed = len(leads)
        tally.items = [_item(lead, notes.reasons.get(lead.pk, "")) for lead in leads]
    else:
        _store(to_store, tally)
    tally.extra["grounding"] = notes.grounding_counts()
    notes.log()
    if not rewrite:
        remaining = None if limit is None else max(limit - len(leads), 0)
        counts, items = followups.write_due(now=now, dry_run=dry_run, lead_ids=lead_ids, limit=remaining)
        tally.extra["followups"] = {"written": counts["written"], "fell_back": counts["fell_back"]}
        tally.items.extend(items)
    return tally.summary()


@dataclass(slots=True)
class _Notes:
    """What a run tells the log: one line per cause with its count, never one per lead."""

    pauses_before: int
    failures: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # cause -> the first error's line
    reasons: dict[int, str] = field(default_factory=dict)  # lead id -> cause, for the dry-run listing
    rejected: Counter[str] = field(default_factory=Counter)  # why a person's message failed a check
    grounding: Counter[str] = field(default_factory=Counter)  # checked, passed, regenerated, fell_back
    ungrounded: Counter[str] = field(default_factory=Counter)  # drafts that failed, per grounding cause
    ungrounded_samples: dict[str, str] = field(default_factory=dict)  # grounding cause -> the first problem

    def fell_back(self, lead: Lead, failure: Failure) -> None:
        self.failures[failure.cause] += 1
        self.samples.setdefault(failure.cause, failure.detail)
        self.reasons[lead.pk] = failure.cause

    def checked(self, outcome: Written | Failure) -> None:
        """Count a lead's grounding outcome, and each cause its failed drafts met (once per draft)."""
        failed_check = isinstance(outcome, Failure) and outcome.cause == LLMCause.UNGROUNDED
        if isinstance(outcome, Written) and outcome.check == drafts.Check.OFF:
            return
        if isinstance(outcome, Failure) and not failed_check:
            return  # the LLM failed before any draft could be checked
        self.grounding["checked"] += 1
        if isinstance(outcome, Written) and outcome.check == drafts.Check.REGENERATED or failed_check:
            self.grounding["regenerated"] += 1
        self.grounding["fell_back" if failed_check else "passed"] += 1
        for problem in {problem.cause: problem for problem in outcome.problems}.values():
            self.ungrounded[problem.cause] += 1
            self.ungrounded_samples.setdefault(problem.cause, str(problem))

    def grounding_counts(self) -> dict[str, int]:
        return {name: self.grounding[name] for name in ("checked", "passed", "regenerated", "fell_back")}

    def manual_rejected(self, reason: str | None) -> None:
        if reason is not None:
            self.rejected[reason] += 1

    def log(self) -> None:
        failures = Counter(self.failures)
        if no_key := failures.pop(LLMCause.NO_KEY, 0):
            logger.warning(
                "OpenAI API key not set; every lead gets the fallback message",
                extra={"setting": "OPENAI_API_KEY", "count": no_key},
            )
        for cause, count in sorted(failures.items()):
            logger.warning(
                "message fell back to the template",
                extra={"cause": cause, "count": count, "error": self.samples[cause]},
            )
        for cause, count in sorted(self.ungrounded.items()):
            logger.warning(
                "message failed the grounding check",
                extra={"cause": cause, "count": count, "example": self.ungrounded_samples[cause]},
            )
        for reason, count in sorted(self.rejected.items()):
            logger.warning(
                "custom message failed the checks; generated instead", extra={"count": count, "reason": reason}
            )
        if pauses := llm.rate_limit_pauses() - self.pauses_before:
            logger.info("OpenAI rate limited; all calls paused", extra={"pauses": pauses})


def _with_answer(lead: Lead, answer: Written | Failure, context: prompts.Context, notes: _Notes) -> Lead:
    """The lead with its AI message, or with the fallback when the call or the checks failed."""
    data = prompts.LeadData.of(lead)
    notes.checked(answer)
    evidence = drafts.evidence(drafts.sources_for(data, context), answer)
    if isinstance(answer, Written):
        return _set_message(lead, answer.message, grounding=data.company_description, evidence=evidence)
    notes.fell_back(lead, answer)
    return _set_message(lead, messages.fallback_for(lead), grounding=data.company_description, evidence=evidence)


def _pending(*, limit: int | None, lead_ids: list[int] | None, rewrite: bool) -> list[Lead]:
    contacted = Exists(OutboundEmail.objects.filter(lead=OuterRef("pk")))
    needs_message = Q(message_body__regex=r"^\s*$")
    if llm.is_configured():
        # A template a person approved was their choice: the LLM coming back does not replace it.
        needs_message |= Q(message_source=MessageSource.FALLBACK, message_approved_at=None)
    if rewrite and lead_ids is not None:
        needs_message = Q()
    leads = Lead.objects.filter(needs_message, archived_at=None).exclude(contacted).order_by("pk")
    if lead_ids is not None:
        leads = leads.filter(pk__in=lead_ids)
    return list(leads[:limit] if limit is not None else leads)


def _manual_message(lead: Lead) -> messages.Message | str | None:
    """The person's message when it passes the checks; else why it failed (None: there is none)."""
    text = lead.custom_message.strip()
    if not text:
        return None
    default_subject = messages.fallback(company=lead.company_name).subject
    try:
        return prompts.parse(text, default_subject=default_subject, source=MessageSource.MANUAL)
    except prompts.UnusableAnswer as exc:
        return str(exc)


def _answers(leads: list[Lead], context: prompts.Context) -> Iterator[tuple[Lead, Written | Failure]]:
    """Each lead with its checked AI message or the failure, in the order the answers come."""
    if not leads:
        return
    if not llm.is_configured():
        for lead in leads:
            yield lead, Failure(LLMCause.NO_KEY, "OPENAI_API_KEY is not set")
        return
    breaker = drafts.Breaker()
    checking = drafts.is_checking()
    workers = min(settings.OPENAI_CONCURRENCY, len(leads))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="generate") as pool:
        futures = {
            pool.submit(drafts.write, prompts.LeadData.of(lead), context, breaker, checking=checking): lead
            for lead in leads
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


def _set_message(lead: Lead, message: messages.Message, *, grounding: str, evidence: dict) -> Lead:
    lead.message_subject = message.subject
    lead.message_body = message.body
    lead.message_source = message.source
    lead.message_grounding = grounding
    lead.message_evidence = evidence
    lead.message_generated_at = timezone.now()
    lead.message_approved_at = lead.message_approved_by = None  # a new message waits for a person again
    return lead


def _store(leads: list[Lead], tally: Tally) -> None:
    """Write the messages in bulk, except to leads contacted since they were read."""
    tally.processed += len(leads)
    if not leads:
        return
    # The engager may have sent to a lead while its message was being written; that
    # lead keeps the message it was sent with. The condition is part of the UPDATE,
    # so there is no gap between the check and the write.
    not_contacted = Lead.objects.exclude(Exists(OutboundEmail.objects.filter(lead=OuterRef("pk"))))
    written = not_contacted.bulk_update(leads, fields=_MESSAGE_FIELDS, batch_size=_STORE_BATCH)
    tally.succeeded += written
    if written < len(leads):
        tally.skipped[SkipReason.ALREADY_CONTACTED.value] += len(leads) - written


def _item(lead: Lead, reason: str) -> dict:
    item = {"lead": lead.pk, "source": lead.message_source, "subject": lead.message_subject}
    return {**item, "reason": reason} if reason else item
