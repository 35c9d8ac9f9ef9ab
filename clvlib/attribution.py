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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau

from clvlib.model import ClusterLSTMVAE, _windows
from clvlib.variables import driver_name

BASELINES: tuple[str, ...] = ("median", "zero", "climatology")


def baseline_values(values: np.ndarray, time: pd.DatetimeIndex, kind: str, step_of_year: np.ndarray | None = None,
                    is_train: np.ndarray | None = None) -> np.ndarray:
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


@torch.no_grad()
def attribute(model: ClusterLSTMVAE, values: np.ndarray, steps: np.ndarray, baseline: np.ndarray,
              chunk: int = 8192) -> np.ndarray:
    """Counterfactual deltas of every feature at every step in ``steps``, batched.

    Only the windows that cover an explained step are run: for each step, its (at most
    ``window``) covering windows as they are, and once more with each feature replaced by its
    baseline, all stacked into batches of ``chunk`` windows.

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
    x = np.asarray(values, dtype=np.float32)
    n, n_feat = x.shape
    w = model.config.window
    win = _windows(x, w)
    base_win = _windows(np.asarray(baseline, dtype=np.float32), w)
    steps = np.asarray(steps, dtype=int)
    # one row per (step, variant, covering window); variant n_feat = no replacement (the original)
    n_var = n_feat + 1
    group, feat, start, pos = [], [], [], []
    for i, t in enumerate(steps):
        starts = _covering_starts(int(t), n, w)
        variants = np.repeat(np.arange(n_var), starts.size)
        group.append(i * n_var + variants)
        feat.append(variants)
        start.append(np.tile(starts, n_var))
        pos.append(np.tile(t - starts, n_var))
    group, feat, start, pos = (np.concatenate(a) for a in (group, feat, start, pos))
    errors = np.empty(group.size)
    dev = model._device()
    model.net_.eval()
    for lo in range(0, group.size, chunk):
        sl = slice(lo, lo + chunk)
        batch = torch.from_numpy(win[start[sl]])
        replace = np.flatnonzero(feat[sl] < n_feat)
        if replace.size:
            f = feat[sl][replace]
            batch[torch.from_numpy(replace)[:, None], torch.arange(w)[None, :], torch.from_numpy(f)[:, None]] = \
                torch.from_numpy(base_win[start[sl][replace], :, f])
        recon, _, _ = model.net_(batch.to(dev), sample=False)
        rows, p = torch.arange(batch.shape[0]), torch.from_numpy(pos[sl])
        errors[sl] = ((recon.cpu()[rows, p] - batch[rows, p]) ** 2).numpy().astype(np.float64).mean(axis=1)
    size = len(steps) * n_var
    mean = (np.bincount(group, weights=errors, minlength=size) / np.bincount(group, minlength=size)).reshape(len(steps), n_var)
    return mean[:, [n_feat]] - mean[:, :n_feat]


@torch.no_grad()
def attribute_looped(model: ClusterLSTMVAE, values: np.ndarray, steps: np.ndarray, baseline: np.ndarray,
                     local: bool = False) -> np.ndarray:
    """Reference implementation of :func:`attribute`: a Python loop over (step, feature) pairs.

    For each pair the counterfactual series is built and rescored with :meth:`ClusterLSTMVAE.score`:
    the whole series (``local=False``, the plain approach), or only the steps whose windows can
    cover the explained step (``local=True``).
    """
    x = np.asarray(values, dtype=np.float32)
    n, n_feat = x.shape
    w = model.config.window
    out = np.zeros((len(steps), n_feat))
    for i, t in enumerate(np.asarray(steps, dtype=int)):
        lo, hi = (max(0, t - w + 1), min(n, t + w)) if local else (0, n)
        segment = x[lo:hi]
        original = model.feature_errors(segment)[t - lo].mean()
        for f in range(n_feat):
            cf = segment.copy()
            cf[max(0, t - w + 1) - lo:min(n, t + w) - lo, f] = baseline[max(0, t - w + 1):min(n, t + w), f]
            out[i, f] = original - model.feature_errors(cf)[t - lo].mean()
    return out


@torch.no_grad()
def _masked_scores(model: ClusterLSTMVAE, win: np.ndarray, base_win: np.ndarray, t: int, n: int,
                   masks: np.ndarray) -> np.ndarray:
    """Score of step ``t`` for each replacement mask (shape (n_masks, n_features), True = baseline)."""
    w = model.config.window
    starts = _covering_starts(t, n, w)
    original = torch.from_numpy(win[starts])[None]
    base = torch.from_numpy(base_win[starts])[None]
    batch = torch.where(torch.from_numpy(masks)[:, None, None, :], base, original).reshape(-1, w, win.shape[2])
    recon, _, _ = model.net_(batch.to(model._device()), sample=False)
    rows, pos = torch.arange(batch.shape[0]), torch.from_numpy(np.tile(t - starts, len(masks)))
    err = ((recon.cpu()[rows, pos] - batch[rows, pos]) ** 2).mean(dim=1).reshape(len(masks), len(starts))
    return err.numpy().astype(np.float64).mean(axis=1)


@torch.no_grad()
def attribute_shapley(model: ClusterLSTMVAE, values: np.ndarray, steps: np.ndarray, baseline: np.ndarray,
                      n_permutations: int = 8, random_state: int = 0) -> np.ndarray:
    """Shapley values of the score drop, estimated by permutation sampling (an alternative to occlusion).

    Single-feature occlusion (:func:`attribute`) can give a *negative* delta to a feature that is
    anomalous together with correlated features: replacing it alone makes the input inconsistent
    and the error grows. Shapley values average a feature's marginal score drop over random orders
    in which the features are replaced by their baselines, so correlated drivers share their joint
    effect. For each step, every prefix of ``n_permutations`` random orders is scored in one batch.
    The values of a step add up exactly to ``score(original) - score(all features at baseline)``.

    Returns
    -------
    ndarray, shape (len(steps), n_features)
    """
    x = np.asarray(values, dtype=np.float32)
    n, n_feat = x.shape
    model.net_.eval()
    win, base_win = _windows(x, model.config.window), _windows(np.asarray(baseline, dtype=np.float32), model.config.window)
    rng = np.random.default_rng(random_state)
    prefix = np.tril(np.ones((n_feat + 1, n_feat), dtype=bool), k=-1)  # row k: the first k features replaced
    out = np.zeros((len(steps), n_feat))
    for i, t in enumerate(np.asarray(steps, dtype=int)):
        perms = np.array([rng.permutation(n_feat) for _ in range(n_permutations)])
        masks = np.zeros((n_permutations, n_feat + 1, n_feat), dtype=bool)
        for p, perm in enumerate(perms):
            masks[p][:, perm] = prefix
        s = _masked_scores(model, win, base_win, int(t), n, masks.reshape(-1, n_feat)).reshape(n_permutations, n_feat + 1)
        drops = s[:, :-1] - s[:, 1:]  # drop when the k-th feature of the order is replaced
        np.add.at(out[i], perms.ravel(), drops.ravel())
    return out / n_permutations


def tidy(deltas: np.ndarray, time: pd.DatetimeIndex, event_id: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    """Long table: time, event_id, feature, delta, rank (1 = largest delta at that step).

    Examples
    --------
    >>> t = pd.DatetimeIndex(["2000-06-01"])
    >>> tidy(np.array([[0.1, 0.5]]), t, np.array([3]), ("a", "b"))[["feature", "rank"]].values.tolist()
    [['b', 1], ['a', 2]]
    """
    n_steps, n_feat = deltas.shape
    order = np.argsort(-deltas, axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(n_steps)[:, None], order] = np.arange(1, n_feat + 1)
    table = pd.DataFrame({
        "time": np.repeat(pd.DatetimeIndex(time), n_feat),
        "event_id": np.repeat(np.asarray(event_id), n_feat),
        "feature": np.tile(np.asarray(names, dtype=object), n_steps),
        "delta": deltas.ravel(),
        "rank": ranks.ravel(),
    })
    return table.sort_values(["time", "rank"], kind="stable").reset_index(drop=True)


def event_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Mean delta per event and feature, ranked within each event (1 = top driver)."""
    ev = table.groupby(["event_id", "feature"], sort=True)["delta"].mean().reset_index()
    ev["rank"] = ev.groupby("event_id")["delta"].rank(ascending=False, method="first").astype(int)
    return ev.sort_values(["event_id", "rank"]).reset_index(drop=True)


