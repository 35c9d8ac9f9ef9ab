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
tensors; :func:`attribute_looped` is the plain reference (one forward pass per pair) kept for
the tests and the benchmark. :func:`attribute_shapley` is an alternative that shares the effect of
correlated drivers (permutation-sampled Shapley values of the same score drop), reported next to
the paper's method.

Variants for correlated drivers (single-feature occlusion can give a feature that is anomalous
together with its correlated partners a *negative* delta):

* ranking by ``|delta|`` (``by="abs"`` in :func:`tidy` and :func:`event_ranking`);
* occlusion of whole groups of features, e.g. the model's correlation clusters
  (:func:`attribute_groups`), and the feature ranking it implies (:func:`attribute_hierarchical`);
* exact Shapley values over groups (:func:`attribute_shapley_groups`, all ``2**C`` coalitions);
* the literal counterfactual, the smallest change that brings a step under its threshold
  (:mod:`clvlib.method.counterfactual`).

All scores are the model's (:meth:`clvlib.method.model.ClusterLSTMVAE.residual_score`, averaged over the
covering windows).
The truth of the embedded default is scored among candidate drivers (:func:`candidate_drivers`,
:func:`candidate_driver_check`): the generator perturbs forcing variables, and fluxes, skin
temperature, melt and albedo respond to them.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau

from clvlib.availability import NotAvailable
from clvlib.method.model import ClusterLSTMVAE, sliding_windows
from clvlib.variables import CANDIDATE_DRIVERS, driver_name

__all__ = [
    "held_out_consistency",
    "BASELINES",
    "BASELINE_TEXT",
    "RANK_BY",
    "attribute",
    "attribute_groups",
    "attribute_hierarchical",
    "attribute_looped",
    "attribute_shapley",
    "attribute_shapley_groups",
    "baseline_stability",
    "baseline_values",
    "candidate_driver_accuracy",
    "candidate_driver_check",
    "candidate_drivers",
    "coalition_masks",
    "counterfactual_scores",
    "driver_accuracy",
    "driver_check",
    "event_ranking",
    "group_masks",
    "hierarchical_scores",
    "occlusion_scores",
    "overall_ranking",
    "ranking_agreement",
    "shapley_from_coalitions",
    "spread_groups",
    "tidy",
    "top_k_stability",
]

BASELINES: tuple[str, ...] = ("median", "zero", "climatology")

#: Each baseline as a caption names it ("... replaced by <text>").
BASELINE_TEXT: dict[str, str] = {
    "median": "its yearly median",
    "zero": "zero (the normalized mean)",
    "climatology": "its training-period climatology",
}

#: What a ranking sorts by: the signed delta (the paper) or its absolute value.
RANK_BY: tuple[str, ...] = ("delta", "abs")


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


def _covering_starts(t: int, n: int, window: int) -> np.ndarray:
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


def _partition(groups: list[list[int]], n_features: int) -> np.ndarray:
    """:func:`group_masks` of groups that hold every feature exactly once (else a ValueError)."""
    masks = group_masks(groups, n_features)
    if not (masks.sum(axis=0) == 1).all():
        raise ValueError(f"the groups {groups} must hold each of the {n_features} features exactly once")
    return masks


def _covering_rows(steps: np.ndarray, n: int, window: int, n_var: int) -> tuple[np.ndarray, ...]:
    """One row per (step, variant, covering window): its (step, variant) cell, variant, window start, step position."""
    cell, var, start, pos = [], [], [], []
    for i, t in enumerate(steps):
        starts = _covering_starts(int(t), n, window)
        variants = np.repeat(np.arange(n_var), starts.size)
        cell.append(i * n_var + variants)
        var.append(variants)
        start.append(np.tile(starts, n_var))
        pos.append(np.tile(t - starts, n_var))
    return tuple(np.concatenate(a) for a in (cell, var, start, pos))


