"""The literal counterfactual: the smallest change to the input that makes an anomalous step normal.

For an explained step ``t`` with threshold ``target``, the change ``d`` to the segment of every
window that covers ``t`` (steps ``t - window + 1 .. t + window - 1``, all features) is found by
gradient descent on

    relu(score_t(x + d) - goal) / goal + penalty * |d|_1,    goal = (1 - margin) * target,

where ``score_t`` is the model's score of step ``t``: the mean over the covering windows of
:meth:`clvlib.method.model.ClusterLSTMVAE.residual_score` of the reconstruction errors at ``t``. The
relative hinge makes the penalty weight independent of the scale of the scores; the L1 penalty keeps the change on the
few features that matter (with ``norm="l2"``, the sum of squares instead). Adam starts from no
change and runs a fixed number of iterations, its learning rate falling from ``learning_rate`` to
zero on a cosine (so the L1 subgradient's oscillation of untouched inputs dies out); nothing is
random, so two runs give the same result bit for bit (on one device). Among the iterates that bring the score to
``goal`` or below, the one with the smallest penalty is kept (the plain last iterate oscillates
around the boundary). A feature's attribution is the size of its change, ``sum |d|`` over the
segment: the features the input has to move most to look normal.

The explained steps are optimized together in padded tensors of ``stack`` steps
(:func:`attribute_counterfactual`); the loss is a sum over steps and Adam works element by element,
so each step's problem is independent of the others; ``stack`` is a speed setting (stacks of 32
segments, about 500 windows, run fastest on a CPU core, their tensors probably staying in its caches) and
changes a result at most by float32 rounding in the backward pass (on the embedded default the
pipeline's counterfactuals are bit-identical with stacks of 32 and with all steps at once).
The model's own parameters are frozen during the descent, so the backward pass computes the
gradient of the change only.
:func:`attribute_counterfactual_looped` solves one step at a time on its unpadded segment and is
the reference the tests compare with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from clvlib.method.model import ClusterLSTMVAE

__all__ = [
    "NORMS",
    "Counterfactual",
    "CounterfactualConfig",
    "attribute_counterfactual",
    "check_steps",
    "solve_segments",
    "as_counterfactual",
]

#: Penalties on the change: the sum of absolute values or of squares.
NORMS: tuple[str, ...] = ("l1", "l2")


@dataclass(frozen=True)
class CounterfactualConfig:
    """Settings of the gradient descent (see the module docstring).

    Attributes
    ----------
    iterations : int
        Adam steps (fixed: no early stop, so batched and looped runs do the same work).
    learning_rate : float
        Adam's step size, in units of the (normalized) input.
    penalty : float
        Weight of the size of the change against the relative score excess. With L1, an input
        moves only while the excess falls faster per unit of it than ``penalty``; too large a
        weight leaves steps above their threshold (``reached`` False).
    norm : {"l1", "l2"}
        Size of the change in the loss.
    margin : float
        The score is brought to ``(1 - margin) * target``, slightly below the threshold.
    decay : bool
        Cosine decay of the learning rate to zero over the iterations (else constant).

    The defaults were chosen on small test models (normalized inputs, thresholds near the 90th
    percentile of the scores): they reach the threshold and leave untouched inputs at (near) zero.

    Examples
    --------
    >>> CounterfactualConfig(norm="l0")
    Traceback (most recent call last):
    ...
    ValueError: unknown norm 'l0': expected one of ('l1', 'l2')
    """

    iterations: int = 300
    learning_rate: float = 0.05
    penalty: float = 0.2
    norm: str = "l1"
    margin: float = 0.01
    decay: bool = True

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"unknown norm {self.norm!r}: expected one of {NORMS}")
        if self.iterations < 0 or self.learning_rate <= 0 or self.penalty < 0 or not 0 <= self.margin < 1:
            raise ValueError(
                "iterations >= 0, learning_rate > 0, penalty >= 0 and 0 <= margin < 1 are required, got "
                f"{self.iterations}, {self.learning_rate}, {self.penalty}, {self.margin}"
            )


@dataclass(frozen=True)
class Counterfactual:
    """Result of :func:`attribute_counterfactual` for ``n_steps`` explained steps.

    Attributes
    ----------
    change : ndarray, shape (n_steps, n_features)
        ``sum |d|`` over the segment of each feature: the attribution (larger = ranked higher).
    reached : ndarray of bool, shape (n_steps,)
        Whether the changed input scores at most ``target`` at the step.
    score : ndarray, shape (n_steps,)
        Score of the step with the change (float64, as :meth:`ClusterLSTMVAE.decision_function`).
    original : ndarray, shape (n_steps,)
        Score of the step without change.
    segment : ndarray, shape (n_steps, 2 * window - 1, n_features)
        The change ``d`` itself; row ``j`` is step ``t - window + 1 + j`` (zero outside the series).
    """

    change: np.ndarray
    reached: np.ndarray
    score: np.ndarray
    original: np.ndarray
    segment: np.ndarray


def _padded_segments(values: np.ndarray, steps: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments around each step, which of their rows lie inside the series, which windows exist.

    The segments have shape (n_steps, 2w - 1, F) and are zero outside the series.

    Window ``j`` of a segment starts at step ``t - w + 1 + j``; it exists (covers ``t`` inside
    the series) when that start is in ``0 .. n - w``.
    """
    n, w = len(values), window
    padded = np.pad(np.asarray(values, dtype=np.float32), ((w - 1, w - 1), (0, 0)))
    rows = steps[:, None] - (w - 1) + np.arange(2 * w - 1)[None, :]
    inside = (rows >= 0) & (rows < n)
    starts = rows[:, :w]
    return padded[rows + w - 1], inside, (starts >= 0) & (starts <= n - w)


