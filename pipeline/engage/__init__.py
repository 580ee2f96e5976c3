"""The engager: the rules (pure), claims, sending, unsubscribe links, and the engage stage,
whose `run` this package hands on: `engage.run(...)`."""

from pipeline.engage.sending import SendCause, SendError
from pipeline.engage.stage import run, run_due

__all__ = ["SendCause", "SendError", "run", "run_due"]
