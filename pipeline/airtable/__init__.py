"""Airtable: the client (pyairtable), the field map, pacing, failure wording, the table
check, and the sync stage, whose `run` this package hands on: `airtable.run(direction=…)`."""

from pipeline.airtable.failures import AirtableCause, AirtableError
from pipeline.airtable.sync import DIRECTIONS, run

__all__ = ["DIRECTIONS", "AirtableCause", "AirtableError", "run"]
