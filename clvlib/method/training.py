"""What notebook 03 trains and reports: the named configurations, their unclustered ablations, one row per model.

:func:`stage_configurations` lists the models (``original``, ``paper``, ``best`` and
``unclustered-<name>``), :func:`train_configurations` fits them (configurations that differ only in
their score share one fit) and :func:`training_summary` describes a fitted model for the training table.
The estimator itself is :class:`clvlib.method.model.ClusterLSTMVAE`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from clvlib.config import CONFIGURATIONS
from clvlib.method.model import ClusterLSTMVAE, CLVConfig

__all__ = ["UNCLUSTERED", "stage_configurations", "train_configurations", "training_summary"]

#: Folders of the unclustered ablation of each configuration (notebook 03): one cluster, the same total latent size.
UNCLUSTERED: tuple[str, ...] = tuple(f"unclustered-{name}" for name in CONFIGURATIONS)


def stage_configurations(n_clusters: int, max_epochs: int | None = None) -> dict[str, CLVConfig]:
    """Every model notebook 03 trains: the configurations, then their unclustered ablations.

    The ablation ``unclustered-<name>`` is ``<name>`` with one cluster of all features and the same
    total latent size (``latent_dim`` times ``n_clusters``); epochs are capped at ``max_epochs``.

    Examples
    --------
    >>> configs = stage_configurations(6, max_epochs=4)
    >>> list(configs) == [*CONFIGURATIONS, *UNCLUSTERED]
    True
    >>> configs["unclustered-paper"].latent_dim, configs["paper"].latent_dim, configs["best"].epochs
    (30, 5, 4)
    """
    configs = {name: CLVConfig.named(name, max_epochs=max_epochs) for name in CONFIGURATIONS}
    for name in CONFIGURATIONS:
        configs[f"unclustered-{name}"] = replace(configs[name], latent_dim=configs[name].latent_dim * n_clusters)
    return configs


def train_configurations(
    clusters: list[list[int]],
    configs: dict[str, CLVConfig],
    values: np.ndarray,
    time: pd.DatetimeIndex,
    random_state: int,
) -> dict[str, ClusterLSTMVAE]:
    """Fit one model per named configuration; configurations that differ only in ``score`` share one fit.

    Returns the models in the order of ``configs`` (see :meth:`ClusterLSTMVAE.with_score`).
    """
    models: dict[str, ClusterLSTMVAE] = {}
    for name, config in configs.items():
        twin = next((m for m in models.values() if replace(m.config, score=config.score) == config), None)
        if twin is not None:
            models[name] = twin.with_score(config.score, values, time)
        else:
            print(f"training {name}")
            models[name] = ClusterLSTMVAE(clusters, config, random_state=random_state).fit(values, time)
    return models


def training_summary(name: str, model: ClusterLSTMVAE) -> dict:
    """One row describing a fitted model: size, epochs and losses (for the training table)."""
    hist = model.history_
    best = int(hist["val_loss"].idxmin())
    return {
        "model": name,
        "n_clusters": len(model.clusters),
        "latent_size": model.config.latent_dim * len(model.clusters),
        "n_parameters": int(sum(p.numel() for p in model.net_.parameters())),
        "epochs_run": len(hist),
        "best_epoch": best + 1,
        "val_loss_epoch_1": round(float(hist["val_loss"].iloc[0]), 4),
        "best_val_loss": round(float(hist["val_loss"].iloc[best]), 4),
        "train_mse_at_best": round(float(hist["train_mse"].iloc[best]), 4),
    }
