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
# # 04 · Detection: anomaly scores, dynamic threshold, events, validation and trend
#
# The anomaly score of a 5-day step is the Cluster-LSTM-VAE's reconstruction error (mean
# squared error over features, averaged over all 15-step windows that cover the step,
# `clvlib.method.model.anomaly_score`). The `best` configuration (chosen on tuning seeds, notebook 03)
# may score the same residuals differently: `standardized` divides each feature's squared error by its
# training mean; `gaussian` scores each window's residual vector at the step by its squared Mahalanobis
# distance under the covariance of the training residuals (its Gaussian negative log-likelihood up to
# constants), so an error that breaks the usual joint pattern of the variables counts more than one
# along it. The models were trained on the training years (notebook 03); the held-out year 2021 is
# scored with them.
#
# **Threshold.** Melt anomalies are looked for in the melt season (steps starting May to
# September). A peaks-over-threshold rule (`scipy.stats.genpareto`) flags a step whose tail
# probability is below `alpha`. It is *calibrated once* on the melt-season scores of the training
# years (SPOT's initial calibration: one fit, one threshold for all of them), then updated causally
# through the held-out period, once per `block` of steps (one melt season), on the trailing
# `window` scores before the block (`clvlib.method.threshold`; settings in the table below). Every
# melt-season step gets a decision. The purely trailing window (the previous default: the first
# `min_history` melt-season steps, three seasons, get none), the original code's centred window
# (it reads the future) and a mean + k·sigma rule are shown for comparison
# (`clvlib.method.detection`).
#
# **Validation.** Against the injected events of the embedded default (their dates are known),
# and against melt-extent anomalies derived from the MEaSUREs-like melt record (1979-2012) as
# one would from the real product. Metrics: point-wise precision, recall and F1 over melt-season
# steps (plain, not point-adjusted), event-wise recall and precision, and PR-AUC of the raw score.
#
# **Three configurations side by side** (notebook 03): `CLV (original)` (the author's settings),
# `CLV (paper)` (the paper's method, defects fixed) and `CLV (best)` (chosen on tuning seeds that
# are never reported). The parameter `method` picks the one whose detected events, scores and
# attribution the rest of the pipeline reports; every table shows all three.
#
# **Baselines**, scored with the same threshold and metrics: the unclustered LSTM-VAE of each
# configuration (notebook 03; one cluster with every feature, the same total latent size), the
# textbook statistics that know the structure of the data (the Mahalanobis distance under the
# Ledoit-Wolf covariance of the training steps, and the PCA reconstruction residual standardized per
# feature, its number of components chosen on the tuning seeds by `bench/baselines.py`), an
# Isolation Forest on the features, the largest per-feature |z|, and the trivial mean z² (what a
# model that always predicts the climatology would score). Every score reads the features `za`,
# the model input: standardized seasonal anomalies, each variable minus its training-period
# climatology of that step of the year, divided by the standard deviation of those anomalies
# (notebook 01).
#
# On the embedded default every statement here is a method check on synthetic data, not a
# finding about Greenland. On real data (files under `data/raw`) and a user's data set
# (`make run`) there is no injected-event truth: those validation cells say "not available on this
# data" and save nothing; real data are validated against the real MEaSUREs record when
# `data/raw/measures/` holds one; scores, threshold, events, trend and extremes are computed the
# same way.

# %% tags=["parameters"]
dataset = "era5"  # "era5" or "gemb"
profile = "full"  # "quick" or "full"
seed = 0  # seed of the data and of the Isolation Forest
root = ".."  # project root
alpha = 0.1  # tail probability of the peaks-over-threshold rule
method = "paper"  # configuration whose detections feed notebooks 05-07: "paper", "best" or "original"

# %%
from dataclasses import replace

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from clvlib import availability
from clvlib.method import baselines, detection, model, trend, validation
from clvlib.method import scores as score_files
from clvlib.pipeline import stage_inputs, stages
from clvlib.publish import detector_plots