def _segment_scores(
    model: ClusterLSTMVAE, x: torch.Tensor, valid: torch.Tensor, centre: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """Score of step ``centre[i]`` of each segment ``x[i]`` (S, L, F): the mean over its windows of the anomaly score.

    ``valid`` (S, L - w + 1) says which windows (window ``j`` starts at row ``j``) exist; each must
    cover the centre. The scores are computed in ``dtype`` (:meth:`ClusterLSTMVAE.residual_score`).
    """
    w = model.config.window
    windows = x.unfold(1, w, 1).transpose(2, 3)[valid]  # (n_valid, w, F)
    recon, _, _ = model.net_(windows, sample=False)
    cell, j = torch.nonzero(valid, as_tuple=True)
    rows, pos = torch.arange(len(windows), device=x.device), centre[cell] - j
    err = model.residual_score(windows[rows, pos] - recon[rows, pos], dtype)
    per_window = torch.zeros(valid.shape, dtype=dtype, device=x.device).masked_scatter(valid, err)  # no atomics
    return per_window.sum(dim=1) / valid.sum(dim=1).to(dtype)


def _size(change: torch.Tensor, norm: str) -> torch.Tensor:
    """Size of each step's change (S, ...): sum of absolute values (l1) or of squares (l2)."""
    flat = change.flatten(1)
    return flat.abs().sum(dim=1) if norm == "l1" else (flat**2).sum(dim=1)


def _descend(
    model: ClusterLSTMVAE,
    segment: torch.Tensor,
    inside: torch.Tensor,
    valid: torch.Tensor,
    centre: torch.Tensor,
    goal: torch.Tensor,
    config: CounterfactualConfig,
) -> torch.Tensor:
    """Adam on the change of every segment; the smallest change that reaches ``goal`` (else the last iterate)."""
    change = torch.zeros_like(segment, requires_grad=True)
    optimizer = torch.optim.Adam([change], lr=config.learning_rate)
    best_size = torch.full((len(segment),), torch.inf, device=segment.device)
    best = torch.zeros_like(segment)
    for iteration in range(config.iterations + 1):
        d = change * inside[..., None]
        score, size = _segment_scores(model, segment + d, valid, centre, torch.float32), _size(d, config.norm)
        better = (score.detach() <= goal) & (size.detach() < best_size)
        best[better] = d.detach()[better]
        best_size = torch.where(better, size.detach(), best_size)
        if iteration == config.iterations:
            break
        loss = (torch.relu(score - goal) / goal + config.penalty * size).sum()
        (change.grad,) = torch.autograd.grad(loss, change)
        if config.decay:
            cosine = 0.5 * (1.0 + np.cos(np.pi * iteration / config.iterations))
            optimizer.param_groups[0]["lr"] = config.learning_rate * cosine
        optimizer.step()
    return torch.where(torch.isfinite(best_size)[:, None, None], best, d.detach())


@contextmanager
def _frozen(net: torch.nn.Module) -> Iterator[None]:
    """Parameters of ``net`` without gradients inside the block (restored after it, also on an error)."""
    trainable = [p for p in net.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in trainable:
            p.requires_grad_(True)


def solve_segments(
    model: ClusterLSTMVAE,
    segment: np.ndarray,
    inside: np.ndarray,
    valid: np.ndarray,
    centre: np.ndarray,
    target: np.ndarray,
    config: CounterfactualConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change (S, L, F), changed and original float64 scores (S,) of a stack of segments.

    See :func:`_segment_scores`.
    """
    dev = model.torch_device()
    seg, ins, val, mid = (torch.as_tensor(a, device=dev) for a in (segment, inside, valid, centre))
    goal = torch.as_tensor(
        (1.0 - config.margin) * np.asarray(target, dtype=np.float64), dtype=torch.float32, device=dev
    )
    model.net_.eval()
    # cuDNN's LSTM has no backward pass in eval mode
    with torch.backends.cudnn.flags(enabled=False), _frozen(model.net_):
        change = _descend(model, seg, ins, val, mid, goal, config)
    with torch.no_grad():
        scores = [
            _segment_scores(model, seg + c, val, mid, torch.float64).cpu().numpy()
            for c in (change, torch.zeros_like(change))
        ]
    return change.cpu().numpy(), scores[0], scores[1]


def as_counterfactual(
    change: np.ndarray, score: np.ndarray, original: np.ndarray, target: np.ndarray
) -> Counterfactual:
    """Bundle a solution as a :class:`Counterfactual`."""
    return Counterfactual(
        change=np.abs(change).sum(axis=1).astype(np.float64),
        reached=score <= np.asarray(target),
        score=score,
        original=original,
        segment=change,
    )


def check_steps(
    values: np.ndarray, steps: np.ndarray, target: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Steps (int) and targets (float64) after checking them against the series, else a ValueError."""
    steps, target, n = np.asarray(steps, dtype=int).ravel(), np.asarray(target, dtype=np.float64).ravel(), len(values)
    if target.shape != steps.shape:
        raise ValueError(f"target must hold one value per step: {target.size} values for {steps.size} steps")
    if n < window or (steps.size and (steps.min() < 0 or steps.max() >= n)):
        raise ValueError(
            f"steps must lie in a series of at least window={window} steps: got steps "
            f"{steps.min() if steps.size else ''}..{steps.max() if steps.size else ''} of {n}"
        )
    return steps, target


def attribute_counterfactual(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    target: np.ndarray,
    config: CounterfactualConfig = CounterfactualConfig(),
    stack: int = 32,
) -> Counterfactual:
    """Smallest change of the covering segment that brings each step's score to its threshold, in stacks of steps.

    Parameters
    ----------
    model : ClusterLSTMVAE
        Fitted model.
    values : ndarray, shape (n_time, n_features)
        Model input.
    steps : ndarray of int
        Steps to explain.
    target : ndarray, shape (len(steps),)
        Score each step has to reach (its threshold).
    config : CounterfactualConfig
        Settings of the descent.
    stack : int
        Steps optimized together in one padded tensor (a speed setting: another value changes the
        result at most by float32 rounding).

    Returns
    -------
    Counterfactual
        ``change`` ranks the features (e.g. with :func:`clvlib.method.rankings.tidy`); ``reached``
        says where the threshold was met.
    """
    steps, target = check_steps(values, steps, target, model.config.window)
    w = model.config.window
    if stack < 1:
        raise ValueError(f"stack must be a positive number of steps, got {stack}")
    segment, inside, valid = _padded_segments(values, steps, w)
    centre = np.full(len(steps), w - 1)
    parts = [
        solve_segments(model, segment[sl], inside[sl], valid[sl], centre[sl], target[sl], config)
        for sl in (slice(lo, lo + stack) for lo in range(0, max(len(steps), 1), stack))
    ]
    return as_counterfactual(*(np.concatenate(a) for a in zip(*parts, strict=True)), target)
