"""Small helpers shared by the benchmarks in ``bench/`` (timing, one thread, result rows, table).

Every benchmark exposes ``run(repeats) -> list[dict]``; each dict is one :func:`figure` row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["KEYS", "figure", "format_table", "seasonal_series", "timed", "torch_threads"]

KEYS: tuple[str, ...] = ("figure", "value", "unit", "reference", "reference_value", "ratio", "target")


def figure(
    name: str,
    value: float,
    unit: str,
    reference: str = "",
    reference_value: float | None = None,
    higher_is_better: bool = True,
    target: str | None = None,
) -> dict:
    """One result row; ``ratio`` > 1 means ours is better than the reference (faster, larger throughput).

    Examples
    --------
    >>> figure("speed", 30.0, "steps/s", "loop", 10.0, target=">= 2x")["ratio"]
    3.0
    >>> figure("time", 1.0, "s", "loop", 4.0, higher_is_better=False)["ratio"]
    4.0
    """
    ratio = None
    if reference_value is not None and reference_value > 0 and value > 0:
        ratio = float(value / reference_value if higher_is_better else reference_value / value)
    return {
        "figure": name,
        "value": float(value),
        "unit": unit,
        "reference": reference,
        "reference_value": None if reference_value is None else float(reference_value),
        "ratio": ratio,
        "target": target,
    }


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time in seconds of one call of ``fn`` and its result."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seasonal_series(n_time: int = 71 * 73, n_features: int = 17, seed: int = 0) -> np.ndarray:
    """Seeded stand-in for the standardized 5-day features: seasonal cycles, shared weather, noise.

    Examples
    --------
    >>> seasonal_series(100, 3).shape
    (100, 3)
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None]
    season = np.sin(2 * np.pi * t / 73 + rng.uniform(0, 2 * np.pi, n_features))
    weather = np.cumsum(rng.normal(size=(n_time, 3)), axis=0) * 0.05
    mix = rng.normal(size=(3, n_features))
    return (season + weather @ mix * 0.3 + 0.3 * rng.normal(size=(n_time, n_features))).astype(np.float32)


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned text table.

    Examples
    --------
    >>> print(format_table([figure("a", 2.0, "x/s", "b", 1.0)]))  # doctest: +NORMALIZE_WHITESPACE
    figure  value  unit  reference  reference_value  ratio  target
    a       2      x/s   b          1                2.00   -
    """

    def cell(key: str, value: object) -> str:
        if value is None:
            return "-"
        if key == "ratio":
            return f"{value:.2f}"
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    table = [list(KEYS)] + [[cell(k, r[k]) for k in KEYS] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(KEYS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table)
