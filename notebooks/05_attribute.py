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
# # 05 · Counterfactual attribution of the detected anomalies
#
# For every anomalous 5-day step and every feature, the feature is replaced by a baseline over
# all windows that cover the step, the step is rescored by the trained Cluster-LSTM-VAE, and the
# drop of the score is recorded: `delta = score(original) - score(counterfactual)`. The features
# are ranked per step, per event (mean delta over its steps) and per data set (mean delta over all
# anomalous steps, with a bootstrap 95 % interval). This is occlusion (feature ablation) with a
# baseline. The paper's baseline is the **yearly median** of the feature (its median over the
# calendar year, in the training-normalized units); `zero` (the normalized mean) and the
# training-period `climatology` of each step of the year are the alternatives used to check how
# much the ranking depends on that choice.
#
# All (step, feature) pairs go through the model as batched tensors (`clvlib.attribution.attribute`);
# the plain loop (`attribute_looped`) is the reference that the tests compare it with.
#
# On the embedded default the injected events' drivers are known, so the attribution itself is
# checked: is the top-ranked feature one of the event's drivers, and is a driver in the top 3?
# This is a method check on synthetic data, not a finding about Greenland. A user's data set
# (`make run`) has no such truth and that section is skipped.

# %% tags=["parameters"]
dataset = "era5"  # "era5" or "gemb"
profile = "full"  # "quick" or "full"
seed = 0  # seed of the data and of the bootstrap
root = ".."  # project root
baseline = "median"  # "median" (the paper), "zero" or "climatology"
n_permutations = 6  # random orders per step for the Shapley variant
method = "best"  # configuration whose detections are explained: "paper", "best" or "original" (as in notebook 04)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from clvlib.attribution import (
    BASELINES,
    attribute,
    attribute_shapley,
    baseline_stability,
    baseline_values,
    counterfactual_scores,
    driver_accuracy,
    driver_check,
    event_ranking,
    overall_ranking,
    ranking_agreement,
    tidy,
)
from clvlib.attribution_plots import (
    plot_drivers,
    plot_event_example,
    plot_event_heatmap,
)
from clvlib.config import Paths
from clvlib.model import ClusterLSTMVAE
from clvlib.outputs import set_style
from clvlib.preprocess import read_features
from clvlib.rawdata import load_truth
from clvlib.registry import Registry
from clvlib.scores import read_scores
from clvlib.sources import recorded_kind

set_style()
paths = Paths(Path(root).resolve())
features = read_features(paths.processed(dataset) / "features.nc")
synthetic = recorded_kind(features) == "synthetic"  # the injected-event truth exists
registry = Registry(paths.root, "05_attribute", dataset, {"dataset": dataset, "profile": profile, "seed": seed,
                    "baseline": baseline, "n_permutations": n_permutations, "method": method},
                    [paths.processed(dataset) / f for f in ("features.nc", "scores.nc", "events.csv")]
                    + [paths.models(dataset) / method / "clv.pt"] + ([paths.synthetic(seed) / "truth.csv"] if synthetic else []))
names = tuple(features["feature"].values.tolist())
time = pd.DatetimeIndex(features["time"].values)
za = features["za"].values
is_train = features["is_train"].values
test_year = int(features["year"].values[~is_train].min())
scores, events = read_scores(paths.processed(dataset))
model = ClusterLSTMVAE.load(paths.models(dataset) / method)
steps = np.flatnonzero(scores["anomaly"].values.astype(bool))
event_of_step = scores["event_id"].values[steps]
print(f"{dataset}: {len(steps)} anomalous steps in {len(events)} events, {len(names)} features "
      f"-> {len(steps) * len(names)} counterfactuals per baseline")

# %% [markdown]
# ## Deltas under every baseline

