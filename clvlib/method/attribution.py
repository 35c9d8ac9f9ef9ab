"""Counterfactual attribution of anomalous steps (the paper's method).

For an anomalous 5-day step ``t`` and a feature ``f``: replace ``f`` by a baseline value over
every window that covers ``t`` (steps ``t - window + 1 .. t + window - 1``), rescore ``t`` with
the trained model, and record ``delta = score(original) - score(counterfactual)``. A large
positive delta means the step stops looking anomalous once ``f`` behaves normally: ``f`` drives
the anomaly. This is occlusion (feature ablation) with a baseline, the idea of Captum's
``FeatureAblation``.

Baselines (:func:`baseline_values`):

* ``median`` (the paper's): the median of the feature over the calendar year of each replaced
  step, computed from the data passed in (training-normalized units);
* ``zero``: 0, the normalized mean (with standardized anomalies as input, the climatology of
  that step of the year);
* ``climatology``: the mean of the input over the training years for each step of the year (with
  standardized anomalies it is close to zero by construction; it differs where the climatology
  was smoothed).

:func:`attribute` runs every (step, feature, window) triple through the model as batched
tensors (:func:`clvlib.testing.attribution_reference.attribute_looped` is the plain reference, for
the tests and the benchmark); :func:`attribute_groups` replaces whole groups of features at once.
The deltas are ranked, and the rankings' stability measured, in :mod:`clvlib.method.rankings`.

Alternatives for correlated drivers (single-feature occlusion can give a feature that is anomalous
together with its correlated partners a *negative* delta): ranking by ``|delta|`` (``by="abs"`` in
:func:`clvlib.method.rankings.tidy` and :func:`clvlib.method.rankings.event_ranking`), and the Shapley
and cluster-first attributions of
:mod:`clvlib.method.attribution_alternatives`; the literal counterfactual, the smallest change that
brings a step under its threshold, is :mod:`clvlib.method.counterfactual`. The checks against the
injected drivers of the embedded default are :mod:`clvlib.method.attribution_truth`.

All scores are the model's (:meth:`clvlib.method.model.ClusterLSTMVAE.residual_score`, averaged over the
covering windows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from clvlib.method.model import ClusterLSTMVAE, sliding_windows

__all__ = [
    "attribute",
    "attribute_groups",
    "BASELINE_TEXT",
    "baseline_values",
    "BASELINES",
    "coalition_masks",
    "counterfactual_scores",
    "covering_starts",
    "event_counterfactuals",
    "group_masks",
    "occlusion_scores",
    "partition",
    "row_scores",
    "variant_scores",
]

BASELINES: tuple[str, ...] = ("median", "zero", "climatology")

#: Each baseline as a caption names it ("... replaced by <text>").
BASELINE_TEXT: dict[str, str] = {
    "median": "its yearly median",
    "zero": "zero (the normalized mean)",
    "climatology": "its training-period climatology",
}


def baseline_values(
    values: np.ndarray,
    time: pd.DatetimeIndex,
    kind: str,
    step_of_year: np.ndarray | None = None,
    is_train: np.ndarray | None = None,
) -> np.ndarray:
    """Baseline of every step and feature, shape like ``values``.

    Parameters
    ----------
    values : ndarray, shape (n_time, n_features)
        Model input (training-normalized).
    time : DatetimeIndex
        Start of each step (its calendar year picks the yearly median).
    kind : {"median", "zero", "climatology"}
        See the module docstring.
    step_of_year, is_train : ndarray, optional
        Needed by ``climatology``.

    Examples
    --------
    >>> t = pd.DatetimeIndex(["2000-01-01", "2000-06-01", "2000-12-01", "2001-01-01", "2001-06-01"])
    >>> baseline_values(np.array([[1.0], [2.0], [9.0], [5.0], [7.0]]), t, "median").ravel().tolist()
    [2.0, 2.0, 2.0, 6.0, 6.0]
    """
    values = np.asarray(values, dtype=float)
    if kind == "median":
        years = pd.DatetimeIndex(time).year
        frame = pd.DataFrame(values).groupby(np.asarray(years)).transform("median")
        return frame.to_numpy()
    if kind == "zero":
        return np.zeros_like(values)
    if kind == "climatology":
        if step_of_year is None or is_train is None:
            raise ValueError("the climatology baseline needs step_of_year and is_train")
        train = pd.DataFrame(values[is_train]).groupby(np.asarray(step_of_year)[is_train]).mean()
        return train.reindex(np.asarray(step_of_year)).to_numpy()
    raise ValueError(f"unknown baseline {kind!r}: expected one of {BASELINES}")


def covering_starts(t: int, n: int, window: int) -> np.ndarray:
    """Start indices of all windows of length ``window`` that cover step ``t`` in a series of ``n``."""
    return np.arange(max(0, t - window + 1), min(t, n - window) + 1)


def group_masks(groups: list[list[int]], n_features: int) -> np.ndarray:
    """Boolean masks of shape (len(groups), n_features), True where a feature belongs to the group.

    Examples
    --------
    >>> group_masks([[0, 2], [1]], 3).astype(int).tolist()
    [[1, 0, 1], [0, 1, 0]]
    """
    masks = np.zeros((len(groups), n_features), dtype=bool)
    for c, group in enumerate(groups):
        members = np.asarray(group, dtype=int)
        if members.size == 0 or members.min() < 0 or members.max() >= n_features:
            raise ValueError(f"group {c} ({list(group)}) must list feature indices in 0..{n_features - 1}")
        masks[c, members] = True
    return masks


def partition(groups: list[list[int]], n_features: int) -> np.ndarray:
    """:func:`group_masks` of groups that hold every feature exactly once (else a ValueError)."""
    masks = group_masks(groups, n_features)
    if not (masks.sum(axis=0) == 1).all():
        raise ValueError(f"the groups {groups} must hold each of the {n_features} features exactly once")
    return masks


def _covering_rows(steps: np.ndarray, n: int, window: int, n_var: int) -> tuple[np.ndarray, ...]:
    """One row per (step, variant, covering window): its (step, variant) cell, variant, window start, step position."""
    cell, var, start, pos = [], [], [], []
    for i, t in enumerate(steps):
        starts = covering_starts(int(t), n, window)
        variants = np.repeat(np.arange(n_var), starts.size)
        cell.append(i * n_var + variants)
        var.append(variants)
        start.append(np.tile(starts, n_var))
        pos.append(np.tile(t - starts, n_var))
    return tuple(np.concatenate(a) for a in (cell, var, start, pos))


@torch.no_grad()
def row_scores(
    model: ClusterLSTMVAE,
    win: np.ndarray,
    base_win: np.ndarray,
    masks: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    chunk: int,
) -> np.ndarray:
    """Score at one position of one window with one mask's features at baseline, for every row.

    ``rows`` are three arrays of equal length: the mask (a row of ``masks``, True = baseline),
    the window start (a row of ``win`` and ``base_win``) and the position in the window of the
    step that is scored. Many rows share their (mask, start) window (the steps of an event are
    covered by the same windows, and a mask can recur); each distinct window goes through the
    model once, in batches of ``chunk`` windows, and its reconstruction serves all its rows.
    ``chunk`` is a speed setting (about a thousand windows run fastest on a CPU core, their tensors
    probably staying in its caches): PyTorch's CPU kernels give a window the same reconstruction in batches
    of a few windows or more, and one that can differ by float32 rounding in smaller ones.
    """
    mask, start, pos = (np.asarray(a, dtype=np.int64) for a in rows)
    keys, inverse = np.unique(mask * len(win) + start, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(0, keys.size + chunk, chunk))
    masks = torch.from_numpy(np.asarray(masks, dtype=bool))
    errors = np.empty(mask.size)
    model.net_.eval()
    for k, lo in enumerate(range(0, keys.size, chunk)):
        key = keys[lo : lo + chunk]
        start_of = key % len(win)
        batch = torch.where(
            masks[torch.from_numpy(key // len(win))][:, None, :],
            torch.from_numpy(base_win[start_of]),
            torch.from_numpy(win[start_of]),
        )
        recon, _, _ = model.net_(batch.to(model.torch_device()), sample=False)
        mine = order[bounds[k] : bounds[k + 1]]
        u, p = torch.from_numpy(inverse[mine] - lo), torch.from_numpy(pos[mine])
        errors[mine] = model.residual_score(recon.cpu()[u, p] - batch[u, p]).numpy()
    return errors


def variant_scores(
    model: ClusterLSTMVAE, values: np.ndarray, steps: np.ndarray, baseline: np.ndarray, masks: np.ndarray, chunk: int
) -> np.ndarray:
    """Score of each step with each mask's features at baseline over its covering windows.

    The result has shape (len(steps), len(masks)).

    Every (step, mask, covering window) triple is one row (:func:`row_scores`); a step's score is
    the mean over its covering windows of :meth:`clvlib.method.model.ClusterLSTMVAE.residual_score`.
    """
    x = np.asarray(values, dtype=np.float32)
    n, w = len(x), model.config.window
    win, base_win = sliding_windows(x, w), sliding_windows(np.asarray(baseline, dtype=np.float32), w)
    steps = np.asarray(steps, dtype=int)
    cell, var, start, pos = _covering_rows(steps, n, w, len(masks))
    errors = row_scores(model, win, base_win, masks, (var, start, pos), chunk)
    size = len(steps) * len(masks)
    return (np.bincount(cell, weights=errors, minlength=size) / np.bincount(cell, minlength=size)).reshape(
        len(steps), -1
    )


def occlusion_scores(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    masks: np.ndarray,
    chunk: int = 1024,
) -> np.ndarray:
    """Score of each step with each mask's features at their baseline, shape (len(steps), len(masks)), batched.

    ``masks`` (n_masks, n_features), True = replaced over every window that covers the step; an
    all-False row gives the original score. One batched pass for any set of occlusions (the
    building block of :func:`attribute`, :func:`attribute_groups` and :func:`attribute_shapley_groups`).
    """
    return variant_scores(model, values, steps, baseline, masks, chunk)


def coalition_masks(groups: list[list[int]], n_features: int) -> np.ndarray:
    """Feature masks of all ``2**C`` coalitions of the groups (coalition ``k``: the groups whose bits are set in ``k``).

    Examples
    --------
    >>> coalition_masks([[0], [1, 2]], 3).astype(int).tolist()
    [[0, 0, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1]]
    """
    members = group_masks(groups, n_features)
    bits = (np.arange(2 ** len(groups))[:, None] >> np.arange(len(groups))[None, :]) & 1
    return (bits.astype(float) @ members.astype(float)) > 0


def attribute(
    model: ClusterLSTMVAE, values: np.ndarray, steps: np.ndarray, baseline: np.ndarray, chunk: int = 1024
) -> np.ndarray:
    """Counterfactual deltas of every feature at every step in ``steps``, batched.

    Only the windows that cover an explained step are run: for each step, its (at most
    ``window``) covering windows as they are, and once more with each feature replaced by its
    baseline, all stacked into batches of ``chunk`` windows; a window that covers several explained
    steps (the steps of one event) is run once for all of them.

    Parameters
    ----------
    model : ClusterLSTMVAE
        Fitted model.
    values : ndarray, shape (n_time, n_features)
        Model input.
    steps : ndarray of int
        Steps to explain (for example the anomalous ones).
    baseline : ndarray, shape (n_time, n_features)
        Replacement values (:func:`baseline_values`).
    chunk : int
        Windows per forward pass.

    Returns
    -------
    ndarray, shape (len(steps), n_features)
        ``score(original) - score(counterfactual)`` at each step for each replaced feature.
    """
    n_feat = np.shape(values)[1]
    masks = np.vstack([np.eye(n_feat, dtype=bool), np.zeros((1, n_feat), dtype=bool)])  # last: the original
    scores = variant_scores(model, values, steps, baseline, masks, chunk)
    return scores[:, [n_feat]] - scores[:, :n_feat]


def attribute_groups(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    groups: list[list[int]],
    chunk: int = 1024,
) -> np.ndarray:
    """Counterfactual deltas of whole groups of features, batched like :func:`attribute`.

    The groups are, e.g., the correlation clusters. All features of a group are replaced by their
    baselines together over the windows that cover the step, so features that are anomalous
    together are judged together: replacing one of them alone leaves an input the model finds
    inconsistent (a negative delta), replacing the group does not.

    Parameters
    ----------
    model, values, steps, baseline, chunk
        As in :func:`attribute`.
    groups : list of list of int
        Feature indices of each group (``model.clusters`` for the correlation clusters); groups may overlap.

    Returns
    -------
    ndarray, shape (len(steps), len(groups))
        ``score(original) - score(group at baseline)``.
    """
    masks = group_masks(groups, np.shape(values)[1])
    masks = np.vstack([masks, np.zeros((1, masks.shape[1]), dtype=bool)])
    scores = variant_scores(model, values, steps, baseline, masks, chunk)
    return scores[:, [len(groups)]] - scores[:, : len(groups)]


def counterfactual_scores(
    model: ClusterLSTMVAE, values: np.ndarray, lo: int, hi: int, feature: int, baseline: np.ndarray
) -> np.ndarray:
    """Score of every step when ``feature`` is replaced by ``baseline`` over steps ``lo..hi-1`` (for figures)."""
    cf = np.asarray(values, dtype=np.float32).copy()
    cf[lo:hi, feature] = baseline[lo:hi, feature]
    return model.decision_function(cf)


def event_counterfactuals(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    time: pd.DatetimeIndex,
    event: tuple[pd.Timestamp, pd.Timestamp],
    features: list[str],
    names: list[str],
    baseline: np.ndarray,
    margin: int = 8,
) -> tuple[slice, dict[str, np.ndarray]]:
    """Scores around an event with each of ``features`` replaced by ``baseline`` (notebook 05's example figure).

    Each feature is replaced over the event's steps and every window that covers one of them (from
    ``window - 1`` steps before its start to ``window - 1`` after its end), one feature at a time.

    Returns
    -------
    view : slice
        The steps shown: the event and ``margin`` steps either side (cut at the ends of the series).
    scores : dict of str to ndarray
        Per feature, the score of the steps in ``view`` with that feature replaced.
    """
    first, last = time.get_loc(event[0]), time.get_loc(event[1])
    w = model.config.window
    lo, hi = max(0, first - w + 1), min(len(time), last + w)
    view = slice(max(0, first - margin), min(len(time), last + margin + 1))
    return view, {f: counterfactual_scores(model, values, lo, hi, names.index(f), baseline)[view] for f in features}
