"""The one stage table: the notebooks, the Makefile, the integrity check and the jobs agree with it."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

from clvlib.config import CONFIGURATIONS
from clvlib.method.training import UNCLUSTERED
from clvlib.pipeline import integrity, run, seeds, stages


def _parameters(notebook: str) -> set[str]:
    """Names assigned in the tagged parameters cell of a percent-format notebook."""
    cell = re.search(r'# %% tags=\["parameters"\]\n(.*?)\n# %%', (ROOT / notebook).read_text(), re.S).group(1)
    return {t.id for node in ast.parse(cell).body if isinstance(node, ast.Assign) for t in node.targets}


def test_every_numbered_notebook_is_a_stage_and_every_stage_a_notebook():
    assert {s.notebook for s in stages.STAGES} == {
        f"notebooks/{p.name}" for p in ROOT.glob("notebooks/[0-9][0-9]_*.py")
    }


def test_the_stage_parameters_match_the_notebooks_parameters_cells():
    for s in stages.STAGES:
        names = _parameters(s.notebook)
        assert "method" in names or not s.takes_method, s.name  # (02's ``method`` is the clustering's)
        assert ("dataset" in names) == s.per_dataset, s.name
        assert names == {*s.parameters, "root"}, s.name  # what the manifest records: every parameter but root


def test_the_models_of_the_table_are_the_configurations_and_their_ablations():
    assert set(stages.MODELS) == set(CONFIGURATIONS) | set(UNCLUSTERED)


def test_stages_are_listed_once_the_makefile_and_the_jobs_read_the_table():
    makefile = (ROOT / "Makefile").read_text()
    assert not re.search(r"0[1-7]_(preprocess|cluster|train|detect|attribute|validate)\b", makefile)
    assert integrity.STAGE_OUTPUTS == stages.stage_outputs()
    assert run.STAGES == tuple(s.name for s in stages.STAGES if s.per_dataset)
    assert seeds.BASE_STAGES + seeds.METHOD_STAGES == run.STAGES


def test_each_stage_comes_after_the_stages_it_reads_from():
    seen: set[str] = set()
    for s in stages.STAGES:
        assert set(s.after) <= seen, s.name
        seen.add(s.name)