features = stage_inputs.load_features(root, dataset)
reference = stage_inputs.load_reference(root, features, seed)
# the threshold is calibrated on the training years' scores (the held-out year is thresholded causally after them)
config = detection.DetectConfig(calibration_end=f"{features.time[features.is_train][-1]:%Y-%m-%d}")
config = replace(config, pot=replace(config.pot, alpha=alpha))
model_files = [stages.path(f"data/models/{{ds}}/{m}/clv.pt", root, dataset) for m in stages.MODELS]
registry = stage_inputs.open_stage(
    "04_detect",
    globals(),
    [stages.path(stages.FEATURES, root, dataset), *model_files, *reference.files],
    source_kind=features.source_kind,
    measures=reference.melt_record.layout if reference.melt_record else "",
)
history = features.time[features.is_train]
display(
    Markdown(
        f"**{features.source}**. {reference.describe()} The climatology of the features and the threshold's "
        f"calibration come from the training years {history.year.min()}-{history.year.max()} "
        f"({int(np.isin(history.month, config.months).sum())} melt-season steps); {features.test_year} is held out."
    )
)
pd.Series(config.as_dict(), name="detection settings").to_frame()

# %% [markdown]
# ## Scores

# %%
models = {name: model.ClusterLSTMVAE.load(f.parent) for name, f in zip(stages.MODELS, model_files, strict=True)}
za, is_train, time = features.za, features.is_train, features.time
detector = model.method_label(method)
scores = {
    **{model.method_label(name): models[name].decision_function(za) for name in model.CONFIGURATIONS},
    **{
        f"unclustered VAE ({name})": models[f"unclustered-{name}"].decision_function(za)
        for name in model.CONFIGURATIONS
    },
    **baselines.baseline_scores(za, is_train, random_state=seed),
}
flagged = detection.detect(scores[detector], time, config)
events = detection.match_events(detection.detected_events(flagged, config), reference.truth_or_reason)
print(
    f"{detector}: {int(flagged['anomaly'].sum())} anomalous melt-season steps in {len(events)} events, "
    f"{int(events['extreme'].sum())} of them extreme"
)

# %%
scope = np.isin(time.month, config.months)
fig = detector_plots.plot_timeline(
    time,
    *(flagged[c].to_numpy() for c in ("score", "threshold", "anomaly")),
    scope,
    events,
    reference.truth,
    features.test_year,
)
registry.figure(
    fig,
    f"timeline_{dataset}",
    f"The whole record {time.year.min()}-{time.year.max()} ({dataset}): {detector} score of every melt-season step, "
    f"its threshold (alpha {alpha}), the {int(flagged['anomaly'].sum())} anomalous steps and the {len(events)} "
    "detected events"
    + (" above the injected events" if reference.truth is not None else "")
    + f"; {int((scope & flagged['threshold'].isna().to_numpy()).sum())} melt-season steps without a decision (grey);"
    f" {features.test_year} (held out) in green. What to see: "
    + (
        "detected events over injected ones are hits, injected events with nothing above them are misses"
        if reference.truth is not None
        else "when the anomalies cluster in time, and whether the held-out year stands out"
    )
    + "; grey steps count neither as calm nor as anomalous.",
)

# %%
last_train = int(time[is_train].year.max())
years = tuple(sorted({last_train - 1, last_train, features.test_year}))
fig = detector_plots.plot_scores(
    time, *(flagged[c].to_numpy() for c in ("score", "threshold", "anomaly")), reference.truth, years
)
registry.figure(
    fig,
    f"scores_{dataset}",
    f"{detector} anomaly score, peaks-over-threshold threshold (alpha {alpha}, calibrated on the training years) "
    "and flagged steps in the "
    f"melt seasons of {', '.join(map(str, years))} ({dataset}; {features.test_year} held out)"
    + ("; injected events shaded." if reference.truth is not None else ".")
    + " What to see: a step is flagged where its score crosses the threshold line.",
)

# %%
event_table = events.assign(intensity=events["intensity"].round(4), peak_score=events["peak_score"].round(6))
registry.table(
    event_table,
    f"events_{dataset}",
    f"Detected events of {detector} ({dataset}, alpha {alpha}): start, end, peak, intensity (peak over threshold), "
    "extreme flag"
    + (" and the injected events they overlap." if reference.truth is not None else ".")
    + " The report shows the strongest first.",
    show=("-peak_score",),
)
event_table.tail(10)

