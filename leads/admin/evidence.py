"""The grounding evidence as a reviewer reads it: each claim beside the source words that back it.

Everything from a lead or a model is escaped; only the <mark> around supported words,
and the markup written here, is HTML.
"""

from collections.abc import Iterable

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from leads.models import Lead

# Characters of a source shown on each side of a claim's words in the compact view.
_CONTEXT = 60
_SOURCE_NAMES = {
    "company_description": "Company description",
    "name": "Name",
    "job_title": "Job title",
    "company": "Company",
    "website": "Website",
    "offer": "Your offer",
    "sender": "Sender",
}
_CHECKS = {
    "passed": "passed: every claim is backed by the lead's data",
    "regenerated": "passed on the second draft (the first said something the data does not)",
    "fell_back": "the AI drafts failed twice; this is the template, which states no company facts",
    "off": "not checked (OUTREACH_GROUNDING=off)",
}


def marked(text: str, spans: Iterable[tuple[int, int]]) -> SafeString:
    """`text`, escaped, with the characters inside `spans` wrapped in <mark>."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, cursor = [], 0
    for start, end in merged:
        parts.append(escape(text[cursor:start]))
        parts.append(format_html("<mark>{}</mark>", text[start:end]))
        cursor = end
    parts.append(escape(text[cursor:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped or built by format_html


def _claims(evidence: dict) -> list[dict]:
    return [claim for claim in evidence.get("claims") or [] if isinstance(claim, dict)]


def _backing(claim: dict, sources: dict, *, context: int | None) -> SafeString:
    """The words that back one claim, marked, in their source (around them only, with `context`)."""
    text = sources.get(claim.get("source") or "")
    if not text:
        return format_html('<span class="unsupported">not found in the lead\'s data: "{}"</span>', claim.get("quote"))
    start, end = int(claim.get("start") or 0), int(claim.get("end") or 0)
    offset = 0
    if context is not None:
        offset = max(0, start - context)
        text = text[offset : end + context]
    label = _SOURCE_NAMES.get(claim["source"], claim["source"])
    return format_html(
        '<span class="evidence-source">{}</span>: {}', label, marked(text, [(start - offset, end - offset)])
    )


def summary(lead: Lead) -> SafeString:
    """The compact view for the review queue: each claim and its marked words."""
    evidence = lead.message_evidence or {}
    sources = evidence.get("written_from") or {}
    claims = _claims(evidence)
    if not claims:
        return format_html('<span class="evidence-none">{}</span>', _CHECKS.get(evidence.get("check"), "no claims"))
    rows = format_html_join(
        "", "<li>{}<br>{}</li>", ((claim.get("claim"), _backing(claim, sources, context=_CONTEXT)) for claim in claims)
    )
    return format_html('<ul class="evidence-claims">{}</ul>', rows)


def full(lead: Lead) -> SafeString:
    """The lead page's view: the check's outcome, each claim, and every source with its backed words marked."""
    evidence = lead.message_evidence or {}
    if not evidence:
        return format_html("<p>{}</p>", "No evidence: the message was written by a person or before the check.")
    sources = evidence.get("written_from") or {}
    claims = _claims(evidence)
    outcome = _CHECKS.get(evidence.get("check"), "the template: it states no company facts")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td></tr>",
        ((claim.get("claim"), _backing(claim, sources, context=None)) for claim in claims),
    )
    spans: dict[str, list[tuple[int, int]]] = {}
    for claim in claims:
        if claim.get("source") in sources:
            spans.setdefault(claim["source"], []).append((int(claim.get("start") or 0), int(claim.get("end") or 0)))
    written_from = format_html_join(
        "",
        '<dt>{}</dt><dd class="evidence-text">{}</dd>',
        (
            (_SOURCE_NAMES.get(name, name), marked(text, spans.get(name, [])))
            for name, text in sources.items()
            if text and name not in {"offer", "sender"}
        ),
    )
    problems = format_html_join("", "<li>{}</li>", ((problem,) for problem in evidence.get("problems") or []))
    return format_html(
        '<div class="evidence"><p class="evidence-check">Grounding check: {}</p>'
        '<table class="evidence-claims"><thead><tr><th>Claim</th><th>Backed by</th></tr></thead>'
        "<tbody>{}</tbody></table>"
        '<p>Written from (supported words marked):</p><dl class="evidence-written-from">{}</dl>{}</div>',
        outcome,
        rows or mark_safe('<tr><td colspan="2">no claims about the lead</td></tr>'),
        written_from,
        format_html('<p>What failed the check:</p><ul class="evidence-problems">{}</ul>', problems) if problems else "",
    )
