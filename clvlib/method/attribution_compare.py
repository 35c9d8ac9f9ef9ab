"""The paper's attribution next to its alternatives, on the same anomalies, scored against the known drivers.

Every method explains the same anomalous steps of the same model and ranks the features per step
(:func:`clvlib.method.rankings.tidy`); events are ranked by the mean over their steps
(:func:`clvlib.method.rankings.event_ranking`). The methods (:data:`ATTRIBUTIONS`):

* ``occlusion (paper)``: single-feature occlusion with the yearly-median baseline, ranked by the
  signed delta (the paper's method); with another baseline it is labelled by that baseline
  (:func:`occlusion_label`), since it is then not the paper's;
* ``occlusion |delta|``: the same deltas ranked by their absolute value (a feature whose removal
  makes the window *less* consistent is also one the anomaly is about);
* ``cluster occlusion, then |delta|``: whole correlation clusters replaced together; the cluster
  with the largest drop comes first and its features are ordered by |delta|
  (:func:`clvlib.method.attribution_alternatives.attribute_hierarchical`);
* ``cluster Shapley, then |delta|``: the same two-level ranking with the clusters ordered by their
  exact Shapley values (:func:`clvlib.method.attribution_alternatives.attribute_shapley_groups`);
* ``Shapley (features)``: permutation-sampled Shapley values over features;
* ``counterfactual``: the smallest change to the window that brings the step under its threshold
  (:mod:`clvlib.method.counterfactual`), features ranked by the size of their change; computed at the
  peak step of each event only (it costs a gradient descent per step);
* ``score decomposition``: the exact split of the model's score over features, with no occlusion at
  all (:meth:`clvlib.method.model.ClusterLSTMVAE.feature_contributions`): each feature's own scaled
  squared error for the ``mse`` and ``standardized`` scores, ``r_f (P r)_f`` for the ``gaussian``
  score (a feature's error times its part of the whitened error, which can be negative);
* ``|za| (baseline)``: no model: features ranked by their distance from the seasonal normal, |za|,
  averaged over the event's steps. An attribution that cannot beat it has not used the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvlib.availability import NotAvailable
from clvlib.method.attribution import attribute, coalition_masks, occlusion_scores
from clvlib.method.attribution_alternatives import attribute_shapley, hierarchical_scores, shapley_from_coalitions
from clvlib.method.attribution_truth import candidate_driver_accuracy, candidate_driver_check
from clvlib.method.counterfactual import CounterfactualConfig, attribute_counterfactual
from clvlib.method.model import ClusterLSTMVAE
from clvlib.method.rankings import event_ranking, overall_ranking, tidy

__all__ = [
    "overall_accuracy",
    "top1_by_type",
    "occlusion_label",
    "ATTRIBUTIONS",
    "PAPER_ATTRIBUTION",
    "PIPELINE_COUNTERFACTUAL",
    "CompareConfig",
    "peak_steps",
    "compare_attributions",
    "method_ranking",
    "method_event_ranking",
    "attribution_truth",
]

PAPER_ATTRIBUTION = "occlusion (paper)"

#: The counterfactual's settings in the pipeline: 100 Adam steps at 0.1 instead of the module's 300
#: at 0.05 (about 1 s per event on one core; on a quick-profile build both gave the same top-1
#: and top-3 accuracy among candidate drivers).
PIPELINE_COUNTERFACTUAL = CounterfactualConfig(iterations=100, learning_rate=0.1)

#: The attribution methods compared, the paper's first.
ATTRIBUTIONS: tuple[str, ...] = (
    PAPER_ATTRIBUTION,
    "occlusion |delta|",
    "cluster occlusion, then |delta|",
    "cluster Shapley, then |delta|",
    "Shapley (features)",
    "counterfactual",
    "score decomposition",
    "|za| (baseline)",
)


@dataclass(frozen=True)
class CompareConfig:
    """Settings of the comparison.

    Attributes
    ----------
    methods : tuple of str
        Which of :data:`ATTRIBUTIONS` to compute.
    n_permutations : int
        Random orders per step of the feature Shapley values.
    random_state : int
        Seed of those orders.
    counterfactual : CounterfactualConfig
        Gradient-descent settings of the counterfactual.
    baseline : str
        Name of the occlusion baseline (one of :data:`clvlib.method.attribution.BASELINES`); it
        names the signed-delta occlusion in the results (:func:`occlusion_label`).
    """

    methods: tuple[str, ...] = ATTRIBUTIONS
    n_permutations: int = 6
    random_state: int = 0
    counterfactual: CounterfactualConfig = field(default_factory=lambda: PIPELINE_COUNTERFACTUAL)
    baseline: str = "median"

    def __post_init__(self) -> None:
        unknown = set(self.methods) - set(ATTRIBUTIONS)
        if unknown:
            raise ValueError(f"unknown attribution methods {sorted(unknown)}: expected some of {ATTRIBUTIONS}")


def peak_steps(steps: np.ndarray, event_of_step: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Positions in ``steps`` of the highest-scoring step of each event (first on ties), in event order.

    Examples
    --------
    >>> peak_steps(np.array([3, 4, 5, 9]), np.array([1, 1, 1, 2]), np.array([0, 0, 0, 1, 5, 2, 0, 0, 0, 1.0]))
    array([1, 3])
    """
    steps, event_of_step = np.asarray(steps), np.asarray(event_of_step)
    frame = pd.DataFrame({"pos": np.arange(len(steps)), "event": event_of_step, "score": np.asarray(score)[steps]})
    first = frame.sort_values(["event", "score", "pos"], ascending=[True, False, True], kind="stable")
    return first.drop_duplicates("event")["pos"].to_numpy()


