"""End-to-end: the notebooks run under papermill in the quick profile, for both data sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from clvlib.notebooks import run_notebook
from conftest import ROOT


@pytest.mark.notebooks
@pytest.mark.parametrize("dataset", ["era5", "gemb"])
def test_01_preprocess_quick(project_root, dataset):
    out = project_root / "build" / f"01_preprocess_{dataset}.ipynb"
    params = {"dataset": dataset, "profile": "quick", "seed": 0, "root": str(project_root)}
    run_notebook(ROOT / "notebooks" / "01_preprocess.py", out, params, progress=False)
    assert out.exists()
    features = xr.load_dataset(project_root / "data" / "processed" / dataset / "features.nc")
    assert int(features["year"].min()) == 1991 and int(features["year"].max()) == 2021
    assert features.sizes["time"] == 31 * 73
    assert np.isfinite(features["za"].values).all()
    train = features["za"].where(features["is_train"], drop=True)
    np.testing.assert_allclose(train.mean("time"), 0.0, atol=1e-6)
    table = pd.read_csv(project_root / "paper" / "tables" / f"tab_variables_{dataset}.csv")
    assert list(table.columns) == ["variable", "long_name", "units", "mean", "std", "clipped_pct", "gap_steps"]
    assert len(table) == features.sizes["feature"]
    for ext in ("png", "pdf"):
        assert (project_root / "paper" / "figures" / f"fig_preprocess_overview_{dataset}.{ext}").stat().st_size > 10_000
    for ext in ("csv", "md", "tex"):
        assert (project_root / "paper" / "tables" / f"tab_variables_{dataset}.{ext}").exists()