# %% [markdown]
# ## Validation against the injected events
# Every detector is evaluated on the same melt-season steps under the pipeline's threshold (all of
# them decided); the CLV's rows under the comparison rules are on the steps where those rules have
# enough history (`n_steps`). One function of `clvlib.method.validation` per table.

# %%
truth, n_days = reference.truth_or_reason, features.n_days
detection_truth = validation.detection_truth(scores, time, n_days, truth, config, detector)
registry.table(
    detection_truth,
    f"detection_truth_{dataset}",
    f"Detection against the injected events ({dataset}, melt season, alpha {alpha}): point-wise precision, recall "
    "and F1 (not point-adjusted), event recall and precision, PR-AUC of the three CLV configurations, the baselines "
    "and other threshold rules on the same steps. What to see: whether a CLV row beats the best textbook statistic "
    "(Mahalanobis, PCA residual) on PR-AUC; a CLV that does not has not used its network.",
)
display(detection_truth, Markdown(str(validation.detection_summary(detection_truth, detector))))

# %% [markdown]
# Event recall per type of injected event (the events after the threshold has its first history):

# %%
recall_by_type = validation.recall_per_type(truth, events, flagged)
registry.table(
    recall_by_type,
    f"recall_by_type_{dataset}",
    f"Event recall of {detector} per injected event type ({dataset}, alpha {alpha}).",
)
recall_by_type

# %% [markdown]
# Every detector per kind of event: on the `synoptic` world the kinds differ, and a coupling break is
# invisible to the size of each variable.

# %%
by_kind = validation.detection_per_kind(scores, time, n_days, truth, config)
registry.table(
    by_kind,
    f"detection_by_kind_{dataset}",
    f"Every detector per kind of injected event ({dataset}, melt season, alpha {alpha}): amplitude events (large "
    "drivers), coupling breaks (moderate drivers against their usual partners) and context events (normal values "
    "after an opposite state); a kind's PR-AUC leaves the other kinds' steps out. What to see: a detector that "
    "scores each variable's size (mean z^2) finds amplitude events only; coupling breaks need the covariance.",
)
by_kind

# %% [markdown]
# The four threshold rules on common steps: how many steps each leaves undecided and how often it
# flags steps outside the injected events (nominal: `alpha`).

# %%
rules = validation.rules_compared(scores[detector], time, n_days, truth, config)
registry.table(
    rules,
    f"threshold_rules_{dataset}",
    f"{detector} under every threshold rule ({dataset}, alpha {alpha}): melt-season steps without a decision, share "
    "of steps outside the injected events that are flagged (nominal alpha), and the metrics on the steps where every "
    "rule decides. What to see: how far each rule's flag share outside the events is from alpha, and which rules "
    "leave steps without a decision.",
)
rules

# %%
sensitivity = validation.alpha_sensitivity(scores[detector], time, n_days, truth, config)
registry.table(
    sensitivity,
    f"alpha_sensitivity_{dataset}",
    f"Effect of the tail probability alpha of the threshold on the detection of {detector} ({dataset}).",
)
sensitivity

# %% [markdown]
# The melt-season scope: the same score thresholded over the whole year, every month in scope,
# evaluated on all steps.

# %%
scope = validation.scope_effect(scores[detector], time, n_days, truth, config)
registry.table(
    scope,
    f"scope_effect_{dataset}",
    f"{detector} detection thresholded over the melt season against the whole year ({dataset}, alpha {alpha}).",
)
scope

# %%
scoped = detection.scoped_labels(flagged, time, features.n_days, reference.truth_or_reason, config)
registry.figure(
    detector_plots.plot_pr_curves(scoped, scores),
    f"precision_recall_{dataset}",
    f"Precision-recall curves of the raw scores against the injected events ({dataset}, melt season). What to see: "
    "a curve above another is the better detector at every threshold; its area is the PR-AUC of the detection table.",
)

# %% [markdown]
# ## The held-out year
# Never seen by the models; its melt-season steps are scored and thresholded like any other.

# %%
held_out = validation.held_out_detection(scores, time, n_days, truth, config, features.test_year)
registry.table(
    held_out,
    f"detection_test_year_{dataset}",
    f"Detection in the held-out year {features.test_year}, scored by models trained on the training years "
    f"({dataset}, alpha {alpha}).",
)
held_out

