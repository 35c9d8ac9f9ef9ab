"""The README fits a screen and says only what the Makefile and the files can do: its `make` commands
name real targets and options, and its links point at files that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]


def _make_commands(text: str) -> list[list[str]]:
    """Every `make ...` line of the bash blocks of a Markdown text, split into words (comments dropped)."""
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("make ")]


def test_readme_fits_a_screen_and_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    first = _make_commands(text)[:2]
    assert first == [["make", "paper"], ["make", "test"]]


def test_every_make_command_in_the_docs_names_a_target_and_options_the_makefile_has():
    makefile = (ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, flags=re.M).group(1).split())
    variables = set(re.findall(r"^([A-Z_]+)\s*\??=", makefile, flags=re.M)) | set(
        re.findall(r"\$\(([A-Z_]+)\)", makefile)
    )
    commands = [cmd for doc in DOCS for cmd in _make_commands(doc.read_text())]
    assert len(commands) >= 10
    for cmd in commands:
        targets = [w for w in cmd[1:] if "=" not in w and not w.startswith("-")]
        options = [w.split("=", 1)[0] for w in cmd[1:] if "=" in w]
        assert set(targets) <= phony, cmd
        assert set(options) <= variables, cmd


def test_relative_links_in_the_docs_point_at_files_that_exist():
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)}: link to missing {target}"


def test_make_help_groups_every_target_and_fits_100_columns():
    import subprocess

    out = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "help"], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and all(len(line) <= 100 for line in lines)
    groups = [line[:-1] for line in lines if line and not line.startswith(" ") and line.endswith(":")]
    assert groups == ["build", "your data", "checks", "development"]
    makefile = (ROOT / "Makefile").read_text()
    documented = set(re.findall(r"^([a-z]+):[^\n#]*## \{", makefile, flags=re.M))
    listed = {line.split()[0] for line in lines if line.startswith("  ") and not line.strip().startswith("options")}
    assert documented == listed and {"paper", "test", "run", "seeds"} <= listed
