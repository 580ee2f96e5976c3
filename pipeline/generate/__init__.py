"""The generator: the one OpenAI client (llm.py), the prompts and answer checks, and the
generate stage, whose `run` this package hands on: `generate.run(...)`."""

from pipeline.generate.llm import LLMCause, LLMError
from pipeline.generate.stage import run

__all__ = ["LLMCause", "LLMError", "run"]
