"""Rankings of attributions: per step, per event, per data set, and how stable they are.

The attributions (:mod:`clvlib.method.attribution` and its alternatives) give a value per anomalous step
and feature; :func:`tidy` ranks them per step, :func:`event_ranking` per event, :func:`overall_ranking`
over a data set (with a bootstrap interval), :func:`event_table` one row per event with its forcing
drivers and top response apart, :func:`with_roles` the role and long name beside each code. How
stable a ranking is: :func:`top_k_stability` and :func:`baseline_stability` (across baselines),
:func:`held_out_consistency` (the held-out year against the training years), :func:`ranking_agreement`
(two data-set rankings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from clvlib.variables import catalogue, variable_role

__all__ = [
    "RANK_BY",
    "baseline_stability",
    "event_ranking",
    "event_table",
    "held_out_consistency",
    "overall_ranking",
    "rank_key",
    "ranking_agreement",
    "tidy",
    "top_k_stability",
    "with_roles",
]

#: What a ranking sorts by: the signed delta (the paper) or its absolute value.
RANK_BY: tuple[str, ...] = ("delta", "abs")


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
    >>> event_table(events.iloc[:0], ranking).columns[-2:].tolist()
    ['forcing_3', 'top_response']
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
    columns = [*events.columns, *(f"forcing_{i + 1}" for i in range(k)), "top_response"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("peak_score", ascending=False, kind="stable").reset_index(drop=True)


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
    With a ``rank`` column, ``rank_in_role`` ranks the forcing variables among themselves and the
    responses among themselves (within each ``event_id`` when there is one).

    Examples
    --------
    >>> with_roles(pd.DataFrame({"feature": ["smlt", "t2m", "nao"], "rank": [1, 2, 3]})).values.tolist()
    [['smlt', 'response', 'Snowmelt', 1, 1], ['t2m', 'forcing', '2 metre temperature', 2, 1], ['nao', 'own', '', 3, 1]]
    """
    known = catalogue()
    at = list(table.columns).index(column) + 1
    out = table.copy()
    out.insert(at, "role", out[column].map(variable_role))
    out.insert(at + 1, "long_name", out[column].map(lambda f: known[f].long_name if f in known else ""))
    if "rank" in out:
        groups = [c for c in ("event_id",) if c in out] + ["role"]
        ranks = out.groupby(groups)["rank"].rank(method="min").astype(int)
        out.insert(list(out.columns).index("rank") + 1, "rank_in_role", ranks)
    return out
