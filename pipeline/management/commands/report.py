import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline import report
from pipeline.report import table


class Command(BaseCommand):
    help = (
        "What the last N days did: emails sent, replies, bounces, complaints, unsubscribes, per touch, message "
        "source, mailbox and day, and where every lead stands; changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, metavar="N", help="The last N days, today included.")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object on stdout and nothing else there."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            figures = report.run(days=options["days"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(figures.as_dict()))
        else:
            table.write(figures, self.stdout._out)
