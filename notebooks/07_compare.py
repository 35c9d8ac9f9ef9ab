# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · ERA5-like against GEMB-like
#
# The paper's comparisons of the two data sets, gathered from the tables of notebooks 04-06:
# the driver rankings side by side, agreement with the MEaSUREs-like melt record, the trend and the
# number and intensity of extreme events, and the ground-truth check of the attributions. Both data
# sets are driven by the same synthetic weather with the same injected events; they differ in the
# surface model (a melting surface without cold content against a firn column that stores cold and
# refreezes melt) and in the variables the detector sees. On the embedded default every statement is
# a method check on synthetic data, not a finding about Greenland.

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
seed = 0  # seed of the synthetic default data
root = ".."  # project root

# %%
from pathlib import Path

import pandas as pd
from IPython.display import display

from clvlib.compare import plot_side_by_side, side_by_side, stack
from clvlib.config import Paths
from clvlib.outputs import save_figure, save_table, set_style

set_style()
paths = Paths(Path(root).resolve())
tables = paths.tables

# %% [markdown]
# ## Driver rankings (the paper's occlusion, yearly-median baseline)

# %%
rankings = side_by_side(pd.read_csv(tables / "tab_drivers_era5.csv"), pd.read_csv(tables / "tab_drivers_gemb.csv"))
save_table(rankings.round(6), "driver_comparison", tables)
fig = plot_side_by_side(rankings)
save_figure(fig, "driver_comparison", paths.figures)
rankings

# %% [markdown]
# ## Detection against the MEaSUREs-like melt record (1979-2012)

# %%
measures = stack(tables, "detection_measures", query="method == 'CLV' and threshold == 'pot'")
measures = measures[["dataset", "precision", "recall", "f1", "event_recall", "event_precision", "pr_auc",
                     "n_reference_events", "n_detected_events"]]
save_table(measures, "measures_comparison", tables)
measures

# %% [markdown]
# ## Trend and extreme events (training years)

# %%
trend = stack(tables, "trend")
save_table(trend, "trend_comparison", tables, float_format="%.6g")
extremes = stack(tables, "extremes")
save_table(extremes, "extremes_comparison", tables)
display(trend)
extremes

# %% [markdown]
# ## Ground truth of the attributions

# %%
truth = stack(tables, "attribution_truth", query="type == 'all'")
save_table(truth, "attribution_truth_comparison", tables)
truth
