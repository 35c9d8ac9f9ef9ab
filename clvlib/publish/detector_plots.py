"""Figures of the detector notebooks (02-04); each returns the Figure for :func:`clvlib.publish.outputs.save_figure`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.metrics import precision_recall_curve

from clvlib.availability import NotAvailable
from clvlib.publish.plots import EVENT_COLOUR

__all__ = [
    "plot_correlation",
    "plot_losses",
    "plot_pr_curves",
    "plot_scores",
    "plot_silhouette",
    "plot_timeline",
    "plot_trend",
]


def plot_correlation(corr: pd.DataFrame, labels: np.ndarray) -> plt.Figure:
    """Correlation heatmap with features ordered by cluster and cluster blocks outlined."""
    order = np.lexsort((np.arange(len(labels)), labels))
    ordered = corr.iloc[order, order]
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    sns.heatmap(
        ordered,
        vmin=-1,
        vmax=1,
        cmap="RdBu_r",
        square=True,
        ax=ax,
        cbar_kws={"label": "Pearson r", "shrink": 0.8},
        xticklabels=True,
        yticklabels=True,
    )
    sorted_labels = np.asarray(labels)[order]
    edges = np.flatnonzero(np.diff(sorted_labels)) + 1
    bounds = np.r_[0, edges, len(labels)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        ax.add_patch(plt.Rectangle((a, a), b - a, b - a, fill=False, lw=1.6, ec="black"))
    ax.set_title("Feature correlation (training years), ordered by cluster")
    ax.tick_params(labelsize=7)
    return fig


def plot_silhouette(silhouette: pd.Series, chosen: int) -> plt.Figure:
    """Silhouette score against the number of clusters, the chosen one marked."""
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    ax.plot(silhouette.index, silhouette.values, marker="o")
    ax.axvline(chosen, color=EVENT_COLOUR, ls="--", lw=1, label=f"chosen: {chosen}")
    ax.set(xlabel="number of clusters", ylabel="mean silhouette", title="Choice of the number of clusters")
    ax.legend(frameon=False)
    sns.despine(fig)
    return fig


def plot_losses(histories: dict[str, pd.DataFrame]) -> plt.Figure:
    """Training and validation loss per epoch of each model."""
    fig, axes = plt.subplots(1, len(histories), figsize=(3.4 * len(histories), 2.8), squeeze=False)
    for ax, (name, hist) in zip(axes[0], histories.items(), strict=True):
        ax.plot(hist.index + 1, hist["train_loss"], label="training")
        ax.plot(hist.index + 1, hist["val_loss"], label="validation")
        best = int(hist["val_loss"].idxmin())
        ax.axvline(best + 1, color="grey", lw=0.8, ls=":")
        ax.set(title=name, xlabel="epoch", ylabel="loss (MSE + weighted KL)")
    axes[0][0].legend(frameon=False)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def plot_scores(
    time: pd.DatetimeIndex,
    score: np.ndarray,
    threshold: np.ndarray,
    flags: np.ndarray,
    events: pd.DataFrame | None,
    years: tuple[int, ...],
) -> plt.Figure:
    """Anomaly score, dynamic threshold and flagged steps in a few melt seasons, reference events shaded."""
    time = pd.DatetimeIndex(time)
    fig, axes = plt.subplots(len(years), 1, figsize=(7.2, 1.7 * len(years)), squeeze=False)
    for ax, year in zip(axes[:, 0], years, strict=True):
        sel = (time.year == year) & (time.month >= 4) & (time.month <= 10)
        ax.plot(time[sel], score[sel], lw=1, color="black", label="score")
        ax.plot(time[sel], threshold[sel], lw=1, color="C0", ls="--", label="threshold")
        ax.scatter(time[sel & flags], score[sel & flags], color=EVENT_COLOUR, s=14, zorder=3, label="anomalous")
        if events is not None:
            inside = events[(events["start"].dt.year == year)]
            for ev in inside.itertuples():
                ax.axvspan(ev.start, ev.end + pd.Timedelta("1D"), color=EVENT_COLOUR, alpha=0.18, lw=0)
        ax.set_ylabel(str(year))
    axes[0, 0].legend(frameon=False, ncol=3, loc="upper left", fontsize=7)
    axes[0, 0].set_title("Anomaly score per 5-day step (melt season), reference events shaded")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def _event_strip(ax: plt.Axes, row: float, events: pd.DataFrame, colour: str) -> None:
    """One horizontal bar per event (``start`` to ``end`` plus a step) at height ``row`` of the strip."""
    for ev in events.itertuples():
        ax.plot([ev.start, ev.end + pd.Timedelta("4D")], [row, row], color=colour, lw=6, solid_capstyle="butt")


def plot_timeline(
    time: pd.DatetimeIndex,
    score: np.ndarray,
    threshold: np.ndarray,
    flags: np.ndarray,
    scope: np.ndarray,
    detected: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    test_year: int | None = None,
) -> plt.Figure:
    """The whole record on one timeline: score and threshold of the in-scope steps, flagged steps, events.

    Out-of-scope steps (winter) are left blank; in-scope steps without a threshold (no decision) are
    shaded grey, never drawn as calm. Below the score, one strip shows the detected events and, when
    given, another the reference events (injected or observed); the held-out year is marked.

    Examples
    --------
    >>> t = pd.date_range("2000-01-01", periods=400, freq="5D")
    >>> s = np.random.default_rng(0).exponential(size=400)
    >>> thr = np.where(np.arange(400) < 40, np.nan, 2.5)
    >>> ev = pd.DataFrame({"start": [t[100]], "end": [t[101]]})
    >>> fig = plot_timeline(t, s, thr, s > thr, t.month.isin(range(5, 10)), ev, ev, test_year=2005)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['anomaly score', '']
    """
    time = pd.DatetimeIndex(time)
    scope = np.asarray(scope, dtype=bool)
    threshold = np.asarray(threshold, dtype=float)
    shown = np.where(scope, np.asarray(score, dtype=float), np.nan)
    fig, (ax, bx) = plt.subplots(
        2, 1, figsize=(7.2, 3.0), sharex=True, gridspec_kw={"height_ratios": [4, 1], "hspace": 0.08}
    )
    undecided = scope & ~np.isfinite(threshold)
    for i, at in enumerate(time[undecided]):
        ax.axvspan(at, at + pd.Timedelta("5D"), color="0.8", lw=0, label="no decision" if i == 0 else None)
    if test_year is not None:
        for axis in (ax, bx):
            axis.axvspan(pd.Timestamp(f"{test_year}-01-01"), pd.Timestamp(f"{test_year}-12-31"), color="C2", alpha=0.12)
    ax.plot(time, shown, lw=0.5, color="black", label="score (in scope)")
    ax.plot(time, np.where(scope, threshold, np.nan), lw=0.7, color="C0", label="threshold")
    flags = np.asarray(flags, dtype=bool) & scope
    ax.scatter(time[flags], shown[flags], s=5, color=EVENT_COLOUR, zorder=3, label="anomalous step")
    ax.set_ylabel("anomaly score")
    ax.legend(frameon=False, ncol=4, loc="upper left", fontsize=7)
    title = "The whole record: score, threshold and events"
    ax.set_title(title + (f" ({test_year} held out, green)" if test_year is not None else ""), fontsize=9)
    _event_strip(bx, 1.0, detected, EVENT_COLOUR)
    rows = ["detected"]
    if reference is not None:
        _event_strip(bx, 0.0, reference, "0.3")
        rows = ["reference", "detected"]
    bx.set_yticks(range(len(rows)) if reference is not None else [1.0], rows, fontsize=7)
    bx.set_ylim(-0.6, 1.6)
    bx.tick_params(axis="y", length=0)
    sns.despine(fig)
    sns.despine(ax=bx, left=True)
    return fig


def plot_pr_curves(
    scoped: tuple[np.ndarray, np.ndarray] | NotAvailable, scores: dict[str, np.ndarray]
) -> plt.Figure | NotAvailable:
    """Precision-recall curves of several scores against the same labels.

    ``scoped`` is :func:`clvlib.method.detection.scoped_labels`: the mask of the steps to use and
    their labels; passed through when it is not available.
    """
    if isinstance(scoped, NotAvailable):
        return scoped
    mask, labels = scoped
    scores = {name: s[mask] for name, s in scores.items()}
    fig, ax = plt.subplots(figsize=(4.4, 3.6))
    for name, s in scores.items():
        p, r, _ = precision_recall_curve(labels, s)
        ax.plot(r, p, label=name, lw=1.2)
    ax.axhline(np.mean(labels), color="grey", lw=0.8, ls=":", label="no skill")
    ax.set(
        xlabel="recall (steps)",
        ylabel="precision (steps)",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title="Precision-recall of the raw scores",
    )
    ax.legend(frameon=False, fontsize=7)
    sns.despine(fig)
    return fig


def plot_trend(per_year: pd.Series, slope: float, intercept_year: int, p_value: float, label: str) -> plt.Figure:
    """Anomalous steps per year with the Theil-Sen line and per-decade totals.

    Years without a decision (NaN in ``per_year``) are shaded grey and left out of the line and the
    decade totals (a decade's bar says how many of its years were decided), never drawn as calm years.
    """
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.2, 2.8), gridspec_kw={"width_ratios": [2.2, 1]})
    undecided = per_year.index[per_year.isna()]
    for i, year in enumerate(undecided):
        ax.axvspan(year - 0.5, year + 0.5, color="0.85", lw=0, label="no decision" if i == 0 else None)
    per_year = per_year.dropna()
    ax.bar(per_year.index, per_year.values, color="C0", width=0.8)
    years = per_year.index.to_numpy()
    centre = np.median(per_year.values) - slope * np.median(years - intercept_year)
    ax.plot(
        years,
        centre + slope * (years - intercept_year),
        color=EVENT_COLOUR,
        label=f"Theil-Sen {slope * 10:+.2f} per decade (Mann-Kendall p = {p_value:.2g})",
    )
    ax.set(xlabel="year", ylabel="anomalous 5-day steps", title=f"Melt anomalies per year, {label}")
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    decade = (years // 10) * 10
    per_decade = per_year.groupby(decade).sum()
    n_years = pd.Series(years).groupby(decade).size()
    bx.bar(
        [f"{d}s" if n_years[d] == 10 else f"{d}s ({n_years[d]} yr)" for d in per_decade.index],
        per_decade.values,
        color="C0",
    )
    bx.set(ylabel="anomalous steps", title="per decade")
    bx.tick_params(axis="x", rotation=60, labelsize=7)
    sns.despine(fig)
    fig.tight_layout()
    return fig