# %%
bases = {kind: baseline_values(za, time, kind, features["step"].values, is_train) for kind in BASELINES}
deltas = {kind: attribute(model, za, steps, base) for kind, base in bases.items()}
tables = {kind: tidy(d, time[steps], event_of_step, names) for kind, d in deltas.items()}
table = tables[baseline]
registry.table(table.assign(delta=table["delta"].round(8)), f"attribution_{dataset}",
    f"Counterfactual attribution of every anomalous step ({dataset}): delta = score(original) - score(feature at its yearly median), rank per step.", formats=("csv",))
table.head(10)

# %% [markdown]
# ## Ranked drivers

# %%
overall = overall_ranking(table, random_state=seed)
registry.table(overall.round(6), f"drivers_{dataset}",
    f"Drivers of the detected anomalies ({dataset}): mean counterfactual delta per feature with a bootstrap 95 % interval, share of steps ranked first.")
fig = plot_drivers(overall, f"Drivers of the detected anomalies, {dataset} ({baseline} baseline)")
registry.figure(fig, f"drivers_{dataset}",
    f"Drivers of the detected anomalies ({dataset}): mean counterfactual delta per feature with a bootstrap 95 % interval, share of steps ranked first.")
overall

# %%
ranking = event_ranking(table)
registry.table(ranking.assign(delta=ranking["delta"].round(8)), f"event_drivers_{dataset}",
    f"Mean counterfactual delta per detected event and feature, ranked within each event ({dataset}).", formats=("csv",))
fig = plot_event_heatmap(ranking)
registry.figure(fig, f"event_heatmap_{dataset}",
    f"Attribution per detected event ({dataset}): each event's deltas divided by its largest.")

# %% [markdown]
# ## An example event
# The detected event with the highest peak score: its score, and the score when each of its top
# three drivers is replaced by its baseline over the event and the windows around it.

# %%
example = events.loc[events["peak_score"].idxmax()]
top3 = ranking[ranking["event_id"] == example["event_id"]].nsmallest(3, "rank")["feature"].tolist()
first, last = time.get_loc(example["start"]), time.get_loc(example["end"])
w = model.config.window
lo, hi = max(0, first - w + 1), min(len(time), last + w)
view = slice(max(0, first - 8), min(len(time), last + 9))
cf = {f: counterfactual_scores(model, za, lo, hi, names.index(f), bases[baseline])[view] for f in top3}
fig = plot_event_example(time[view], scores["score"].values[view], cf, scores["threshold"].values[view],
                         example["start"], example["end"])
registry.figure(fig, f"event_example_{dataset}",
    f"Score of the strongest detected event and the scores with each of its top three drivers replaced by its yearly median ({dataset}).")
display(Markdown(f"Event {example['event_id']} ({example['start']:%Y-%m-%d} to {example['end']:%Y-%m-%d}); "
                 f"top drivers: {', '.join(top3)}."))

# %% [markdown]
# ## Sensitivity to the baseline
# Per event, the Jaccard index of the top-3 features and Kendall's tau of the full ranking between
# the median baseline and each alternative; overall, the agreement of the data-set rankings.

# %%
stability, per_event = baseline_stability(tables, baseline, k=3, random_state=seed)
stability = stability.round(4)
registry.table(stability, f"baseline_stability_{dataset}",
    f"Stability of the attributions between the yearly-median baseline and the zero and climatology baselines ({dataset}): top-3 Jaccard, Kendall tau, same top-1.")
registry.table(per_event.round(4), f"baseline_stability_events_{dataset}",
    f"Per-event stability of the attributions between baselines ({dataset}).",
           formats=("csv",))
stability

# %% [markdown]
# ## The held-out year against the training years
# Rankings of the anomalies of 2021 (scored by a model that never saw that year) and of those of
# the training years, compared.

# %%
is_test = table["time"].dt.year == test_year
if is_test.any():
    train_rank = overall_ranking(table[~is_test], n_boot=200, random_state=seed)
    test_rank = overall_ranking(table[is_test], n_boot=200, random_state=seed)
    agree = ranking_agreement(train_rank.set_index("feature")["rank"], test_rank.set_index("feature")["rank"])
    consistency = pd.DataFrame([{"test_year": test_year, "n_test_steps": int(is_test.sum() / len(names)),
                                 "n_train_steps": int((~is_test).sum() / len(names)), **agree,
                                 "train_top3": ";".join(train_rank["feature"][:3]),
                                 "test_top3": ";".join(test_rank["feature"][:3])}]).round(4)
