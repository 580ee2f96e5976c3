"""The grounding check: planted errors are caught, true paraphrases pass, and what backs a claim is located."""

import pytest

from pipeline.generate import grounding, prompts
from tests.generate.grounding_cases import LEADS, OFFER, PLANTED, SENDER, TRUE, Case


def _verdict(case: Case) -> grounding.Verdict:
    claims = [grounding.Claim(claim, quote) for claim, quote in case.claims]
    return grounding.check(case.subject, case.body, claims, grounding.Sources(case.sources))


def _sources(lead: str = "ada") -> grounding.Sources:
    return grounding.Sources({**LEADS[lead], "offer": OFFER, "sender": SENDER})


def test_every_planted_error_is_caught():
    assert len(PLANTED) >= 30
    missed = [f"{case.lead}: {case.planted}" for case in PLANTED if _verdict(case).passed]
    assert missed == []


def test_true_paraphrases_pass_with_at_most_one_false_alarm():
    assert len(TRUE) >= 30
    alarms = [(case.line, [str(p) for p in _verdict(case).problems]) for case in TRUE if not _verdict(case).passed]
    assert len(alarms) <= 1, alarms


def test_a_quote_is_located_in_its_source_for_highlighting():
    description = LEADS["ada"]["company_description"]
    claim = grounding.Claim("what the company builds", "builds calculating machines for research labs")
    [support] = grounding.check("Hello", "Hi Ada,\n\nA note.", [claim], _sources()).support
    assert support.source == "company_description"
    assert description[support.start : support.end] == "builds calculating machines for research labs"
    assert support.score == 100


def test_a_reworded_quote_still_matches_but_a_changed_fact_does_not():
    near = grounding.Claim("labs", "build calculating machine for research labs")
    other = grounding.Claim("hospitals", "builds calculating machines for hospitals")
    verdict = grounding.check("Hello", "Hi Ada,\n\nA note.", [near, other], _sources())
    assert [bool(support.source) for support in verdict.support] == [True, False]
    assert [problem.cause for problem in verdict.problems] == [grounding.Cause.QUOTE]


def test_a_long_quote_is_not_matched_inside_a_short_field():
    """ "CTO raised $10M" contains the job title "CTO"; it is still no quote of it."""
    claim = grounding.Claim("title", "CTO and founder who raised ten million")
    [support] = grounding.check("Hello", "Hi Ada,\n\nA note.", [claim], _sources()).support
    assert support.source == ""


def test_risky_tokens_are_checked_whatever_the_model_claims():
    """A draft that lists no claims is read all the same."""
    verdict = grounding.check("Hello", "Hi Ada,\n\nYour 300 engineers in Madrid must be busy.", [], _sources())
    assert [(p.cause, p.text) for p in verdict.problems] == [
        (grounding.Cause.NUMBER, "300"),
        (grounding.Cause.NAME, "Madrid"),
    ]


@pytest.mark.parametrize(
    ("draft", "source"),
    [
        ("raised $12M", "raised $12 million"),
        ("10,000 trucks", "10000 trucks"),
        ("ten years", "10 years"),
        ("forty-five people", "45 people"),
        ("a 30% cut", "cut by 30 percent"),
    ],
)
def test_numbers_match_by_value_however_they_are_written(draft, source):
    sources = grounding.Sources({"company_description": source})
    assert grounding.check("Hello", f"We saw {draft}.", [], sources).problems == ()


def test_weekdays_the_sender_and_grammar_need_no_source():
    body = "Hi Ada,\n\nI'd like to show you something. Would Tuesday work?\n\nBest regards,\nSam Seller\nSeller Co"
    assert grounding.check("A Quick Idea For You", body, [], _sources()).problems == ()


def test_the_answer_format_is_read_from_json_or_the_plain_claims_block():
    as_json = '```json\n{"subject": "Hi", "body": "Hello Ada.", "claims": [{"claim": "c", "quote": "q"}]}\n```'
    plain = 'Subject: Hi\n\nHello Ada.\n\nClaims:\n- c | "q"\n- none'
    bare = "Subject: Hi\n\nHello Ada."
    for text, claims in ((as_json, (grounding.Claim("c", "q"),)), (plain, (grounding.Claim("c", "q"),)), (bare, ())):
        draft = prompts.parse_answer(text)
        assert (draft.message.subject, draft.message.body, draft.claims) == ("Hi", "Hello Ada.\n", claims)


def test_a_broken_json_answer_is_unusable_with_a_one_line_reason():
    with pytest.raises(prompts.UnusableAnswer, match="the JSON answer is broken"):
        prompts.parse_answer('{"subject": "Hi", "body": ')