# %% [markdown]
# ## Validation against the MEaSUREs melt record
# Melt-extent anomalies: days whose melt extent exceeds the day-of-year climatology of the record
# by more than one day-of-year standard deviation (both smoothed over 31 days), in the melt season,
# joined into runs of at least 3 days; interpolated (SMMR) days are not evidence
# (`clvlib.method.evaluation.measures_anomalies`). The record is the MEaSUREs-like one of the synthetic
# default (1979-2012), or for real data the real MEaSUREs record in `data/raw/measures/`
# (NSIDC-0533 files over the study region, or a melt-area CSV) when present; the comparison covers
# the years the record and the features share.

# %%
measures = reference.measures()
vs_measures = detection.measures_table(scores, time, features.n_days, measures, config)
period = (
    ""
    if isinstance(measures, availability.NotAvailable)
    else (f", {measures['date'].dt.year.min()}-{measures['date'].dt.year.max()}")
)
registry.table(
    vs_measures,
    f"detection_measures_{dataset}",
    f"Detection against melt-extent anomalies of {reference.measures_name}{period} ({dataset}, alpha {alpha}).",
)
vs_measures
# %% [markdown]
# ## Trend in melt anomalies
# Anomalous steps and detected events per year over the training years, Mann-Kendall test
# (tie-corrected) and Theil-Sen slope. A year in which no step had a threshold would be left out
# (`n_years`), never counted as a year without anomalies; with the calibrated threshold every year
# has decisions.

# %%
train_years = range(int(time[is_train].year.min()), int(time[is_train].year.max()) + 1)
decided = trend.decided_years(flagged["threshold"].to_numpy(), time)
starts = pd.DatetimeIndex(events["start"])
steps_per_year = trend.counts_per_year(flagged["anomaly"].to_numpy(), time, train_years, decided)
events_per_year = trend.counts_per_year(np.ones(len(events), bool), starts, train_years, decided)
extreme_per_year = trend.counts_per_year(events["extreme"].to_numpy(), starts, train_years, decided)
trend_caption = (
    f"Anomalous steps and detected events of {detector} per year in the training years {train_years.start}-"
    f"{train_years.stop - 1}: Mann-Kendall test and Theil-Sen slope per decade ({dataset}, alpha {alpha})."
)
trends = trend.trend_table(
    {"anomalous steps": steps_per_year, "events": events_per_year, "extreme events": extreme_per_year}
)
registry.table(
    trends,
    f"trend_{dataset}",
    trend_caption,
    float_format="%.6g",
)
trends

# %%
decades = pd.DataFrame(
    {
        "anomalous_steps": trend.counts_per_decade(steps_per_year),
        "events": trend.counts_per_decade(events_per_year),
        "extreme_events": trend.counts_per_decade(extreme_per_year),
    }
).reset_index()
registry.table(decades, f"decades_{dataset}", f"Anomalous steps, events and extreme events per decade ({dataset}).")
row = trends.iloc[0]
fig = detector_plots.plot_trend(
    steps_per_year, row["slope_per_decade"] / 10, int(steps_per_year.index[0]), row["p_value"], dataset
)
registry.figure(
    fig,
    f"trend_{dataset}",
    trend_caption + " What to see: the slope of the line and its p-value; years without a decision are shaded grey "
    "and left out of the line and the test.",
)
decades

# %% [markdown]
# ## Number and intensity of extreme events
# Intensity: peak score over the threshold at the peak. Extreme: the peak also exceeds the
# threshold at tail probability `extreme_alpha`.

# %%
extremes = pd.DataFrame([detection.extremes_row(events, train_years.start, train_years.stop - 1)]).assign(
    dataset=dataset
)
registry.table(
    extremes,
    f"extremes_{dataset}",
    f"Number, duration and intensity of detected and extreme events in the training years ({dataset}).",
)
extremes

# %% [markdown]
# ## Write scores and events for notebook 05

# %%
errors = models[method].feature_errors(za)
out = stages.path("data/processed/{ds}", root, dataset)
print(f"wrote {score_files.write_scores(flagged, errors, features.names, events, out, scores)}")
