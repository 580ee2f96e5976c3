"""What happened: the figures of the last N days (sent, answers, outcomes, per touch, per
message source, per mailbox, per day) and where every lead stands, computed in a fixed
number of aggregate queries for `manage.py report` and the admin's dashboard alike.
It reads the database only and changes nothing; its `run` is `report.run(days=30)`."""

from pipeline.report.figures import Report, run

__all__ = ["Report", "run"]
