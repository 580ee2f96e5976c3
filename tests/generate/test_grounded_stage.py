"""The generator with the grounding check on: invented facts never reach a stored AI message,
true ones do, each outcome is counted, and any OpenAI-compatible server keeps working."""

import json
import logging

import pytest
from django.core.management import call_command

from leads.models import Lead, MessageSource
from pipeline import generate
from tests.builders import make_lead
from tests.fakes.openai import INVENTED, invented_facts, invented_then_true, serving

pytestmark = pytest.mark.django_db

DESCRIPTION = "Engines builds calculating machines for research labs. It has 40 engineers in London."


@pytest.fixture
def server(settings):
    with serving(settings) as server:
        yield server


def _lead(**overrides) -> Lead:
    return make_lead(name="Ada Lovelace", company_name="Engines", company_description=DESCRIPTION, **overrides)


def test_a_true_answer_is_kept_with_its_evidence(server):
    lead = _lead()
    summary = generate.run()
    lead.refresh_from_db()
    assert lead.message_source == MessageSource.AI
    assert summary.extra["grounding"] == {"checked": 1, "passed": 1, "regenerated": 0, "fell_back": 0}
    assert len(server.completions) == 1
    evidence = lead.message_evidence
    assert evidence["check"] == "passed"
    assert evidence["written_from"]["company_description"] == DESCRIPTION
    [claim] = evidence["claims"]
    quoted = evidence["written_from"][claim["source"]][claim["start"] : claim["end"]]
    assert quoted == "Engines builds calculating machines for research labs"


def test_invented_facts_are_asked_for_again_once_then_replaced_by_the_template(server, caplog):
    server.answer_with(invented_facts)
    leads = [_lead() for _ in range(3)]
    summary = generate.run()
    assert summary.extra["grounding"] == {"checked": 3, "passed": 0, "regenerated": 3, "fell_back": 3}
    assert len(server.completions) == 6  # at most one extra call per lead
    second = server.completions[-1].messages
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert "Lisbon" in second[-1]["content"]  # the note names what failed
    for lead in leads:
        lead.refresh_from_db()
        assert lead.message_source == MessageSource.FALLBACK
        assert not any(fact in lead.message_subject + lead.message_body for fact in INVENTED)
        assert lead.message_evidence["check"] == "fell_back"
        assert any("Lisbon" in problem for problem in lead.message_evidence["problems"])
    [fell_back] = [r for r in caplog.records if r.getMessage() == "message fell back to the template"]
    assert (fell_back.cause, fell_back.count) == ("ungrounded", 3)
    failed = {r.cause: r.count for r in caplog.records if r.getMessage() == "message failed the grounding check"}
    assert failed == {"event": 3, "name": 3, "number": 3, "quote": 3, "superlative": 3}


def test_a_model_that_corrects_itself_keeps_its_second_draft(server):
    server.answer_with(invented_then_true)
    lead = _lead()
    summary = generate.run()
    lead.refresh_from_db()
    assert summary.extra["grounding"] == {"checked": 1, "passed": 1, "regenerated": 1, "fell_back": 0}
    assert lead.message_source == MessageSource.AI
    assert "Lisbon" not in lead.message_body
    assert lead.message_evidence["check"] == "regenerated"


def test_grounding_off_keeps_what_the_model_wrote(server, settings):
    settings.OUTREACH_GROUNDING = "off"
    server.answer_with(invented_facts)
    lead = _lead()
    summary = generate.run()
    lead.refresh_from_db()
    assert summary.extra["grounding"] == {"checked": 0, "passed": 0, "regenerated": 0, "fell_back": 0}
    assert "Lisbon" in lead.message_body
    assert lead.message_evidence["check"] == "off"


def test_the_command_prints_the_grounding_counts_in_json(server, capsys):
    server.answer_with(invented_then_true)
    _lead()
    call_command("generate", "--json")
    output = json.loads(capsys.readouterr().out)
    assert output["grounding"] == {"checked": 1, "passed": 1, "regenerated": 1, "fell_back": 0}
    assert output["stage"] == "generate"


@pytest.mark.parametrize(
    ("options", "asked"),
    [
        ({}, ["json_schema"]),
        ({"response_formats": ("json_object",)}, ["json_schema", "json_object"]),
        ({"response_formats": ()}, ["json_schema", "json_object", None]),
        ({"response_formats": (), "ignores_response_format": True}, ["json_schema"]),
    ],
    ids=["json-schema", "json-mode-only", "refuses-formats", "ignores-formats"],
)
def test_any_openai_compatible_server_keeps_working(settings, caplog, options, asked):
    """Structured output where the server takes it; what it refuses is asked for once per process, not per lead."""
    caplog.set_level(logging.INFO, logger="pipeline.generate")
    with serving(settings, **options) as server:
        leads = [_lead() for _ in range(3)]
        settings.OPENAI_CONCURRENCY = 1  # the refusals come before the next lead's call
        summary = generate.run()
        first_lead = [(r.body.get("response_format") or {}).get("type") for r in server.completions[: len(asked)]]
        later = [(r.body.get("response_format") or {}).get("type") for r in server.completions[len(asked) :]]
    assert first_lead == asked
    assert later == [asked[-1]] * 2
    assert summary.extra["grounding"]["passed"] == 3
    for lead in leads:
        lead.refresh_from_db()
        assert lead.message_source == MessageSource.AI
        assert lead.message_evidence["claims"][0]["source"] == "company_description"
    answers = [r for r in server.completions if r.status == 200]
    assert len(answers) == 3
    refused = [r for r in caplog.records if r.getMessage().startswith("OpenAI server refused a response format")]
    assert len(refused) == len(asked) - 1
