"""Figures of the attribution and validation notebooks (05-06)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from clvlib.publish.plots import EVENT_COLOUR

__all__ = ["plot_drivers", "plot_event_example", "plot_event_heatmap", "plot_importance", "plot_shap_beeswarm"]


def plot_drivers(overall: pd.DataFrame, title: str) -> plt.Figure:
    """Mean counterfactual delta per feature with its bootstrap confidence interval, ranked."""
    fig, ax = plt.subplots(figsize=(4.6, 0.22 * len(overall) + 1.0))
    y = np.arange(len(overall))
    err = np.vstack([overall["mean_delta"] - overall["ci_low"], overall["ci_high"] - overall["mean_delta"]])
    ax.barh(y, overall["mean_delta"], xerr=err, color="C0", error_kw={"lw": 0.8, "capsize": 2})
    ax.set_yticks(y, overall["feature"])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set(xlabel="mean score drop when replaced by the baseline (95 % CI)", title=title)
    sns.despine(fig)
    return fig


def plot_event_heatmap(ranking: pd.DataFrame, max_events: int = 60) -> plt.Figure:
    """Events x features: each event's deltas divided by its largest one (the largest ``max_events`` events)."""
    wide = ranking.pivot(index="event_id", columns="feature", values="delta")
    top = wide.max(axis=1).nlargest(min(max_events, len(wide))).index
    wide = wide.loc[sorted(top)]
    scaled = wide.div(wide.abs().max(axis=1), axis=0)
    order = wide.mean().sort_values(ascending=False).index
    fig, ax = plt.subplots(figsize=(6.4, 0.12 * len(wide) + 1.6))
    sns.heatmap(
        scaled[order],
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        ax=ax,
        cbar_kws={"label": "delta / max |delta| of the event"},
        yticklabels=len(wide) <= 40,
        xticklabels=True,
    )
    ax.set(
        xlabel="feature (ordered by mean delta)",
        ylabel="detected event",
        title=f"Attribution per event ({len(wide)} events with the largest deltas)",
    )
    ax.tick_params(labelsize=7)
    return fig


def plot_event_example(
    time: pd.DatetimeIndex,
    original: np.ndarray,
    counterfactual: dict[str, np.ndarray],
    threshold: np.ndarray,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> plt.Figure:
    """Score around one event and the scores with each top driver replaced by its baseline."""
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.axvspan(start, end + pd.Timedelta("4D"), color=EVENT_COLOUR, alpha=0.15, lw=0, label="detected event")
    ax.plot(time, original, color="black", lw=1.5, label="original")
    for name, scores in counterfactual.items():
        ax.plot(time, scores, lw=1.1, ls="--", label=f"{name} replaced")
    ax.plot(time, threshold, color="grey", lw=0.8, ls=":", label="threshold")
    ax.set(ylabel="anomaly score", title="Counterfactual scores of an example event")
    ax.legend(frameon=False, fontsize=7)
    fig.autofmt_xdate()
    sns.despine(fig)
    return fig


def plot_importance(importance: pd.DataFrame, attribution: pd.DataFrame, title: str) -> plt.Figure:
    """Normalized importance of each method next to the CLV attribution (features in CLV order)."""
    order = attribution.sort_values("rank")["feature"].tolist()
    wide = importance.pivot(index="feature", columns="method", values="importance").reindex(order)
    wide["CLV attribution"] = attribution.set_index("feature")["mean_delta"].reindex(order)
    scaled = wide / wide.abs().max()
    fig, ax = plt.subplots(figsize=(6.4, 0.24 * len(order) + 1.4))
    sns.heatmap(
        scaled,
        cmap="Blues",
        vmin=0,
        vmax=1,
        ax=ax,
        annot=wide.rank(ascending=False).astype(int),
        fmt="d",
        cbar_kws={"label": "importance / largest (numbers: rank)"},
        annot_kws={"fontsize": 6},
        yticklabels=True,
        xticklabels=True,
    )
    ax.set(title=title, xlabel="", ylabel="feature (CLV order)")
    ax.tick_params(axis="x", rotation=30, labelsize=7)
    ax.tick_params(axis="y", rotation=0, labelsize=7)
    return fig


def plot_shap_beeswarm(explanation, title: str, seed: int = 0, max_display: int = 12) -> plt.Figure:
    """SHAP beeswarm of ``explanation`` (a ``shap.Explanation``), reproducible for a given ``seed``.

    ``shap.plots.beeswarm`` jitters the dots with NumPy's global random state; it is seeded here
    for the call and restored afterwards, so the same inputs give the same figure bytes.
    """
    import shap

    state = np.random.get_state()
    np.random.seed(seed)
    try:
        plt.figure()
        shap.plots.beeswarm(explanation, max_display=max_display, show=False, plot_size=(6.4, 4.2))
    finally:
        np.random.set_state(state)
    fig = plt.gcf()
    fig.axes[0].set_title(title)
    return fig
