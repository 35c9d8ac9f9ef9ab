"""Figures of the pipeline (matplotlib/seaborn).

Each returns the Figure for :func:`clvlib.publish.outputs.save_figure`.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from clvlib.method.aggregate import STEPS_PER_YEAR

__all__ = ["EVENT_COLOUR", "plot_overview"]

EVENT_COLOUR = "#d55e00"


def _shade_events(ax: plt.Axes, events: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Shade the injected events that overlap [start, end]."""
    if events is None:
        return
    inside = events[(events["end"] >= start) & (events["start"] <= end)]
    for ev in inside.itertuples():
        ax.axvspan(ev.start, ev.end + pd.Timedelta("1D"), color=EVENT_COLOUR, alpha=0.25, lw=0)


def plot_overview(
    features: xr.Dataset, variables: list[str], events: pd.DataFrame | None, zoom_years: int = 3
) -> plt.Figure:
    """Seasonal cycle, full record and a zoom on the last years of key variables.

    Parameters
    ----------
    features : xarray.Dataset
        Output of notebook 01 (uses ``x``, ``step``, ``is_train``, ``units``).
    variables : list of str
        Variables to show, one row each.
    events : pandas.DataFrame or None
        Injected events (columns start, end) to shade; None for data without a truth table.
    zoom_years : int
        Years shown in the right-hand column.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = len(variables)
    fig, axes = plt.subplots(n, 3, figsize=(11, 1.55 * n + 0.6), gridspec_kw={"width_ratios": [1, 3, 2]}, squeeze=False)
    time = pd.DatetimeIndex(features["time"].values)
    step = features["step"].values
    train = features["is_train"].values
    zoom_start = pd.Timestamp(year=time[-1].year - zoom_years + 1, month=1, day=1)
    zoom = time >= zoom_start
    for i, v in enumerate(variables):
        x = features["x"].sel(feature=v).values
        units = str(features["units"].sel(feature=v).values)
        ax_s, ax_f, ax_z = axes[i]
        frame = pd.DataFrame({"x": x[train], "step": step[train]}).groupby("step")["x"]
        q = frame.quantile([0.1, 0.5, 0.9]).unstack()
        days = np.arange(STEPS_PER_YEAR) * 5 + 3
        ax_s.fill_between(days, q[0.1], q[0.9], alpha=0.3, lw=0, label="10-90 %")
        ax_s.plot(days, q[0.5], lw=1.2, label="median")
        ax_s.set_ylabel(f"{v}\n[{units}]")
        ax_s.set_xlim(0, 365)
        ax_f.plot(time, x, lw=0.3, color="0.35")
        annual = pd.Series(x, index=time).groupby(time.year).mean()
        ax_f.plot(
            pd.to_datetime(annual.index.astype(str) + "-07-01"),
            annual.to_numpy(),
            lw=1.2,
            color="C0",
            label="annual mean",
        )
        _shade_events(ax_f, events, time[0], time[-1])
        ax_z.plot(time[zoom], x[zoom], lw=0.8, color="0.2", marker=".", ms=2)
        _shade_events(ax_z, events, zoom_start, time[-1])
        ax_z.xaxis.set_major_locator(mdates.YearLocator())
        ax_z.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        if i == 0:
            ax_s.set_title("seasonal cycle (training years)")
            ax_f.set_title("full record, 5-day steps" + (" (injected events shaded)" if events is not None else ""))
            ax_z.set_title(f"last {zoom_years} years")
            ax_s.legend(fontsize=6, frameon=False)
            ax_f.legend(fontsize=6, frameon=False, loc="upper left")
    axes[-1, 0].set_xlabel("day of year")
    for ax in axes[:-1].ravel():
        ax.tick_params(labelbottom=False)
    fig.align_ylabels(axes[:, 0])
    fig.tight_layout()
    return fig
