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
This module also ranks the deltas (:func:`tidy`, :func:`event_ranking`, :func:`overall_ranking`) and
measures how stable the rankings are (:func:`baseline_stability`, :func:`held_out_consistency`,
:func:`top_k_stability`, :func:`ranking_agreement`).

Alternatives for correlated drivers (single-feature occlusion can give a feature that is anomalous
together with its correlated partners a *negative* delta): ranking by ``|delta|`` (``by="abs"`` in
:func:`tidy` and :func:`event_ranking`), and the Shapley and cluster-first attributions of
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
from scipy.stats import kendalltau

from clvlib.method.model import ClusterLSTMVAE, sliding_windows
from clvlib.variables import catalogue, variable_role

__all__ = [
    "attribute",
    "attribute_groups",
    "baseline_stability",
    "BASELINE_TEXT",
    "baseline_values",
    "BASELINES",
    "coalition_masks",
    "counterfactual_scores",
    "covering_starts",
    "event_counterfactuals",
    "event_ranking",
    "event_table",
    "group_masks",
    "held_out_consistency",
    "occlusion_scores",
    "overall_ranking",
    "partition",
    "RANK_BY",
    "rank_key",
    "ranking_agreement",
    "row_scores",
    "tidy",
    "top_k_stability",
    "variant_scores",
    "with_roles",
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


def _check_by(by: str) -> str:
    """``by`` itself when it is one of :data:`RANK_BY`, else a ValueError."""
    if by not in RANK_BY:
        raise ValueError(f"unknown ranking {by!r}: expected one of {RANK_BY}")
    return by


def rank_key(deltas: np.ndarray, by: str) -> np.ndarray:
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
    order = np.argsort(-rank_key(deltas, by), axis=1, kind="stable")
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


def event_table(events: pd.DataFrame, ranking: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """One row per event, strongest first: dates, peak, size, its top ``k`` forcing drivers and its top response.

    ``ranking`` is :func:`event_ranking`; forcing and responses are ranked apart
    (:func:`clvlib.variables.variable_role`: the surface's temperature, fluxes, albedo and melt respond
    to the weather, so they are not its drivers), a variable the catalogue does not know counts as forcing.

    Examples
    --------
    >>> events = pd.DataFrame({"event_id": [1, 2], "start": ["2001-06-01", "2001-07-01"],
    ...                        "end": ["2001-06-05", "2001-07-10"], "peak_score": [3.0, 5.0], "n_steps": [1, 2]})
    >>> ranking = pd.DataFrame({"event_id": [1, 1, 2, 2], "feature": ["smlt", "t2m", "tcc", "skt"],
    ...                         "delta": [2.0, 1.0, 4.0, 3.0], "rank": [1, 2, 1, 2]})
    >>> event_table(events, ranking, k=2)[["event_id", "forcing_1", "forcing_2", "top_response"]].values.tolist()
    [[2, 'tcc', '', 'skt'], [1, 't2m', '', 'smlt']]
    """
    rows = []
    for ev in events.itertuples(index=False):
        ranked = ranking[ranking["event_id"] == ev.event_id].sort_values("rank")["feature"].tolist()
        forcing = [f for f in ranked if variable_role(f) != "response"][:k]
        responses = [f for f in ranked if variable_role(f) == "response"]
        row = ev._asdict()
        row.update({f"forcing_{i + 1}": (forcing[i] if i < len(forcing) else "") for i in range(k)})
        row["top_response"] = responses[0] if responses else ""
        rows.append(row)
    return pd.DataFrame(rows).sort_values("peak_score", ascending=False, kind="stable").reset_index(drop=True)


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


def with_roles(table: pd.DataFrame, column: str = "feature") -> pd.DataFrame:
    """``table`` with each variable's role (forcing, response, own) and long name beside its code.

    A ranking that mixes the weather with the surface's response to it is read correctly only when the
    two are told apart (:func:`clvlib.variables.variable_role`); the columns go right after ``column``.

    Examples
    --------
    >>> with_roles(pd.DataFrame({"feature": ["smlt", "t2m", "nao"], "rank": [1, 2, 3]})).values.tolist()
    [['smlt', 'response', 'Snowmelt', 1], ['t2m', 'forcing', '2 metre temperature', 2], ['nao', 'own', '', 3]]
    """
    known = catalogue()
    at = list(table.columns).index(column) + 1
    out = table.copy()
    out.insert(at, "role", out[column].map(variable_role))
    out.insert(at + 1, "long_name", out[column].map(lambda f: known[f].long_name if f in known else ""))
    return out
