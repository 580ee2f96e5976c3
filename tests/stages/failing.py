"""A stage that raises at once: its service is down, or it has a bug."""

from pipeline.errors import ServiceError


def run(*, limit=None, dry_run=False, progress=None, error="service", **options):
    if error == "bug":
        return {}["a key the code forgot"]
    raise ServiceError("example.com refused the connection", cause="unreachable")
