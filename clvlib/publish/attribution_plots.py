"""Figures of the attribution and validation notebooks (05-06)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from clvlib.publish.plots import EVENT_COLOUR
from clvlib.variables import catalogue, variable_role

__all__ = [
    "ROLE_COLOURS",
    "plot_drivers",
    "plot_event_bars",
    "plot_event_example",
    "plot_event_heatmap",
    "plot_importance",
    "plot_shap_beeswarm",
]

#: Bar colour of a variable by its role (:func:`clvlib.variables.variable_role`).
ROLE_COLOURS = {"forcing": "C0", "response": "0.6", "own": "C4"}


def plot_drivers(overall: pd.DataFrame, title: str) -> plt.Figure:
    """Mean counterfactual delta per feature with its bootstrap confidence interval, ranked; forcing and
    responses coloured apart (:data:`ROLE_COLOURS`)."""
    fig, ax = plt.subplots(figsize=(4.6, 0.22 * len(overall) + 1.0))
    y = np.arange(len(overall))
    err = np.vstack([overall["mean_delta"] - overall["ci_low"], overall["ci_high"] - overall["mean_delta"]])
    roles = [variable_role(f) for f in overall["feature"]]
    ax.barh(
        y, overall["mean_delta"], xerr=err, color=[ROLE_COLOURS[r] for r in roles], error_kw={"lw": 0.8, "capsize": 2}
    )
    present = [r for r in ROLE_COLOURS if r in roles]
    ax.legend([plt.Rectangle((0, 0), 1, 1, color=ROLE_COLOURS[r]) for r in present], present, frameon=False, fontsize=7)
    ax.set_yticks(y, overall["feature"])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set(xlabel="mean score drop when replaced by the baseline (95 % CI)", title=title)
    sns.despine(fig)
    return fig


def plot_event_bars(events: pd.DataFrame, ranking: pd.DataFrame, n_events: int = 6, k: int = 6) -> plt.Figure:
    """Driver bars of the strongest events: each event's top ``k`` variables by its attribution.

    ``events`` has one row per event, strongest first (:func:`clvlib.method.rankings.event_table`);
    ``ranking`` is a per-event ranking (:func:`clvlib.method.rankings.event_ranking`: ``delta``,
    ``abs_delta`` when ranked by size, ``rank``). Forcing variables and responses are coloured apart
    (:data:`ROLE_COLOURS`); the codes on the axes are spelled out with their long names under the panels.

    Examples
    --------
    >>> events = pd.DataFrame({"event_id": [2, 1], "start": pd.to_datetime(["2001-07-01", "2001-06-01"]),
    ...                        "end": pd.to_datetime(["2001-07-10", "2001-06-05"]), "peak_score": [5.0, 3.0]})
    >>> ranking = pd.DataFrame({"event_id": [1, 1, 2, 2], "feature": ["smlt", "t2m", "tcc", "skt"],
    ...                         "delta": [2.0, 1.0, 4.0, 3.0], "rank": [1, 2, 1, 2]})
    >>> fig = plot_event_bars(events, ranking)
    >>> [ax.get_title().split(":")[0] for ax in fig.axes if ax.get_visible()]
    ['event 2', 'event 1']
    >>> "t2m: 2 metre temperature" in fig.texts[0].get_text()
    True
    >>> plot_event_bars(events.iloc[:0], ranking).axes[0].texts[0].get_text()
    'no detected event'
    """
    shown = events.head(n_events)
    columns = 3 if len(shown) > 2 else max(1, len(shown))
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, (0.16 * k + 0.75) * rows + 0.9), squeeze=False)
    value = "abs_delta" if "abs_delta" in ranking else "delta"
    used: dict[str, str] = {}
    for ax, ev in zip(axes.ravel(), shown.itertuples(), strict=False):
        top = ranking[ranking["event_id"] == ev.event_id].nsmallest(k, "rank")
        y = np.arange(len(top))
        roles = [variable_role(f) for f in top["feature"]]
        used.update(zip(top["feature"], roles, strict=True))
        ax.barh(y, top[value], color=[ROLE_COLOURS[r] for r in roles])
        ax.set_yticks(y, top["feature"], fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.6)
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_title(
            f"event {ev.event_id}: {pd.Timestamp(ev.start):%Y-%m-%d}"
            + (f" to {pd.Timestamp(ev.end):%m-%d}" if ev.end != ev.start else "")
            + f"\npeak score {ev.peak_score:.3g}",
            fontsize=7.5,
        )
    for ax in axes.ravel()[len(shown) :]:
        ax.set_visible(False)
    present = [r for r in ROLE_COLOURS if r in used.values()]
    handles = [plt.Rectangle((0, 0), 1, 1, color=ROLE_COLOURS[r]) for r in present]
    if present:
        fig.legend(handles, present, frameon=False, ncol=len(present), fontsize=7, loc="upper center")
    else:
        axes[0, 0].set_visible(True)
        axes[0, 0].axis("off")
        axes[0, 0].text(0.5, 0.5, "no detected event", ha="center", va="center")
    known = catalogue()
    names = "; ".join(f"{f}: {known[f].long_name}" if f in known else f for f in sorted(used))
    fig.text(0.01, 0.005, textwrap.fill(names, 150), fontsize=6, va="bottom", color="0.3")
    sns.despine(fig)
    n_lines = len(textwrap.wrap(names, 150))
    fig.tight_layout(rect=(0, 0.03 * n_lines + 0.01, 1, 0.95))
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
