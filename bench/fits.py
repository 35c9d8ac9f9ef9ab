"""Benchmark: the time of each model fit of notebook 03, one after another on one thread.

Stage 03 trains the three configurations and their unclustered ablations (``clvlib.pipeline.stages.MODELS``).
This times each fit alone, with the settings notebook 03 uses, on a project tree whose stages 01-02
have run (for example a copy built by ``make paper``), so that the cost of each model is known before
deciding whether it needs its full training::

    .venv/bin/python bench/fits.py --root /tmp/tree --dataset era5 [--profile full]

Measured on a quiet 2-core machine (ERA5-like, full profile): paper 69.2 s, original 28.8 s, best
29.4 s, unclustered-original 13.0 s, unclustered-paper 34.7 s, unclustered-best 14.9 s.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from clvlib.config import get_profile  # noqa: E402
from clvlib.method import clustering, model, training  # noqa: E402
from clvlib.pipeline import stage_inputs, stages  # noqa: E402


def fit_times(root: str, dataset: str, profile: str = "full", seed: int = 0) -> pd.DataFrame:
    """Seconds and epochs of every fit of notebook 03 (same configurations, data and seed), one thread."""
    torch.set_num_threads(1)
    features = stage_inputs.load_features(root, dataset)
    train, train_time = features.za[features.is_train], features.time[features.is_train]
    clusters = clustering.load_clusters(stages.path("data/models/{ds}/clusters.json", root, dataset), features.names)
    epochs = get_profile(profile).epochs
    rows = []
    for name, config in training.stage_configurations(len(clusters), max_epochs=epochs).items():
        groups = [list(range(len(features.names)))] if name.startswith("unclustered") else clusters
        start = time.perf_counter()
        fitted = model.ClusterLSTMVAE(groups, config, random_state=seed, progress=False).fit(train, train_time)
        rows.append({"model": name, "seconds": round(time.perf_counter() - start, 1), "epochs": len(fitted.history_)})
        print(f"{name}: {rows[-1]['seconds']} s, {rows[-1]['epochs']} epochs", flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="project tree whose notebooks 01-02 have run")
    parser.add_argument("--dataset", default="era5")
    parser.add_argument("--profile", default="full", choices=("quick", "full"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = fit_times(args.root, args.dataset, args.profile, args.seed)
    print(table.to_string(index=False))
    print(f"total {table['seconds'].sum():.1f} s")


if __name__ == "__main__":
    main()
