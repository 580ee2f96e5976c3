"""`classify_email` answers "why is this a bounce?" for files, and changes nothing."""

import json

import pytest
from django.core.management import CommandError, call_command

from leads.models import InboundMessage
from tests.inbox import mail


def test_classify_email_says_the_kind_and_why_for_each_file(tmp_path, capsys):
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(mail.bounce(recipient="gone@acme.example", status="5.1.1"))
    reply = tmp_path / "reply.eml"
    reply.write_bytes(mail.load("reply-fr", message_id="<ours@example.com>"))
    call_command("classify_email", str(bounce), str(reply))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{bounce}: bounce_hard (delivery-status report: 5.1.1 (failed)) [gone@acme.example 5.1.1]"
    assert lines[1] == f"{reply}: reply (a person's answer)"


def test_an_unreadable_file_gets_one_line_and_the_others_are_still_classified(tmp_path, capsys):
    reply = tmp_path / "reply.eml"
    reply.write_bytes(mail.load("reply-en", message_id="<ours@example.com>"))
    with pytest.raises(CommandError, match="^1 of 2 files could not be read$"):
        call_command("classify_email", str(tmp_path / "missing.eml"), str(reply), "--json")
    captured = capsys.readouterr()
    assert [item["kind"] for item in json.loads(captured.out)] == ["reply"]
    assert captured.out.count("\n") == 1  # one JSON line
    assert captured.err.strip() == f"{tmp_path / 'missing.eml'}: cannot read (No such file or directory)"
    assert json.loads(captured.out)[0]["original_message_id"] == "<ours@example.com>"


@pytest.mark.django_db
def test_classify_email_changes_nothing(tmp_path):
    path = tmp_path / "unsubscribe.eml"
    path.write_bytes(mail.load("unsubscribe-mailto"))
    call_command("classify_email", str(path))
    assert not InboundMessage.objects.exists()
