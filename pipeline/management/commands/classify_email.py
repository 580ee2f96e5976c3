import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.inbox.classify import Verdict, classify


class Command(BaseCommand):
    help = (
        "Say what each .eml file is (reply, auto_reply, bounce_hard, bounce_soft, complaint, unsubscribe, other) "
        "and why, read from the message alone; changes nothing. check_inbox also marks `other` what matches "
        "nothing we sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Raw messages (.eml), one per file.")
        parser.add_argument("--json", action="store_true", help="Print one JSON list on stdout and nothing else there.")

    def handle(self, *args: Any, **options: Any) -> None:
        verdicts = []
        unreadable = 0
        for name in options["files"]:
            try:
                raw = Path(name).read_bytes()
            except OSError as exc:
                self.stderr.write(f"{name}: cannot read ({exc.strerror or exc})")
                unreadable += 1
                continue
            verdicts.append((name, classify(raw)))
        if options["json"]:
            self.stdout.write(json.dumps([_as_json(name, verdict) for name, verdict in verdicts], ensure_ascii=False))
        else:
            for name, verdict in verdicts:
                self.stdout.write(_as_line(name, verdict))
        if unreadable:
            raise CommandError(f"{unreadable} of {len(options['files'])} files could not be read")


def _as_json(name: str, verdict: Verdict) -> dict:
    return {
        "file": name,
        "kind": str(verdict.kind),
        "recipients": [
            {"address": item.address, "status": item.status, "action": item.action} for item in verdict.recipients
        ],
        "original_message_id": verdict.original_message_id,
        "detail": verdict.detail,
    }


def _as_line(name: str, verdict: Verdict) -> str:
    recipients = ", ".join(f"{item.address or '?'} {item.status}".strip() for item in verdict.recipients)
    about = f" [{recipients}]" if recipients else ""
    return f"{name}: {verdict.kind} ({verdict.detail}){about}"