def compare_attributions(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    baseline: np.ndarray,
    time: pd.DatetimeIndex,
    event_of_step: np.ndarray,
    names: tuple[str, ...],
    threshold: np.ndarray,
    config: CompareConfig = CompareConfig(),
    single: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """Per-step rankings of every method in ``config.methods`` (tidy tables, see the module docstring).

    Parameters
    ----------
    model : ClusterLSTMVAE
        Fitted model; its ``clusters`` are the groups.
    values, baseline : ndarray, shape (n_time, n_features)
        Model input and the occlusion baseline (the paper's yearly median).
    steps : ndarray of int
        Anomalous steps to explain.
    time : DatetimeIndex
        Start of every step of ``values``.
    event_of_step : ndarray of int
        Event id of each explained step.
    names : tuple of str
        Feature names.
    threshold : ndarray, shape (n_time,)
        Threshold of every step (the counterfactual's target).
    single : ndarray, shape (len(steps), n_features), optional
        The single-feature occlusion deltas (:func:`clvlib.method.attribution.attribute`) when already
        computed with the same model, steps and baseline.

    Returns
    -------
    dict of str to pandas.DataFrame
        Method name -> :func:`clvlib.method.rankings.tidy` table (the counterfactual's covers the event peaks only).
    """
    steps, event_of_step = np.asarray(steps, dtype=int), np.asarray(event_of_step)
    stamp = pd.DatetimeIndex(time)[steps]
    single = attribute(model, values, steps, baseline) if single is None else np.asarray(single)
    groups = model.clusters
    coalitions = np.zeros((len(steps), 2 ** len(groups)))
    if {"cluster occlusion, then |delta|", "cluster Shapley, then |delta|"} & set(config.methods):
        # one pass for all 2**C coalitions: coalition 0 is the original, 2**c is cluster c alone at baseline
        coalitions = occlusion_scores(model, values, steps, baseline, coalition_masks(groups, len(names)))
    cluster_deltas = coalitions[:, [0]] - coalitions[:, [2**c for c in range(len(groups))]]
    values_of = {
        PAPER_ATTRIBUTION: lambda: (single, "delta"),
        "occlusion |delta|": lambda: (single, "abs"),
        "cluster occlusion, then |delta|": lambda: (
            hierarchical_scores(cluster_deltas, single, groups, by="abs"),
            "delta",
        ),
        "cluster Shapley, then |delta|": lambda: (
            hierarchical_scores(shapley_from_coalitions(coalitions), single, groups, by="abs"),
            "delta",
        ),
        "Shapley (features)": lambda: (
            attribute_shapley(model, values, steps, baseline, config.n_permutations, random_state=config.random_state),
            "delta",
        ),
        # the score is a mean over features: each feature's share of it, exactly (no occlusion)
        "score decomposition": lambda: (model.feature_contributions(values)[steps], "delta"),
        # no model at all: the feature's distance from its seasonal normal (the trivial attribution)
        "|za| (baseline)": lambda: (np.abs(np.asarray(values, dtype=float)[steps]), "delta"),
    }
    tables = {}
    for method in config.methods:
        if method == "counterfactual":
            peaks = (
                peak_steps(steps, event_of_step, model.decision_function(values)) if len(steps) else np.array([], int)
            )
            result = attribute_counterfactual(
                model, values, steps[peaks], np.asarray(threshold)[steps[peaks]], config.counterfactual
            )
            tables[method] = tidy(result.change, stamp[peaks], event_of_step[peaks], names)
        else:
            deltas, by = values_of[method]()
            label = occlusion_label(config.baseline) if method == PAPER_ATTRIBUTION else method
            tables[label] = tidy(deltas, stamp, event_of_step, names, by=by)
    return tables


def occlusion_label(baseline: str) -> str:
    """Name of the signed-delta occlusion with ``baseline``: the paper's only with the yearly median.

    Examples
    --------
    >>> occlusion_label("median"), occlusion_label("zero")
    ('occlusion (paper)', 'occlusion (zero baseline)')
    """
    return PAPER_ATTRIBUTION if baseline == "median" else f"occlusion ({baseline} baseline)"


def method_ranking(table: pd.DataFrame, method: str, n_boot: int = 1000, random_state: int = 0) -> pd.DataFrame:
    """Data-set ranking of one method's tidy table, by |delta| for ``occlusion |delta|``.

    The ranking is that of :func:`clvlib.method.rankings.overall_ranking`.

    Examples
    --------
    >>> t = tidy(np.array([[-2.0, 1.0]]), pd.DatetimeIndex(["2000-06-01"]), np.array([1]), ("a", "b"))
    >>> method_ranking(t, "occlusion |delta|", n_boot=10)["feature"].tolist()
    ['a', 'b']
    >>> method_ranking(t, PAPER_ATTRIBUTION, n_boot=10)["feature"].tolist()
    ['b', 'a']
    """
    ranked = table.assign(delta=table["delta"].abs()) if method == "occlusion |delta|" else table
    return overall_ranking(ranked, n_boot=n_boot, random_state=random_state)


def method_event_ranking(table: pd.DataFrame, method: str) -> pd.DataFrame:
    """Per event ranking of one method's tidy table (:func:`clvlib.method.rankings.event_ranking`),
    by |delta| for ``occlusion |delta|``, as the ground-truth check ranks it.

    Examples
    --------
    >>> t = tidy(np.array([[-2.0, 1.0]]), pd.DatetimeIndex(["2000-06-01"]), np.array([1]), ("a", "b"))
    >>> by_size, by_sign = method_event_ranking(t, "occlusion |delta|"), method_event_ranking(t, "x")
    >>> by_size["feature"].tolist(), by_sign["feature"].tolist()
    (['a', 'b'], ['b', 'a'])
    """
    return event_ranking(table, by="abs" if method == "occlusion |delta|" else "delta")


def attribution_truth(
    tables: dict[str, pd.DataFrame],
    events: pd.DataFrame,
    truth: pd.DataFrame | NotAvailable,
    names: tuple[str, ...],
    dataset: str,
    k: int = 3,
    decimals: int | None = None,
) -> pd.DataFrame | NotAvailable:
    """Top-1 and top-``k`` accuracy among candidate drivers, and how often a response variable comes first, per method.

    Returns
    -------
    pandas.DataFrame or NotAvailable
        Columns method, type, n_events, top1_accuracy, top{k}_accuracy, response_first_share
        (:func:`clvlib.method.attribution_truth.candidate_driver_accuracy`), one block of rows per method;
        when the truth has several kinds of event, rows ``kind: <kind>`` follow each method's types;
        ``truth`` itself when the injected events are not available. Rounded to ``decimals`` when given.
    """
    if isinstance(truth, NotAvailable):
        return truth
    rows = []
    for method, table in tables.items():
        check = candidate_driver_check(method_event_ranking(table, method), events, truth, names, dataset, k=k)
        rows.append(candidate_driver_accuracy(check, k=k).assign(method=method))
        if "kind" in truth and truth["kind"].nunique() > 1:  # the synoptic world: rows per kind of event too
            kind_of = truth.drop_duplicates("type").set_index("type")["kind"]
            by_kind = candidate_driver_accuracy(check.assign(type="kind: " + check["type"].map(kind_of)), k=k)
            rows.append(by_kind[by_kind["type"] != "all"].assign(method=method))
    out = pd.concat(rows, ignore_index=True)
    out = out[["method", *[c for c in out.columns if c != "method"]]]
    return out if decimals is None else out.round(decimals)


def top1_by_type(accuracy: pd.DataFrame | NotAvailable) -> pd.DataFrame | NotAvailable:
    """Top-1 accuracy among candidate drivers: one row per event type, one column per method.

    Examples
    --------
    >>> acc = pd.DataFrame({"method": ["a", "a", "b", "b"], "type": ["all", "warm", "all", "warm"],
    ...                     "top1_accuracy": [0.5, 1.0, 0.25, 0.0]})
    >>> top1_by_type(acc).loc["all"].tolist()
    [0.5, 0.25]
    """
    if isinstance(accuracy, NotAvailable):
        return accuracy
    return accuracy.pivot(index="type", columns="method", values="top1_accuracy")


def overall_accuracy(accuracy: pd.DataFrame | NotAvailable) -> pd.DataFrame | NotAvailable:
    """The rows of :func:`attribution_truth` over every event type (``type == "all"``)."""
    if isinstance(accuracy, NotAvailable):
        return accuracy
    return accuracy[accuracy["type"] == "all"]