def overall_ranking(table: pd.DataFrame, n_boot: int = 1000, random_state: int = 0, level: float = 0.95) -> pd.DataFrame:
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
        rows.append({"event_id": event_id, "jaccard_top": len(ta & tb) / len(ta | tb), "kendall_tau": float(tau),
                     "same_top1": ga.loc[ga["rank"].idxmin(), "feature"] == gb.loc[gb["rank"].idxmin(), "feature"]})
    return pd.DataFrame(rows)


def driver_check(ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame, k: int = 3,
                 dataset: str = "era5") -> pd.DataFrame:
    """Compare each detected event's attributed ranking with the true drivers of the injected event it overlaps.

    Parameters
    ----------
    ranking : pandas.DataFrame
        :func:`event_ranking` output.
    events : pandas.DataFrame
        Detected events with ``reference_ids`` (see :func:`clvlib.detection.match_events`).
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
    drivers = truth.set_index("event_id")
    rows = []
    for ev in events.itertuples():
        ids = [int(i) for i in str(ev.reference_ids).split(";") if i not in ("", "nan")]
        if not ids or ev.event_id not in set(ranking["event_id"]):
            continue
        true = drivers.loc[ids[0]]
        true_set = {driver_name(d, dataset) for d in str(true["drivers"]).split(";")}
        top = ranking[ranking["event_id"] == ev.event_id].nsmallest(k, "rank")["feature"].tolist()
        rows.append({"event_id": ev.event_id, "truth_id": ids[0], "type": true["type"], "drivers": ";".join(sorted(true_set)),
                     "top1": top[0], f"top{k}": ";".join(top), "top1_is_driver": top[0] in true_set,
                     f"driver_in_top{k}": bool(true_set & set(top))})
    return pd.DataFrame(rows)


def driver_accuracy(check: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Top-1 and top-``k`` driver accuracy per event type and overall (row ``all``)."""

    def summary(group: pd.DataFrame, name: str) -> dict:
        return {"type": name, "n_events": len(group), "top1_accuracy": float(group["top1_is_driver"].mean()),
                f"top{k}_accuracy": float(group[f"driver_in_top{k}"].mean())}

    rows = [summary(g, str(t)) for t, g in check.groupby("type")] + [summary(check, "all")]
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


