"""Attributions for correlated drivers, beside the paper's single-feature occlusion.

Single-feature occlusion (:mod:`clvlib.method.attribution`) can give a feature that is anomalous
together with its correlated partners a *negative* delta. The alternatives here share or group
that joint effect, all with the same model score and baselines:

* occlusion of whole groups (the model's correlation clusters) and the feature ranking it implies:
  the top group first, then features by their own delta (:func:`hierarchical_scores`,
  :func:`attribute_hierarchical`);
* permutation-sampled Shapley values over features (:func:`attribute_shapley`);
* exact Shapley values over groups from all ``2**C`` coalitions (:func:`attribute_shapley_groups`,
  :func:`shapley_from_coalitions`), spread over each group's features (:func:`spread_groups`).

They are compared against the injected drivers in :mod:`clvlib.method.attribution_compare`.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import torch

from clvlib.method.attribution import (
    coalition_masks,
    covering_starts,
    partition,
    row_scores,
    variant_scores,
)
from clvlib.method.model import ClusterLSTMVAE, sliding_windows
from clvlib.method.rankings import rank_key

__all__ = [
    "attribute_hierarchical",
    "attribute_shapley",
    "attribute_shapley_groups",
    "hierarchical_scores",
    "shapley_from_coalitions",
    "spread_groups",
]


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
    group_of = np.argmax(partition(groups, n_feat), axis=0)
    group_rank = np.argsort(np.argsort(-np.asarray(group_deltas, dtype=float), axis=1, kind="stable"), axis=1)
    inner = rank_key(feature_deltas, by)
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
    masks = np.vstack([np.eye(n_feat, dtype=bool), partition(groups, n_feat), np.zeros((1, n_feat), dtype=bool)])
    scores = variant_scores(model, values, steps, baseline, masks, chunk)
    deltas = scores[:, [-1]] - scores[:, :-1]
    return hierarchical_scores(deltas[:, n_feat:], deltas[:, :n_feat], groups, by)


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
    batched together (:func:`row_scores`; the orders are drawn step after step from one generator
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
    starts = [covering_starts(int(t), n, w) for t in steps]
    rows: tuple[list, list, list] = ([], [], [])  # per step: mask-major, then the covering windows
    for m, s, t in zip(mask_of, starts, steps, strict=True):
        for part, a in zip(rows, (np.repeat(m, len(s)), np.tile(s, len(m)), np.tile(t - s, len(m))), strict=True):
            part.append(a)
    errors = row_scores(model, win, base_win, distinct, tuple(np.concatenate(r) for r in rows), chunk)
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
    return shapley_from_coalitions(variant_scores(model, values, steps, baseline, masks, chunk))


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
    masks = partition(groups, n_features)
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
