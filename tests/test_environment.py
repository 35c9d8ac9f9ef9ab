"""pyproject.toml and environment.yml pin the same packages at the same versions."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import ROOT


def _pyproject_pins() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(d.split("==") for d in deps)


def test_every_dependency_is_pinned_exactly():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    loose = [d for d in deps if not re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", d)]
    assert not loose, f"not pinned to one version: {loose}"
    assert _pyproject_pins()["torch"] == "2.13.0"


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = dict(p.split("==") for p in pip_section if "==" in p)
    assert conda_pins == _pyproject_pins()
    assert "python=3.11" in env["dependencies"]


def _lock() -> dict[str, tuple[str, int]]:
    """requirements.lock as {normalized name: (version, number of hashes)}."""
    text = (ROOT / "requirements.lock").read_text()
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\]+)", block)
        if match:
            pins[match[1].lower().replace("_", "-")] = (match[2], block.count("--hash=sha256:"))
    return pins


def test_the_lock_pins_the_whole_tree_with_hashes_and_agrees_with_pyproject():
    lock = _lock()
    assert len(lock) > 100  # the transitive dependencies too, not only the direct ones
    assert all(hashes >= 1 for _, hashes in lock.values())
    for name, version in _pyproject_pins().items():
        locked = lock[name.lower().replace("_", "-")][0]
        assert locked.split("+")[0] == version, f"{name}: pyproject {version}, lock {locked}"
    assert "setuptools" in lock  # needed by the editable install without build isolation
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    for pin in (p for p in pip_section if "==" in p):
        name, version = pin.split("==")
        assert lock[name.lower().replace("_", "-")][0].split("+")[0] == version, f"environment.yml {pin} vs the lock"


def test_make_env_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("$(STAMP): ") : makefile.index("synthetic: ")]
    assert "requirements.lock" in recipe.splitlines()[0]
    assert "--require-hashes --no-deps -r requirements.lock" in recipe
