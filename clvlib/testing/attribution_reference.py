"""Plain references of the batched attributions, for the tests and the benchmark only.

:func:`attribute_looped` rebuilds each counterfactual series and rescores it with
:meth:`clvlib.method.model.ClusterLSTMVAE.decision_function`, one (step, feature) pair at a time: the
definition that :func:`clvlib.method.attribution.attribute` and
:func:`clvlib.method.attribution.attribute_groups` compute in batches.
:func:`attribute_counterfactual_looped` solves the counterfactual of one step at a time on its own
segment, the reference of :func:`clvlib.method.counterfactual.attribute_counterfactual`.
"""

from __future__ import annotations

import numpy as np
import torch

from clvlib.method.counterfactual import (
    Counterfactual,
    CounterfactualConfig,
    as_counterfactual,
    check_steps,
    solve_segments,
)
from clvlib.method.model import ClusterLSTMVAE

__all__ = ["DEFAULT_COUNTERFACTUAL", "attribute_counterfactual_looped", "attribute_looped"]

#: The default settings of :func:`clvlib.method.counterfactual.attribute_counterfactual` (frozen).
DEFAULT_COUNTERFACTUAL = CounterfactualConfig()


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


def attribute_counterfactual_looped(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    target: np.ndarray,
    config: CounterfactualConfig = DEFAULT_COUNTERFACTUAL,
) -> Counterfactual:
    """Reference for :func:`attribute_counterfactual`: one step at a time.

    Each step is solved on its segment cut from the series (unpadded).
    """
    x, w = np.asarray(values, dtype=np.float32), model.config.window
    steps, target = check_steps(x, steps, target, w)
    out = []
    for t, goal in zip(steps, target, strict=True):
        lo, hi = max(0, t - w + 1), min(len(x), t + w)  # every window inside [lo, hi) covers t
        change, score, original = solve_segments(
            model,
            x[None, lo:hi],
            np.ones((1, hi - lo), dtype=bool),
            np.ones((1, hi - lo - w + 1), dtype=bool),
            np.array([t - lo]),
            goal[None],
            config,
        )
        padded = np.zeros((2 * w - 1, x.shape[1]), dtype=np.float32)
        padded[lo - (t - w + 1) : hi - (t - w + 1)] = change[0]
        out.append((padded, score[0], original[0]))
    change, score, original = (np.array(a) for a in zip(*out, strict=True))
    return as_counterfactual(change, score, original, target)
