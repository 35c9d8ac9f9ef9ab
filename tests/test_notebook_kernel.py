"""One kernel for a chain of notebooks (``make run``, the end-to-end tests): each starts from a clean namespace."""

from __future__ import annotations

import json

import pytest
from papermill.exceptions import PapermillExecutionError

from clvlib.pipeline.notebooks import NotebookKernel, run_notebook

FIRST = """# %%
import sys

import matplotlib.pyplot as plt

left_over = 41
plt.figure()
sys.modules["json"].marker_of_the_first_notebook = True
"""

SECOND = """# %%
import sys

import matplotlib.pyplot as plt

assert "left_over" not in globals(), "the namespace of the first notebook survived"
assert plt.get_fignums() == [], "a figure of the first notebook is still open"
assert sys.modules["json"].marker_of_the_first_notebook  # the imported modules stay loaded
"""

FAILING = """# %%
raise ValueError("a failing cell")
"""


def _notebook(folder, name: str, text: str):
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


def _first_count(executed) -> int:
    cells = json.loads(executed.read_text())["cells"]
    return next(c["execution_count"] for c in cells if c["cell_type"] == "code")


def test_notebooks_share_the_imports_but_not_the_namespace_and_a_failure_leaves_the_kernel_usable(tmp_path):
    first, second = _notebook(tmp_path, "first", FIRST), _notebook(tmp_path, "second", SECOND)
    failing = _notebook(tmp_path, "failing", FAILING)
    with NotebookKernel(tmp_path) as kernel:
        run_notebook(first, tmp_path / "out" / "first.ipynb", {}, progress=False, kernel=kernel)
        run_notebook(second, tmp_path / "out" / "second.ipynb", {}, progress=False, kernel=kernel)
        with pytest.raises(PapermillExecutionError, match="a failing cell"):
            run_notebook(failing, tmp_path / "out" / "failing.ipynb", {}, progress=False, kernel=kernel)
        assert not (tmp_path / "out" / "failing.ipynb").exists()
        run_notebook(second, tmp_path / "out" / "again.ipynb", {}, progress=False, kernel=kernel)
        manager = kernel.manager
    assert _first_count(tmp_path / "out" / "second.ipynb") == 1  # a new session: counted from 1 again
    assert _first_count(tmp_path / "out" / "again.ipynb") == 1
    assert not manager.has_kernel and kernel.manager is None  # shut down on leaving the block
    with pytest.raises(RuntimeError, match="not running"):
        kernel.reset()
