from leads.models import Job
from pipeline import inbox
from pipeline.management.base import StageCommand


class Command(StageCommand):
    help = (
        "Read each inbox's new mail (never marking it read) and act on every reply, auto-reply, bounce, "
        "complaint and unsubscribe request once."
    )
    job = Job.CHECK_INBOX

    def run_stage(self, *, limit, dry_run, progress, **options):
        return inbox.run(limit=limit, dry_run=dry_run, progress=progress)

    @staticmethod
    def describe(summary) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.kinds.items())) or "none"
        return f"{StageCommand.describe(summary)}; kinds: {kinds}"
