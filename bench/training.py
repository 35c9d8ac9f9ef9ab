"""Benchmark: training and scoring throughput of the batched CLV against the looped reference.

Runs on a fresh clone (seeded synthetic series of 71 years x 73 five-day steps x 17 features,
six clusters of 1-4 features, the default :class:`clvlib.method.model.CLVConfig`, one torch thread):

    python bench/training.py [--repeats 3] [--epochs 2]
    python bench/training.py --torch-profile   # torch operators of 10 training steps, by own time

Training throughput is training windows per second over ``epochs`` epochs of
:meth:`ClusterLSTMVAE.fit` (median of the repeats); the reference is
:class:`clvlib.testing.model_reference.LoopedClusterLSTMVAE`: the same training loop and architecture with
one encoder per cluster run in a Python loop. Scoring throughput is time steps per second of
:meth:`ClusterLSTMVAE.decision_function` on the whole series, both networks holding the same weights.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch

from clvlib.method.model import ClusterLSTMVAE, CLVConfig, loss_terms, sliding_windows
from clvlib.testing.benchmark import figure, format_table, seasonal_series, timed, torch_threads
from clvlib.testing.model_reference import LoopedClusterLSTMVAE, to_looped_state

CLUSTERS = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10], [11, 12, 13], [14, 15], [16]]
REFERENCE = "looped reference: one encoder per cluster in a Python loop, same data, clusters, config, 1 thread"


def _throughputs(values: np.ndarray, config: CLVConfig, repeats: int) -> dict[str, list[float]]:
    """Training windows/s and scoring steps/s of both implementations, alternating, ``repeats`` times."""
    n_windows = len(sliding_windows(values, config.window))
    n_train = n_windows - max(1, round(config.val_fraction * n_windows))
    out: dict[str, list[float]] = {}
    for rep in range(repeats):
        order = (ClusterLSTMVAE, LoopedClusterLSTMVAE) if rep % 2 == 0 else (LoopedClusterLSTMVAE, ClusterLSTMVAE)
        for cls in order:
            seconds, model = timed(
                lambda cls=cls, rep=rep: cls(CLUSTERS, config, random_state=rep, progress=False).fit(values)
            )
            out.setdefault(f"{cls.__name__}.fit", []).append(n_train * len(model.history_) / seconds)
    return out


def _scoring(values: np.ndarray, config: CLVConfig, repeats: int) -> tuple[dict[str, list[float]], float]:
    """Scoring steps/s of both implementations with the same weights, and their largest score difference."""
    batched = ClusterLSTMVAE(CLUSTERS, config, progress=False).fit(values[: 73 * 8])
    looped = LoopedClusterLSTMVAE(CLUSTERS, config, progress=False)
    looped.build_network(values.shape[1])
    looped.net_.load_state_dict(to_looped_state(batched.net_.state_dict(), len(CLUSTERS)))
    out: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, model in (("batched", batched), ("looped", looped)):
            seconds, _ = timed(lambda model=model: model.decision_function(values))
            out.setdefault(name, []).append(len(values) / seconds)
    gap = float(np.max(np.abs(batched.decision_function(values) - looped.decision_function(values))))
    return out, gap


def run(repeats: int = 3, epochs: int = 2) -> list[dict]:
    """Training and scoring throughput rows (see the module docstring)."""
    values = seasonal_series()
    config = CLVConfig(epochs=epochs, patience=epochs + 1)
    with torch_threads(1):
        train = _throughputs(values, config, repeats)
        score, gap = _scoring(values, replace(config, epochs=1, patience=2), repeats)
    ours, ref = np.median(train["ClusterLSTMVAE.fit"]), np.median(train["LoopedClusterLSTMVAE.fit"])
    return [
        figure(
            f"training throughput, batched encoders ({epochs} epochs, median of {repeats})",
            ours,
            "windows/s",
            REFERENCE,
            ref,
            target=">= 2x",
        ),
        figure(
            f"scoring throughput, batched encoders (median of {repeats})",
            np.median(score["batched"]),
            "steps/s",
            "looped reference with the same weights",
            np.median(score["looped"]),
        ),
        figure("scores: max |batched - looped|, same weights", gap, "score units"),
    ]


def operator_profile(steps: int = 10, rows: int = 25) -> str:
    """torch.profiler table of ``steps`` training steps (batch 64, the default config, six clusters, one thread)."""
    from torch.profiler import ProfilerActivity, profile

    config = CLVConfig()
    x = torch.as_tensor(sliding_windows(seasonal_series(64 + config.window - 1), config.window))
    with torch_threads(1):
        model = ClusterLSTMVAE(CLUSTERS, config, progress=False)
        model.build_network(x.shape[2])
        optimizer = torch.optim.Adam(model.net_.parameters(), lr=config.learning_rate)

        def step() -> None:
            recon, mu, logvar = model.net_(x, sample=True)
            mse, kl = loss_terms(recon, x, mu, logvar)
            optimizer.zero_grad()
            (mse + config.kl_weight * kl).backward()
            optimizer.step()

        step()
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            for _ in range(steps):
                step()
    return prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=45, max_shapes_column_width=50
    )


def main() -> None:
    """Command line: print the rows as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--torch-profile", action="store_true", help="print the torch operators of 10 training steps")
    args = parser.parse_args()
    print(operator_profile() if args.torch_profile else format_table(run(args.repeats, args.epochs)))


if __name__ == "__main__":
    main()
