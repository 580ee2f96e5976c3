"""Real mail: the sisimai set of 629 bounce and complaint reports from many servers, plus
mail that is no bounce (../shared/corpora, BSD 2-Clause, azumakuniyuki). Every file
classifies without error; each bounce names its recipient and a status."""

import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from pipeline.inbox.classify import classify
from tests.conftest import IN_CI
from tests.processes import PROJECT_DIR

CORPUS = PROJECT_DIR.parent / "shared" / "corpora" / "sisimai-set-of-emails" / "maildir"
# Files of the bounce set that report no failed delivery, with what they are instead.
NOT_BOUNCES = {
    "lhost-amazonses-11.eml": "complaint",  # an Amazon SES complaint notification
    "lhost-amazonses-12.eml": "other",  # an Amazon SES delivery notification
    "lhost-amazonses-13.eml": "other",  # an Amazon SES delivery notification
    "rfc3464-28.eml": "other",  # a delivery-status report of a successful delivery (2.1.5)
    "lhost-fml-02.eml": "reply",  # a mailing list telling a non-member how to join, no delivery report
    "lhost-fml-03.eml": "reply",  # the same
}


def _files(folder: str) -> list[Path]:
    if not CORPUS.is_dir():
        reason = f"the sisimai corpus is not at {CORPUS}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return sorted((CORPUS / folder).glob("*.eml"))


@pytest.fixture(scope="module")
def verdicts():
    return {path.parent.name + "/" + path.name: classify(path.read_bytes()) for path in _files("bsd") + _files("err")}


def test_the_corpus_is_all_there(verdicts):
    assert len([name for name in verdicts if name.startswith("bsd/")]) == 629


def test_every_bounce_names_its_recipient_and_status(verdicts):
    bounces = {
        name: verdict
        for name, verdict in verdicts.items()
        if not Path(name).name.startswith(("arf-", "rfc3834-")) and Path(name).name not in NOT_BOUNCES
    }
    wrong = {
        name: (verdict.kind, [(r.address, r.status) for r in verdict.recipients])
        for name, verdict in bounces.items()
        if verdict.kind not in ("bounce_hard", "bounce_soft")
        or not verdict.recipients
        or not all(r.status[:1] in "45" and r.status.count(".") == 2 for r in verdict.recipients)
        or not any("@" in r.address for r in verdict.recipients)
    }
    assert wrong == {}
    kinds = Counter(verdict.kind for verdict in bounces.values())
    assert kinds["bounce_hard"] > 400
    assert kinds["bounce_soft"] > 50


def test_the_named_non_bounces_are_what_they_are(verdicts):
    assert {name: str(verdicts[f"bsd/{name}"].kind) for name in NOT_BOUNCES} == NOT_BOUNCES


def test_feedback_reports_are_complaints_unless_they_say_otherwise(verdicts):
    reports = {name: verdict for name, verdict in verdicts.items() if Path(name).name.startswith("arf-")}
    kinds = Counter(str(verdict.kind) for verdict in reports.values())
    assert kinds == {"complaint": 12, "other": 3, "unsubscribe": 2}
    others = [verdict.detail for verdict in reports.values() if verdict.kind == "other"]
    assert all("auth-failure" in detail for detail in others)  # DMARC reports about our domain


def test_auto_replies_are_auto_replies(verdicts):
    replies = {name: verdict.kind for name, verdict in verdicts.items() if Path(name).name.startswith("rfc3834-")}
    assert set(replies.values()) == {"auto_reply"}
    assert len(replies) == 6


def test_mail_that_is_no_bounce_is_not_called_one():
    kinds = {path.name: classify(path.read_bytes()).kind for path in _files("not")}
    assert kinds["is-not-bounce-01.eml"] == "reply"
    assert kinds["is-not-bounce-02.eml"] == "reply"


def test_classify_email_prints_the_contract_keys_for_each_file(capsys):
    files = [str(path) for path in _files("bsd") if path.name in ("lhost-postfix-01.eml", "arf-01.eml")]
    call_command("classify_email", *files, "--json")
    out = json.loads(capsys.readouterr().out)
    assert [item["file"] for item in out] == files
    assert all({"file", "kind", "recipients", "original_message_id"} <= item.keys() for item in out)
    bounce = next(item for item in out if item["file"].endswith("postfix-01.eml"))
    assert bounce["kind"] in ("bounce_hard", "bounce_soft")
    assert {"address", "status", "action"} == set(bounce["recipients"][0])