def counterfactual_scores(model: ClusterLSTMVAE, values: np.ndarray, lo: int, hi: int, feature: int,
                          baseline: np.ndarray) -> np.ndarray:
    """Score of every step when ``feature`` is replaced by ``baseline`` over steps ``lo..hi-1`` (for figures)."""
    cf = np.asarray(values, dtype=np.float32).copy()
    cf[lo:hi, feature] = baseline[lo:hi, feature]
    return model.score(cf)


def baseline_stability(tables: dict[str, pd.DataFrame], reference: str = "median", k: int = 3,
                       random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    overall = {kind: overall_ranking(t, n_boot=200, random_state=random_state).set_index("feature")["rank"]
               for kind, t in tables.items()}
    ref_events = event_ranking(tables[reference])
    rows, per_event = [], []
    for kind, table in tables.items():
        if kind == reference:
            continue
        stab = top_k_stability(ref_events, event_ranking(table), k=k)
        per_event.append(stab.assign(alternative=kind))
        agree = ranking_agreement(overall[reference], overall[kind], ks=(k,))
        rows.append({"baseline": reference, "alternative": kind, "n_events": len(stab),
                     f"mean_jaccard_top{k}": stab["jaccard_top"].mean(), "median_kendall_tau": stab["kendall_tau"].median(),
                     "same_top1_share": stab["same_top1"].mean(), "overall_kendall_tau": agree["kendall_tau"],
                     f"overall_top{k}_overlap": agree[f"top{k}_overlap"]})
    return pd.DataFrame(rows), pd.concat(per_event, ignore_index=True)