else:
    consistency = pd.DataFrame([{"test_year": test_year, "n_test_steps": 0, "n_train_steps": int(len(table) / len(names)),
                                 "kendall_tau": np.nan, "top3_overlap": np.nan, "top5_overlap": np.nan,
                                 "train_top3": "", "test_top3": ""}])
    print(f"No anomalous step in {test_year}: the consistency check cannot be made.")
registry.table(consistency, f"test_year_consistency_{dataset}",
    f"Attributions of the held-out year against those of the training years ({dataset}).")
consistency

# %% [markdown]
# ## A variant that shares the effect of correlated drivers: Shapley values
# Replacing one feature of a group that is anomalous together (for example temperature, dew point
# and downward longwave in warm air) leaves an input the model finds even stranger, so
# single-feature occlusion can give such drivers a *negative* delta. Shapley values of the same
# score drop, estimated from random replacement orders, share the joint effect among them. They are
# reported next to the paper's method, not instead of it.

# %%
shapley = tidy(attribute_shapley(model, za, steps, bases[baseline], n_permutations, random_state=seed),
               time[steps], event_of_step, names)
overall_shapley = overall_ranking(shapley, random_state=seed)
registry.table(overall_shapley.round(6), f"drivers_shapley_{dataset}",
    f"Drivers of the detected anomalies by permutation-sampled Shapley values of the score drop ({dataset}), the variant next to the paper's occlusion.")
pd.DataFrame({"occlusion (paper)": overall["feature"].to_numpy(), "Shapley": overall_shapley["feature"].to_numpy()},
             index=pd.RangeIndex(1, len(names) + 1, name="rank")).head(8)

# %% [markdown]
# ## Ground truth: do the attributions name the injected drivers?
# For each detected event that overlaps an injected event: is the top-ranked feature one of the
# injected event's drivers (`truth.csv`, renamed to this data set's variables: `fal` is `albedo`
# and `sshf` is `shf` in GEMB), and is one of its drivers among the top 3?

# %%
if not synthetic:
    print("Skipped: this data set has no injected events with known drivers.")
else:
    truth = load_truth(paths.synthetic(seed))
    variants = {f"occlusion, {baseline} (paper)": ranking,
                **{f"occlusion, {k}": event_ranking(t) for k, t in tables.items() if k != baseline},
                f"Shapley, {baseline}": event_ranking(shapley)}
    checks = {name: driver_check(r, events, truth, dataset=dataset) for name, r in variants.items()}
    accuracy = pd.concat([driver_accuracy(c).assign(method=name) for name, c in checks.items()], ignore_index=True)
    accuracy = accuracy[["method", "type", "n_events", "top1_accuracy", "top3_accuracy"]].round(4)
    registry.table(accuracy, f"attribution_truth_{dataset}",
        f"Ground truth of the attributions ({dataset}): share of detected injected events whose top-1 feature is a true driver, and with a true driver in the top 3, per event type and method.")
    check = checks[f"occlusion, {baseline} (paper)"]
    registry.table(check, f"attribution_truth_events_{dataset}",
        f"Per detected injected event: true drivers, top-1 and top-3 attributed features ({dataset}).", formats=("csv",))
    display(accuracy[accuracy["type"] == "all"])

# %%
if synthetic:
    display(accuracy.pivot(index="type", columns="method", values="top1_accuracy"))

# %%
if synthetic:
    misses = check[~check["top1_is_driver"]]
    display(Markdown(f"Paper's method: {len(misses)} of {len(check)} events have a top-1 feature that is not a listed "
                     "driver. Per event type, the features named first instead:"))
    display(misses.groupby("type")["top1"].value_counts().rename("events").to_frame())
