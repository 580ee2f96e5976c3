"""One lead's AI message: ask, read the answer, check it against its sources, ask once more.

Runs in the generator's pool threads: the LLM and pure functions only, no database. A
draft that fails the grounding check is asked for again once, with what failed; a second
failure is the template's turn (`UNGROUNDED`). So a lead costs at most one extra call.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from pipeline import outbound_check
from pipeline.generate import grounding, llm, prompts
from pipeline.generate.llm import LLMCause
from pipeline.message import Message

# A lead whose call meets a 429 is tried again after the shared pause, this many times in all.
_RATE_LIMIT_ROUNDS = 5


class Check(StrEnum):
    """How a message was checked, as the evidence records it."""

    PASSED = "passed"  # the first draft passed
    REGENERATED = "regenerated"  # the first draft failed; the second passed
    FELL_BACK = "fell_back"  # both failed: the template was used
    OFF = "off"  # OUTREACH_GROUNDING=off: quotes located, nothing refused
    NONE = ""  # not an AI draft (the template without the LLM, or a person's message)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a lead gets the fallback: an LLMCause, one line of detail, and what failed the check."""

    cause: LLMCause
    detail: str
    problems: tuple[grounding.Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Written:
    """An AI message that may be stored, with where its claims were found and how it was checked."""

    message: Message
    support: tuple[grounding.Support, ...]
    check: str
    problems: tuple[grounding.Problem, ...] = ()  # what the first draft failed on, when it was redone


class Breaker:
    """Tripped by the first failure no other call can escape (dead server, bad key, proxy refused).

    Threads check it before calling, so the rest of the batch goes to the fallback at once.
    """

    def __init__(self) -> None:
        self.failure: Failure | None = None

    def trip(self, failure: Failure) -> None:
        if self.failure is None:
            self.failure = failure


def is_checking() -> bool:
    """Whether drafts are refused when they fail the check (OUTREACH_GROUNDING=check)."""
    return settings.OUTREACH_GROUNDING == "check"


def sources_for(lead: prompts.LeadData, context: prompts.Context) -> grounding.Sources:
    """What a message for this lead may draw on: its data, the offer, and the sender's name and company."""
    return grounding.Sources(
        {
            "name": lead.name,
            "job_title": lead.job_title,
            "company": lead.company,
            "website": lead.website,
            "company_description": lead.company_description,
            "offer": context.offer,
            "sender": ", ".join(part for part in (context.sender, context.sender_company) if part),
        }
    )


def write(
    lead: prompts.LeadData,
    context: prompts.Context,
    breaker: Breaker,
    *,
    checking: bool,
    conversation: list[dict[str, str]] | None = None,
    sources: grounding.Sources | None = None,
    check_subject: bool = True,
) -> Written | Failure:
    """The lead's checked AI message, or why it gets the template.

    A follow-up passes its own `conversation` and `sources`, and `check_subject=False`: it keeps touch 1's subject.
    """
    conversation = conversation or prompts.messages(lead, context)
    first = _ask(conversation, breaker)
    if isinstance(first, Failure):
        return first
    text, draft = first
    # Checked before grounding, and not asked again: a page whose text made the model add a
    # foreign link would make it do so again, and the template is safe.
    if refused := outbound_check.problem(draft.message.subject, draft.message.body, website=lead.website):
        return Failure(LLMCause.UNSAFE, f"the answer failed the output check: {refused}")
    sources = sources or sources_for(lead, context)
    verdict = _check(draft, sources, check_subject=check_subject)
    if not checking:
        return Written(draft.message, verdict.support, Check.OFF)
    if verdict.passed:
        return Written(draft.message, verdict.support, Check.PASSED)
    second = _ask(prompts.retry(conversation, text, verdict.problems), breaker)
    if isinstance(second, Failure):
        detail = f"{verdict.problems[0]}; asked again: {second.detail}"
        return Failure(LLMCause.UNGROUNDED, detail, problems=verdict.problems)
    _, redraft = second
    if refused := outbound_check.problem(redraft.message.subject, redraft.message.body, website=lead.website):
        return Failure(LLMCause.UNSAFE, f"the second answer failed the output check: {refused}")
    again = _check(redraft, sources, check_subject=check_subject)
    if not again.passed:
        return Failure(LLMCause.UNGROUNDED, f"{again.problems[0]}, also after asking again", problems=again.problems)
    return Written(redraft.message, again.support, Check.REGENERATED, problems=verdict.problems)


def _check(draft: prompts.Draft, sources: grounding.Sources, *, check_subject: bool) -> grounding.Verdict:
    subject = draft.message.subject if check_subject else ""
    return grounding.check(subject, draft.message.body, draft.claims, sources)


def _ask(conversation: list[dict[str, str]], breaker: Breaker) -> tuple[str, prompts.Draft] | Failure:
    """One answer and what it says, or the failure; a 429 waits for the shared pause and tries again."""
    failure = Failure(LLMCause.RATE_LIMITED, "")
    for _ in range(_RATE_LIMIT_ROUNDS):
        if breaker.failure is not None:
            return breaker.failure
        try:
            text = llm.complete(conversation, schema=prompts.ANSWER_SCHEMA)
            return text, prompts.parse_answer(text)
        except prompts.UnusableAnswer as exc:
            return Failure(LLMCause.BAD_ANSWER, str(exc))
        except llm.LLMError as exc:
            failure = Failure(exc.cause, str(exc))
            if exc.permanent or exc.cause in llm.FATAL_CAUSES:
                breaker.trip(failure)
                return failure
            if exc.cause != LLMCause.RATE_LIMITED:
                return failure
            # Rate limited: the client's shared pause holds the next call back; try again.
    return failure


def evidence(sources: grounding.Sources, outcome: Written | Failure | None) -> dict:
    """What the lead page shows: the texts the message was written from and where each claim is backed."""
    written = isinstance(outcome, Written)
    check = outcome.check if written else Check.FELL_BACK if _is_ungrounded(outcome) else Check.NONE
    return {
        "written_from": dict(sources.texts),
        "check": check,
        "claims": [support.as_dict() for support in outcome.support] if written else [],
        "problems": [str(problem) for problem in outcome.problems] if outcome is not None else [],
    }


def _is_ungrounded(outcome: Written | Failure | None) -> bool:
    return isinstance(outcome, Failure) and outcome.cause == LLMCause.UNGROUNDED