@torch.no_grad()
def _row_errors(
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


def _variant_scores(
    model: ClusterLSTMVAE, values: np.ndarray, steps: np.ndarray, baseline: np.ndarray, masks: np.ndarray, chunk: int
) -> np.ndarray:
    """Score of each step with each mask's features at baseline over its covering windows.

    The result has shape (len(steps), len(masks)).

    Every (step, mask, covering window) triple is one row (:func:`_row_errors`); a step's score is
    the mean over its covering windows of :meth:`clvlib.method.model.ClusterLSTMVAE.residual_score`.
    """
    x = np.asarray(values, dtype=np.float32)
    n, w = len(x), model.config.window
    win, base_win = sliding_windows(x, w), sliding_windows(np.asarray(baseline, dtype=np.float32), w)
    steps = np.asarray(steps, dtype=int)
    cell, var, start, pos = _covering_rows(steps, n, w, len(masks))
    errors = _row_errors(model, win, base_win, masks, (var, start, pos), chunk)
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
    return _variant_scores(model, values, steps, baseline, masks, chunk)


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
    scores = _variant_scores(model, values, steps, baseline, masks, chunk)
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
    scores = _variant_scores(model, values, steps, baseline, masks, chunk)
    return scores[:, [len(groups)]] - scores[:, : len(groups)]


def hierarchical_scores(
    group_deltas: np.ndarray, feature_deltas: np.ndarray, groups: list[list[int]], by: str = "delta"
) -> np.ndarray:
    """Feature scores (higher = ranked higher) of a two-level ranking: groups first, then features in a group.

    At each step the groups are ordered by their delta (largest first), and the features of each
    group by their single-feature delta (``by="delta"``) or its absolute value (``by="abs"``);
    ties keep the index order. The feature in position ``r`` (0 = first) of this order scores
    ``n_features - r``, so :func:`tidy` ranks the top group's features first.

    Parameters
    ----------
    group_deltas : ndarray, shape (n_steps, len(groups))
        :func:`attribute_groups` output.
    feature_deltas : ndarray, shape (n_steps, n_features)
        :func:`attribute` output.
    groups : list of list of int
        Groups holding every feature exactly once.
    by : {"delta", "abs"}
        Order inside a group.

    Examples
    --------
    >>> hierarchical_scores(np.array([[1.0, 2.0]]), np.array([[0.5, -0.9, 0.2]]), [[0, 1], [2]]).tolist()
    [[2.0, 1.0, 3.0]]
    >>> hierarchical_scores(np.array([[1.0, 2.0]]), np.array([[0.5, -0.9, 0.2]]), [[0, 1], [2]], by="abs").tolist()
    [[1.0, 2.0, 3.0]]
    """
    feature_deltas = np.asarray(feature_deltas, dtype=float)
    n_steps, n_feat = feature_deltas.shape
    group_of = np.argmax(_partition(groups, n_feat), axis=0)
    group_rank = np.argsort(np.argsort(-np.asarray(group_deltas, dtype=float), axis=1, kind="stable"), axis=1)
    inner = _rank_key(feature_deltas, by)
    out = np.empty((n_steps, n_feat))
    for i in range(n_steps):
        order = np.lexsort((np.arange(n_feat), -inner[i], group_rank[i, group_of]))
        out[i, order] = n_feat - np.arange(n_feat)
    return out


def attribute_hierarchical(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    groups: list[list[int]] | None = None,
    by: str = "delta",
    chunk: int = 1024,
) -> np.ndarray:
    """Two-level feature ranking: group occlusion picks the group, single-feature occlusion orders its features.

    Group and single-feature deltas come from one batched pass (as :func:`attribute_groups` and
    :func:`attribute`); :func:`hierarchical_scores` combines them.

    Parameters
    ----------
    model, values, steps, baseline, chunk
        As in :func:`attribute`.
    groups : list of list of int, optional
        Groups holding every feature exactly once; default ``model.clusters``.
    by : {"delta", "abs"}
        Order of the features inside a group.

    Returns
    -------
    ndarray, shape (len(steps), n_features)
        Scores for :func:`tidy` (higher = ranked higher): ``n_features`` for the first feature down to 1.
    """
    groups = model.clusters if groups is None else groups
    n_feat = np.shape(values)[1]
    masks = np.vstack([np.eye(n_feat, dtype=bool), _partition(groups, n_feat), np.zeros((1, n_feat), dtype=bool)])
    scores = _variant_scores(model, values, steps, baseline, masks, chunk)
    deltas = scores[:, [-1]] - scores[:, :-1]
    return hierarchical_scores(deltas[:, n_feat:], deltas[:, :n_feat], groups, by)


@torch.no_grad()
def attribute_looped(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    local: bool = False,
    groups: list[list[int]] | None = None,
) -> np.ndarray:
    """Reference implementation of :func:`attribute` (and of :func:`attribute_groups`): a Python loop over pairs.

    For each (step, feature) pair the counterfactual series is built and rescored with
    :meth:`ClusterLSTMVAE.decision_function`: the whole series (``local=False``, the plain
    approach), or only the steps whose windows can cover the explained step (``local=True``).
    With ``groups``, each group of features is replaced at once instead of each feature
    (output shape (len(steps), len(groups))).
    """
    x = np.asarray(values, dtype=np.float32)
    n, n_feat = x.shape
    w = model.config.window
    members = [[f] for f in range(n_feat)] if groups is None else groups
    out = np.zeros((len(steps), len(members)))
    for i, t in enumerate(np.asarray(steps, dtype=int)):
        lo, hi = (max(0, t - w + 1), min(n, t + w)) if local else (0, n)
        segment = x[lo:hi]
        original = model.decision_function(segment)[t - lo]
        for c, group in enumerate(members):
            cf = segment.copy()
            cf[max(0, t - w + 1) - lo : min(n, t + w) - lo, group] = baseline[max(0, t - w + 1) : min(n, t + w)][
                :, group
            ]
            out[i, c] = original - model.decision_function(cf)[t - lo]
    return out


@torch.no_grad()
def attribute_shapley(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    n_permutations: int = 8,
    random_state: int = 0,
    chunk: int = 1024,
) -> np.ndarray:
    """Shapley values of the score drop, estimated by permutation sampling (an alternative to occlusion).

    Single-feature occlusion (:func:`attribute`) can give a *negative* delta to a feature that is
    anomalous together with correlated features: replacing it alone makes the input inconsistent
    and the error grows. Shapley values average a feature's marginal score drop over random orders
    in which the features are replaced by their baselines, so correlated drivers share their joint
    effect. Every prefix of ``n_permutations`` random orders of every step is scored, all steps
    batched together (:func:`_row_errors`; the orders are drawn step after step from one generator
    seeded by ``random_state``). The values of a step add up exactly to
    ``score(original) - score(all features at baseline)``.

    Returns
    -------
    ndarray, shape (len(steps), n_features)
    """
    x = np.asarray(values, dtype=np.float32)
    (n, n_feat), w = x.shape, model.config.window
    steps = np.asarray(steps, dtype=int)
    win, base_win = sliding_windows(x, w), sliding_windows(np.asarray(baseline, dtype=np.float32), w)
    rng = np.random.default_rng(random_state)
    prefix = np.tril(np.ones((n_feat + 1, n_feat), dtype=bool), k=-1)  # row k: the first k features replaced
    perms = np.zeros((len(steps), n_permutations, n_feat), dtype=int)
    masks = np.zeros((len(steps), n_permutations, n_feat + 1, n_feat), dtype=bool)
    for i in range(len(steps)):
        perms[i] = [rng.permutation(n_feat) for _ in range(n_permutations)]
        for p, perm in enumerate(perms[i]):
            masks[i, p][:, perm] = prefix
    out = np.zeros((len(steps), n_feat))
    if not len(steps):
        return out
    # the same mask recurs (none and all features replaced, in every order), each is run once per window
    distinct, mask_of = np.unique(masks.reshape(-1, n_feat), axis=0, return_inverse=True)
    mask_of = mask_of.reshape(len(steps), -1)
    starts = [_covering_starts(int(t), n, w) for t in steps]
    rows: tuple[list, list, list] = ([], [], [])  # per step: mask-major, then the covering windows
    for m, s, t in zip(mask_of, starts, steps, strict=True):
        for part, a in zip(rows, (np.repeat(m, len(s)), np.tile(s, len(m)), np.tile(t - s, len(m))), strict=True):
            part.append(a)
    errors = _row_errors(model, win, base_win, distinct, tuple(np.concatenate(r) for r in rows), chunk)
    bounds = np.cumsum([0] + [mask_of.shape[1] * len(s) for s in starts])
    for i, s in enumerate(starts):
        scores = errors[bounds[i] : bounds[i + 1]].reshape(mask_of.shape[1], len(s)).mean(axis=1)
        scores = scores.reshape(n_permutations, n_feat + 1)
        drops = scores[:, :-1] - scores[:, 1:]  # drop when the k-th feature of the order is replaced
        np.add.at(out[i], perms[i].ravel(), drops.ravel())
    return out / n_permutations


def shapley_from_coalitions(scores: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the score drop from the scores of all ``2**C`` coalitions.

    Parameters
    ----------
    scores : ndarray, shape (n_steps, 2**C)
        Column ``k`` is the score with the players whose bits are set in ``k`` at baseline
        (column 0: the original, the last column: all players at baseline).

    Returns
    -------
    ndarray, shape (n_steps, C)
        ``phi[c]``: the mean over coalitions ``S`` without ``c`` (Shapley weights
        ``|S|! (C - |S| - 1)! / C!``) of ``score(S) - score(S + c)``; a row adds up to
        ``score(original) - score(all at baseline)``.

    Examples
    --------
    >>> shapley_from_coalitions(np.array([[3.0, 2.0, 0.0, -1.0]])).tolist()
    [[1.0, 3.0]]
    """
    scores = np.asarray(scores, dtype=float)
    n_players = int(np.log2(scores.shape[1]))
    if 2**n_players != scores.shape[1]:
        raise ValueError(f"expected 2**C coalition scores per step, got {scores.shape[1]}")
    coalitions = np.arange(2**n_players)
    size = np.array([bin(k).count("1") for k in coalitions])
    weight = np.array([factorial(m) * factorial(n_players - m - 1) / factorial(n_players) for m in range(n_players)])
    phi = np.zeros((scores.shape[0], n_players))
    for c in range(n_players):
        without = coalitions[(coalitions >> c) & 1 == 0]
        phi[:, c] = (scores[:, without] - scores[:, without | (1 << c)]) @ weight[size[without]]
    return phi


def attribute_shapley_groups(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    groups: list[list[int]] | None = None,
    chunk: int = 1024,
    max_groups: int = 8,
) -> np.ndarray:
    """Exact Shapley values over groups of features (default the model's clusters) of the score drop.

    Every one of the ``2**C`` coalitions of groups is put at baseline over the covering windows of
    every step, batched like :func:`attribute` (``2**C * window`` windows per step), and
    :func:`shapley_from_coalitions` combines the scores. Unlike :func:`attribute_shapley`, no
    sampling: the values are exact and the same on every run.

    Parameters
    ----------
    model, values, steps, baseline, chunk
        As in :func:`attribute`.
    groups : list of list of int, optional
        The players; default ``model.clusters``.
    max_groups : int
        Largest number of groups accepted (the cost doubles with each group).

    Returns
    -------
    ndarray, shape (len(steps), len(groups))
        A row adds up to ``score(original) - score(all groups at baseline)``.
    """
    groups = model.clusters if groups is None else groups
    if len(groups) > max_groups:
        raise ValueError(
            f"{len(groups)} groups need 2**{len(groups)} coalitions per step; at most {max_groups} "
            "are allowed (raise max_groups, or merge groups)"
        )
    masks = coalition_masks(groups, np.shape(values)[1])  # coalition k: the union of its groups
    return shapley_from_coalitions(_variant_scores(model, values, steps, baseline, masks, chunk))


def spread_groups(
    group_values: np.ndarray, groups: list[list[int]], n_features: int, within: np.ndarray | None = None
) -> np.ndarray:
    """Spread per-group values (e.g. group Shapley values) over the groups' features (each in exactly one group).

    Without ``within`` every feature gets its group's value (the features of a group tie; for a
    ranking of features by group). With ``within`` (e.g. single-feature deltas, shape
    (n_steps, n_features)) a group's value is split among its features in proportion to
    ``|within|`` (equal shares where all are zero), so a step's feature values add up to the sum
    of its group values.

    Examples
    --------
    >>> spread_groups(np.array([[2.0, 1.0]]), [[0, 2], [1]], 3).tolist()
    [[2.0, 1.0, 2.0]]
    >>> spread_groups(np.array([[2.0, 1.0]]), [[0, 2], [1]], 3, within=np.array([[-3.0, 5.0, 1.0]])).tolist()
    [[1.5, 1.0, 0.5]]
    """
    masks = _partition(groups, n_features)
    group_of = np.argmax(masks, axis=0)
    values = np.asarray(group_values, dtype=float)[:, group_of]
    if within is None:
        return values
    weight = np.abs(np.asarray(within, dtype=float))
    total = weight @ masks.T.astype(float)  # (n_steps, n_groups)
    share = np.where(
        total[:, group_of] > 0, weight / np.where(total > 0, total, 1.0)[:, group_of], 1.0 / masks.sum(axis=1)[group_of]
    )
    return values * share


def _check_by(by: str) -> str:
    """``by`` itself when it is one of :data:`RANK_BY`, else a ValueError."""
    if by not in RANK_BY:
        raise ValueError(f"unknown ranking {by!r}: expected one of {RANK_BY}")
    return by


def _rank_key(deltas: np.ndarray, by: str) -> np.ndarray:
    """What a ranking sorts by (largest first): the deltas or their absolute values."""
    return np.abs(deltas) if _check_by(by) == "abs" else deltas


def tidy(
    deltas: np.ndarray, time: pd.DatetimeIndex, event_id: np.ndarray, names: tuple[str, ...], by: str = "delta"
) -> pd.DataFrame:
    """Long table: time, event_id, feature, delta, rank (1 = largest delta at that step).

    With ``by="abs"`` the rank is that of ``|delta|`` (a feature whose replacement changes the
    score a lot in either direction ranks high); the ``delta`` column keeps its sign.

    Examples
    --------
    >>> t = pd.DatetimeIndex(["2000-06-01"])
    >>> tidy(np.array([[0.1, 0.5]]), t, np.array([3]), ("a", "b"))[["feature", "rank"]].values.tolist()
    [['b', 1], ['a', 2]]
    >>> tidy(np.array([[-0.7, 0.5]]), t, np.array([3]), ("a", "b"), by="abs")[
    ...     ["feature", "delta", "rank"]
    ... ].values.tolist()
    [['a', -0.7, 1], ['b', 0.5, 2]]
    """
    n_steps, n_feat = deltas.shape
    order = np.argsort(-_rank_key(deltas, by), axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(n_steps)[:, None], order] = np.arange(1, n_feat + 1)
    table = pd.DataFrame(
        {
            "time": np.repeat(pd.DatetimeIndex(time), n_feat),
            "event_id": np.repeat(np.asarray(event_id), n_feat),
            "feature": np.tile(np.asarray(names, dtype=object), n_steps),
            "delta": deltas.ravel(),
            "rank": ranks.ravel(),
        }
    )
    return table.sort_values(["time", "rank"], kind="stable").reset_index(drop=True)


def event_ranking(table: pd.DataFrame, by: str = "delta") -> pd.DataFrame:
    """Mean delta per event and feature, ranked within each event (1 = top driver).

    With ``by="abs"`` the ranking is by the mean of ``|delta|`` over the event's steps, given in an
    extra column ``abs_delta``; ``delta`` stays the mean signed delta.
    """
    key = "abs_delta" if _check_by(by) == "abs" else "delta"
    grouped = table.assign(abs_delta=table["delta"].abs()).groupby(["event_id", "feature"], sort=True)
    ev = grouped[list(dict.fromkeys(["delta", key]))].mean().reset_index()
    ev["rank"] = ev.groupby("event_id")[key].rank(ascending=False, method="first").astype(int)
    return ev.sort_values(["event_id", "rank"]).reset_index(drop=True)


def overall_ranking(
    table: pd.DataFrame, n_boot: int = 1000, random_state: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Mean delta per feature over all explained steps with a bootstrap confidence interval.

    Steps are resampled with replacement (seeded), so the interval reflects the spread over anomalies.

    Returns
    -------
    pandas.DataFrame
        Columns feature, mean_delta, ci_low, ci_high, top1_share (share of steps where the feature
        ranks first), rank; sorted by rank.
    """
    wide = table.pivot(index="time", columns="feature", values="delta")
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(wide), size=(n_boot, len(wide)))
    boot = wide.to_numpy()[idx].mean(axis=1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    top1 = table[table["rank"] == 1]["feature"].value_counts(normalize=True)
    out = pd.DataFrame({"feature": wide.columns, "mean_delta": wide.mean().to_numpy(), "ci_low": lo, "ci_high": hi})
    out["top1_share"] = out["feature"].map(top1).fillna(0.0)
    out = out.sort_values("mean_delta", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def top_k_stability(a: pd.DataFrame, b: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Per event: Jaccard index of the top-``k`` features and Kendall tau of the full rankings.

    ``a`` and ``b`` are :func:`event_ranking` tables of the same events under two baselines.
    """
    rows = []
    for event_id, ga in a.groupby("event_id"):
        gb = b[b["event_id"] == event_id]
        if gb.empty:
            continue
        ta = set(ga.nsmallest(k, "rank")["feature"])
        tb = set(gb.nsmallest(k, "rank")["feature"])
        merged = ga.merge(gb, on="feature", suffixes=("_a", "_b"))
        tau = kendalltau(merged["rank_a"], merged["rank_b"]).statistic
        rows.append(
            {
                "event_id": event_id,
                "jaccard_top": len(ta & tb) / len(ta | tb),
                "kendall_tau": float(tau),
                "same_top1": ga.loc[ga["rank"].idxmin(), "feature"] == gb.loc[gb["rank"].idxmin(), "feature"],
            }
        )
    return pd.DataFrame(rows)


def _matched_truth(
    ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame
) -> list[tuple[int, int, pd.Series]]:
    """(detected id, injected id, truth row) of each ranked detected event overlapping an injected one (the first)."""
    drivers = truth.set_index("event_id")
    ranked = set(ranking["event_id"])
    out = []
    for ev in events.itertuples():
        ids = [int(i) for i in str(ev.reference_ids).split(";") if i not in ("", "nan")]
        if ids and ev.event_id in ranked:
            out.append((ev.event_id, ids[0], drivers.loc[ids[0]]))
    return out


def _true_drivers(row: pd.Series, dataset: str) -> set[str]:
    """The injected event's drivers under the names of ``dataset``."""
    return {driver_name(d, dataset) for d in str(row["drivers"]).split(";")}


def driver_check(
    ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame | NotAvailable, k: int = 3, dataset: str = "era5"
) -> pd.DataFrame | NotAvailable:
    """Compare each detected event's attributed ranking with the true drivers of the injected event it overlaps.

    Parameters
    ----------
    ranking : pandas.DataFrame
        :func:`event_ranking` output.
    events : pandas.DataFrame
        Detected events with ``reference_ids`` (see :func:`clvlib.method.detection.match_events`).
    truth : pandas.DataFrame
        Injected events with ``event_id``, ``type`` and ``drivers`` (``;``-separated ERA5 names).
    k : int
        Size of the top set.
    dataset : str
        Data set of the ranking; drivers are renamed to its variables
        (:func:`clvlib.variables.driver_name`, e.g. ``fal`` is ``albedo`` in GEMB).

    Returns
    -------
    pandas.DataFrame
        One row per detected event that overlaps an injected one (the first, if several): event_id,
        truth_id, type, drivers, top1, top_k, top1_is_driver, driver_in_top_k.
    """
    if isinstance(truth, NotAvailable):
        return truth
    rows = []
    for event_id, truth_id, true in _matched_truth(ranking, events, truth):
        true_set = _true_drivers(true, dataset)
        top = ranking[ranking["event_id"] == event_id].nsmallest(k, "rank")["feature"].tolist()
        rows.append(
            {
                "event_id": event_id,
                "truth_id": truth_id,
                "type": true["type"],
                "drivers": ";".join(sorted(true_set)),
                "top1": top[0],
                f"top{k}": ";".join(top),
                "top1_is_driver": top[0] in true_set,
                f"driver_in_top{k}": bool(true_set & set(top)),
            }
        )
    return pd.DataFrame(rows)


def driver_accuracy(check: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Top-1 and top-``k`` driver accuracy per event type and overall (row ``all``)."""

    def summary(group: pd.DataFrame, name: str) -> dict:
        return {
            "type": name,
            "n_events": len(group),
            "top1_accuracy": float(group["top1_is_driver"].mean()),
            f"top{k}_accuracy": float(group[f"driver_in_top{k}"].mean()),
        }

    rows = [summary(g, str(t)) for t, g in check.groupby("type")] + [summary(check, "all")]
    return pd.DataFrame(rows)


def candidate_drivers(dataset: str, names: tuple[str, ...] | list[str] | None = None) -> tuple[str, ...]:
    """Variables the generator perturbs directly: the drivers of every event type, under the names of ``dataset``.

    The synthetic events (:data:`clvlib.variables.CANDIDATE_DRIVERS`) shift forcing variables; fluxes,
    skin temperature, melt and albedo respond to them (except the dark-surface event, which sets the
    albedo itself). ``fal`` is ``albedo`` and ``sshf`` is ``shf`` in GEMB (:func:`clvlib.variables.driver_name`).

    Parameters
    ----------
    dataset : str
        Data set whose variable names are used.
    names : sequence of str, optional
        The features at hand: only the candidates among them are returned, in their order.

    Examples
    --------
    >>> candidate_drivers("era5")
    ('t2m', 'd2m', 'strd', 'ssrd', 'tcc', 'u10', 'sshf', 'tp', 'fal')
    >>> candidate_drivers("gemb", ("melt", "albedo", "t2m", "shf", "netSW"))
    ('albedo', 't2m', 'shf')
    """
    union = tuple(driver_name(d, dataset) for d in CANDIDATE_DRIVERS)
    return union if names is None else tuple(n for n in names if n in union)


def _candidate_row(order: list[str], true_set: set[str], candidates: set[str], k: int) -> dict:
    """Top-1/top-``k`` among ``candidates`` of one event's feature ``order`` (best first).

    The row also says whether a response leads.
    """
    among = [f for f in order if f in candidates][:k]
    first_driver = min((i for i, f in enumerate(order) if f in true_set), default=len(order))
    first_response = min((i for i, f in enumerate(order) if f not in candidates), default=len(order))
    return {
        "top1": among[0] if among else "",
        f"top{k}": ";".join(among),
        "top1_is_driver": bool(among) and among[0] in true_set,
        f"driver_in_top{k}": bool(true_set & set(among)),
        "driver_rank": first_driver + 1 if first_driver < len(order) else np.nan,
        "response_first": first_response < first_driver,
    }


def candidate_driver_check(
    ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame, names: tuple[str, ...], dataset: str, k: int = 3
) -> pd.DataFrame:
    """:func:`driver_check` with the ranking restricted to candidate drivers, and whether a response variable leads.

    A response variable is a ranked feature that is not a candidate driver (:func:`candidate_drivers`
    of ``names``): a flux, skin temperature, melt or albedo that moves *because* of the forcing.
    Ranking one first is not wrong about the model, but it does not name the cause, so the top-1
    and top-``k`` are taken among candidates only, and ``response_first`` says whether a response
    variable outranks every true driver in the full ranking.

    Parameters
    ----------
    ranking, events, truth, k
        As in :func:`driver_check`.
    names : tuple of str
        The data set's features.
    dataset : str
        Data set of the ranking (names of the drivers).

    Returns
    -------
    pandas.DataFrame
        One row per detected event that overlaps an injected one: event_id, truth_id, type, drivers,
        top1 and top_k (among candidates), top1_is_driver, driver_in_top_k, driver_rank (rank of the
        best true driver in the full ranking, NaN if none is ranked) and response_first.
    """
    candidates = set(candidate_drivers(dataset, names))
    rows = []
    for event_id, truth_id, true in _matched_truth(ranking, events, truth):
        true_set = _true_drivers(true, dataset)
        order = ranking[ranking["event_id"] == event_id].sort_values("rank", kind="stable")["feature"].tolist()
        rows.append(
            {
                "event_id": event_id,
                "truth_id": truth_id,
                "type": true["type"],
                "drivers": ";".join(sorted(true_set)),
                **_candidate_row(order, true_set, candidates, k),
            }
        )
    return pd.DataFrame(rows)


def candidate_driver_accuracy(check: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Accuracy among candidates per event type and overall (row ``all``).

    Columns: n_events, top-1/top-``k`` accuracy among candidates, response_first_share.
    """
    columns = {
        "top1_accuracy": "top1_is_driver",
        f"top{k}_accuracy": f"driver_in_top{k}",
        "response_first_share": "response_first",
    }

    def summary(group: pd.DataFrame, name: str) -> dict:
        return {
            "type": name,
            "n_events": len(group),
            **{out: float(group[col].astype(float).mean()) if len(group) else np.nan for out, col in columns.items()},
        }

    rows = [summary(g, str(t)) for t, g in check.groupby("type")] if len(check) else []
    return pd.DataFrame(rows + [summary(check, "all")])


def ranking_agreement(a: pd.Series, b: pd.Series, ks: tuple[int, ...] = (3, 5)) -> dict:
    """Kendall tau and top-k overlap of two rankings given as ``feature -> rank`` (1 = top).

    Examples
    --------
    >>> a = pd.Series({"x": 1, "y": 2, "z": 3, "w": 4})
    >>> ranking_agreement(a, a, ks=(2,))
    {'kendall_tau': 1.0, 'top2_overlap': 1.0}
    """
    common = a.index.intersection(b.index)
    tau = kendalltau(a[common], b[common]).statistic
    out = {"kendall_tau": float(tau)}
    for k in ks:
        out[f"top{k}_overlap"] = len(set(a.nsmallest(k).index) & set(b.nsmallest(k).index)) / k
    return out


def counterfactual_scores(
    model: ClusterLSTMVAE, values: np.ndarray, lo: int, hi: int, feature: int, baseline: np.ndarray
) -> np.ndarray:
    """Score of every step when ``feature`` is replaced by ``baseline`` over steps ``lo..hi-1`` (for figures)."""
    cf = np.asarray(values, dtype=np.float32).copy()
    cf[lo:hi, feature] = baseline[lo:hi, feature]
    return model.decision_function(cf)


def baseline_stability(
    tables: dict[str, pd.DataFrame], reference: str = "median", k: int = 3, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stability of the rankings between the ``reference`` baseline and every other one.

    Parameters
    ----------
    tables : dict
        Baseline name -> :func:`tidy` table of the same steps.

    Returns
    -------
    summary : pandas.DataFrame
        One row per alternative: mean top-``k`` Jaccard and median Kendall tau over events, share
        of events with the same top-1, and the agreement of the overall rankings.
    per_event : pandas.DataFrame
        :func:`top_k_stability` rows of every alternative.
    """
    overall = {
        kind: overall_ranking(t, n_boot=200, random_state=random_state).set_index("feature")["rank"]
        for kind, t in tables.items()
    }
    ref_events = event_ranking(tables[reference])
    rows, per_event = [], []
    for kind, table in tables.items():
        if kind == reference:
            continue
        stab = top_k_stability(ref_events, event_ranking(table), k=k)
        per_event.append(stab.assign(alternative=kind))
        agree = ranking_agreement(overall[reference], overall[kind], ks=(k,))
        rows.append(
            {
                "baseline": reference,
                "alternative": kind,
                "n_events": len(stab),
                f"mean_jaccard_top{k}": stab["jaccard_top"].mean(),
                "median_kendall_tau": stab["kendall_tau"].median(),
                "same_top1_share": stab["same_top1"].mean(),
                "overall_kendall_tau": agree["kendall_tau"],
                f"overall_top{k}_overlap": agree[f"top{k}_overlap"],
            }
        )
    return pd.DataFrame(rows), pd.concat(per_event, ignore_index=True)


def held_out_consistency(
    table: pd.DataFrame, test_year: int, n_features: int, n_boot: int = 200, random_state: int = 0
) -> pd.DataFrame:
    """Data-set rankings of the held-out year's anomalies against the training years' (one row).

    ``table`` is :func:`tidy` of every explained step. Columns: test_year, n_test_steps,
    n_train_steps, the :func:`ranking_agreement` of the two :func:`overall_ranking` rankings
    (kendall_tau, top3_overlap, top5_overlap) and each side's top 3; the agreement is NaN and the
    tops empty when the held-out year has no anomalous step. Values rounded to 4 decimals.

    Examples
    --------
    >>> t = pd.DatetimeIndex(["2019-06-01", "2020-06-01", "2021-06-01"])
    >>> deltas = np.array([[1.0, 0.5, 0.1], [0.9, 0.4, 0.2], [0.1, 0.2, 0.8]])
    >>> tab = tidy(deltas, t, np.array([1, 2, 3]), ("a", "b", "c"))
    >>> row = held_out_consistency(tab, 2021, 3).iloc[0]
    >>> print(row.n_test_steps, row.n_train_steps, row.train_top3, row.test_top3)
    1 2 a;b;c c;b;a
    >>> row = held_out_consistency(tab, 2022, 3).iloc[0]
    >>> print(row.n_test_steps, row.kendall_tau, repr(row.test_top3))
    0 nan ''
    """
    is_test = table["time"].dt.year == test_year
    row = {"test_year": test_year, "n_test_steps": int(is_test.sum() / n_features)}
    row["n_train_steps"] = int((~is_test).sum() / n_features)
    if not is_test.any():
        nan = dict.fromkeys(("kendall_tau", "top3_overlap", "top5_overlap"), np.nan)
        return pd.DataFrame([{**row, **nan, "train_top3": "", "test_top3": ""}])
    train_rank = overall_ranking(table[~is_test], n_boot=n_boot, random_state=random_state)
    test_rank = overall_ranking(table[is_test], n_boot=n_boot, random_state=random_state)
    agree = ranking_agreement(train_rank.set_index("feature")["rank"], test_rank.set_index("feature")["rank"])
    tops = {"train_top3": ";".join(train_rank["feature"][:3]), "test_top3": ";".join(test_rank["feature"][:3])}
    return pd.DataFrame([{**row, **agree, **tops}]).round(4)
