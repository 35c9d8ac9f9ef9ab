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

from clvlib.method import model
from clvlib.pipeline import stage_inputs, stages
from clvlib.publish import compare

tables = Path(root).resolve() / "paper" / "tables"
kinds = {d: stage_inputs.load_features(root, d).source_kind for d in stages.DATASETS}
registry = stage_inputs.open_stage(
    "07_compare",
    globals(),
    [
        tables / f"tab_{t}_{d}.csv"
        for t in ("drivers", "detection_measures", "trend", "extremes", "attribution_truth")
        for d in stages.DATASETS
        if kinds[d] == "synthetic" or (tables / f"tab_{t}_{d}.csv").exists()
    ],
    source_kinds=kinds,
)
print("sources: " + ", ".join(f"{d} {k}" for d, k in kinds.items()))

# %% [markdown]
# ## Driver rankings (notebook 05's occlusion, with the baseline it was run with)

# %%
rankings_caption = (
    f"Driver rankings of {model.method_label(method)}'s detections in the ERA5-like and GEMB-like data sets side by "
    "side (notebook 05's occlusion with its baseline)."
)
rankings = compare.side_by_side(
    pd.read_csv(tables / "tab_drivers_era5.csv"), pd.read_csv(tables / "tab_drivers_gemb.csv")
)
registry.table(rankings.round(6), "driver_comparison", rankings_caption)
fig = compare.plot_side_by_side(rankings)
registry.figure(
    fig,
    "driver_comparison",
    rankings_caption + " What to see: variables ranked high in both data sets are drivers the two sources agree on.",
)
rankings

# %% [markdown]
# ## Detection against the MEaSUREs-like melt record (1979-2012)

# %%
columns = ["dataset", "precision", "recall", "f1", "event_recall", "event_precision", "pr_auc"]
columns += ["n_reference_events", "n_detected_events"]
query = f"method == '{model.method_label(method)}' and threshold == 'pot'"
measures = compare.stack_validation(tables, "detection_measures", kinds, query=query, columns=columns)
registry.table(
    measures,
    "measures_comparison",
    f"Detection of {model.method_label(method)} against the MEaSUREs-like melt record, 1979-2012: ERA5-like against "
    "GEMB-like.",
)
measures

# %% [markdown]
# ## Trend and extreme events (training years)

# %%
trend = compare.stack(tables, "trend")
registry.table(
    trend,
    "trend_comparison",
    "Trend of melt anomalies in the training years: ERA5-like against GEMB-like.",
    float_format="%.6g",
)
extremes = compare.stack(tables, "extremes")
registry.table(extremes, "extremes_comparison", "Number and intensity of extreme events: ERA5-like against GEMB-like.")
display(trend)
extremes

# %% [markdown]
# ## Ground truth of the attributions

# %%
truth = compare.stack_validation(tables, "attribution_truth", kinds, query="type == 'all'")
registry.table(
    truth,
    "attribution_truth_comparison",
    f"Ground truth of the attributions of {model.method_label(method)}'s detections, all event types: ERA5-like "
    "against GEMB-like.",
)
truth
