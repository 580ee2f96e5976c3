"""The layout newcomers rely on: one package per stage, each with its `run()`, no stage
importing another (the task layer runs them in order), and no models in pipeline/.
`report/` is no stage: it reads what every stage wrote (and the engager's cap for today),
and no stage reads it."""

import ast
import importlib
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parent.parent / "pipeline"
NOT_STAGES = {"jobs", "management", "migrations", "report"}
STAGES = sorted(
    path.name
    for path in PIPELINE.iterdir()
    if path.is_dir() and (path / "__init__.py").exists() and path.name not in NOT_STAGES
)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_stage_packages_are_the_ones_the_architecture_names():
    assert set(STAGES) >= {"airtable", "scrape", "generate", "engage"}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_package_hands_on_its_run(stage):
    package = importlib.import_module(f"pipeline.{stage}")
    assert callable(package.run)


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_another_stage(stage):
    others = {f"pipeline.{other}" for other in STAGES if other != stage}
    for path in (PIPELINE / stage).rglob("*.py"):
        crossing = {name for name in _imported_modules(path) if any(name.startswith(other) for other in others)}
        assert not crossing, f"{path.relative_to(PIPELINE.parent)} imports {sorted(crossing)}"


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_reads_the_report(stage):
    for path in (PIPELINE / stage).rglob("*.py"):
        assert not any(name.startswith("pipeline.report") for name in _imported_modules(path)), path


def test_the_report_hands_on_its_run():
    assert callable(importlib.import_module("pipeline.report").run)


def test_shared_modules_import_no_stage():
    stages = tuple(f"pipeline.{stage}" for stage in STAGES)
    # apps.py is the app's wiring (it connects the inbox's webhook signals), not a module stages share.
    for path in set(PIPELINE.glob("*.py")) - {PIPELINE / "apps.py"}:
        crossing = {name for name in _imported_modules(path) if name.startswith(stages)}
        assert not crossing, f"{path.name} imports {sorted(crossing)}"


def test_pipeline_holds_no_models_and_no_imports_by_string():
    assert not (PIPELINE / "models.py").exists()
    for path in PIPELINE.rglob("*.py"):
        if "migrations" not in path.parts:
            text = path.read_text()  # importlib.resources (reading package data) is fine; modules by name are not
            assert "import_module" not in text, path
            assert "__import__" not in text, path
