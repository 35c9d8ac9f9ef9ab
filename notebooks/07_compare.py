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
# a method check on synthetic data, not a finding about Greenland. When a data set comes from real
# files (`data/raw`), the tables that need the synthetic truth (and the MEaSUREs table when no real
# record is present) do not exist for it, and the sections built from them say so and are skipped.

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
seed = 0  # seed of the synthetic default data
root = ".."  # project root
method = "paper"  # configuration whose detections were explained (notebooks 04-05): "paper", "best" or "original"

# %%
from pathlib import Path

import pandas as pd
from IPython.display import display

from clvlib.config import Paths
from clvlib.io.sources import recorded_kind
from clvlib.method.compare import plot_side_by_side, side_by_side, stack
from clvlib.method.model import method_label
from clvlib.method.preprocess import read_features
from clvlib.publish.outputs import set_style
from clvlib.publish.registry import Registry

set_style()
paths = Paths(Path(root).resolve())
tables = paths.tables
kinds = {d: recorded_kind(read_features(paths.processed(d) / "features.nc")) for d in ("era5", "gemb")}


def available(table_id: str) -> bool:
    """Whether both data sets have the table; a missing one is an error for the synthetic default only."""
    return all((tables / f"tab_{table_id}_{d}.csv").exists() or kinds[d] == "synthetic" for d in kinds)


registry = Registry(
    paths.root,
    "07_compare",
    None,
    {"profile": profile, "seed": seed, "method": method, "source_kinds": kinds},
    [
        tables / f"tab_{t}_{d}.csv"
        for t in ("drivers", "detection_measures", "trend", "extremes", "attribution_truth")
        for d in ("era5", "gemb")
        if kinds[d] == "synthetic" or (tables / f"tab_{t}_{d}.csv").exists()
    ],
)
print("sources: " + ", ".join(f"{d} {k}" for d, k in kinds.items()))

# %% [markdown]
# ## Driver rankings (the paper's occlusion, yearly-median baseline)

# %%
rankings = side_by_side(pd.read_csv(tables / "tab_drivers_era5.csv"), pd.read_csv(tables / "tab_drivers_gemb.csv"))
registry.table(
    rankings.round(6),
    "driver_comparison",
    "Driver rankings of the ERA5-like and GEMB-like data sets side by side (the paper's occlusion, yearly-median "
    "baseline).",
)
fig = plot_side_by_side(rankings)
registry.figure(
    fig,
    "driver_comparison",
    "Driver rankings of the ERA5-like and GEMB-like data sets side by side (the paper's occlusion, yearly-median "
    "baseline).",
)
rankings

# %% [markdown]
# ## Detection against the MEaSUREs-like melt record (1979-2012)

# %%
if available("detection_measures"):
    measures = stack(tables, "detection_measures", query=f"method == '{method_label(method)}' and threshold == 'pot'")
    measures = measures[
        [
            "dataset",
            "precision",
            "recall",
            "f1",
            "event_recall",
            "event_precision",
            "pr_auc",
            "n_reference_events",
            "n_detected_events",
        ]
    ]
    registry.table(
        measures,
        "measures_comparison",
        "Detection against the MEaSUREs-like melt record, 1979-2012: ERA5-like against GEMB-like.",
    )
    display(measures)
else:
    print("Skipped: a data set from real files has no melt-extent validation (no record in data/raw/measures).")

# %% [markdown]
# ## Trend and extreme events (training years)

# %%
trend = stack(tables, "trend")
registry.table(
    trend,
    "trend_comparison",
    "Trend of melt anomalies in the training years: ERA5-like against GEMB-like.",
    float_format="%.6g",
)
extremes = stack(tables, "extremes")
registry.table(extremes, "extremes_comparison", "Number and intensity of extreme events: ERA5-like against GEMB-like.")
display(trend)
extremes

# %% [markdown]
# ## Ground truth of the attributions

# %%
if available("attribution_truth"):
    truth = stack(tables, "attribution_truth", query="type == 'all'")
    registry.table(
        truth,
        "attribution_truth_comparison",
        "Ground truth of the attributions, all event types: ERA5-like against GEMB-like.",
    )
    display(truth)
else:
    print("Skipped: a data set from real files has no injected-event truth.")
