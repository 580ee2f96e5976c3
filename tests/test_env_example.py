"""Every variable the settings read is documented in .env.example with a comment."""

import re

from tests.processes import PROJECT_DIR

# Variables read by the settings but set by the platform, not by a person.
_NOT_DOCUMENTED = {"HTTPS_PROXY", "HTTP_PROXY"}


def _variables_read_by_settings() -> set[str]:
    source = (PROJECT_DIR / "outreach_site" / "settings.py").read_text()
    return (
        set(
            re.findall(
                r"""(?:env(?:\.\w+)?|_bool|_csv|_days|_day_counts|_window|_seconds_range|_rate|_number|_choice)\(\s*"([A-Z][A-Z0-9_]+)\"""",
                source,
            )
        )
        - _NOT_DOCUMENTED
    )


def test_every_setting_is_in_env_example_with_a_comment():
    lines = (PROJECT_DIR / ".env.example").read_text().splitlines()
    documented = {}
    for number, line in enumerate(lines):
        name = line.split("=", 1)[0]
        if re.fullmatch(r"[A-Z][A-Z0-9_]+", name) and "=" in line:
            documented[name] = number > 0 and lines[number - 1].startswith("#")
    read = _variables_read_by_settings()
    assert read, "the pattern found no variables in settings.py"
    assert sorted(read - documented.keys()) == []
    assert sorted(name for name in read if not documented[name]) == []


def test_readme_lists_every_variable_of_env_example():
    readme = (PROJECT_DIR / "README.md").read_text()
    names = re.findall(r"^([A-Z][A-Z0-9_]+)=", (PROJECT_DIR / ".env.example").read_text(), re.M)
    assert names
    assert [name for name in names if f"`{name}`" not in readme] == []
