"""Does an autoencoder copy anomalies? The share of an injected shift that passes into its reconstruction.

An autoencoder whose latent is as wide as its input can learn to reconstruct whatever it is shown,
anomalies included: its reconstruction error, the anomaly score, then stays small where it should be
large. :func:`shift_passthrough` measures that directly. Into one feature of a normal step (the centre
of its window) a shift of ``shift`` standard deviations is injected; the share of it that appears in
the reconstruction of that feature at that step is the pass-through. A model that copies its input
passes about 1; one that reconstructs only the usual structure of the data passes little, so the
shift stays in the error. Like the other methods of :class:`clvlib.method.model.ClusterLSTMVAE`, the
latent mean is used (deterministic).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from clvlib.method.model import ClusterLSTMVAE, sliding_windows

__all__ = ["passthrough_table", "shift_passthrough"]


@torch.no_grad()
def shift_passthrough(
    model: ClusterLSTMVAE,
    values: np.ndarray,
    steps: np.ndarray,
    names: tuple[str, ...],
    shift: float = 3.0,
    length: int = 1,
) -> pd.DataFrame:
    """Share of a shift injected into one feature at one step that its reconstruction reproduces.

    Parameters
    ----------
    model : ClusterLSTMVAE
        A fitted model.
    values : ndarray, shape (n_time, n_features)
        The model input (standardized anomalies).
    steps : ndarray of int
        Normal steps to inject into (each at the centre of its window, or as near as the record allows).
    names : tuple of str
        Feature names.
    shift : float
        Size of the injected shift (in the input's standard deviations).
    length : int
        Consecutive steps shifted, from each step on (an injected event lasts 1-3 steps); the
        pass-through is the mean over them.

    Returns
    -------
    pandas.DataFrame
        One row per feature: feature, passthrough (mean over ``steps`` of the change of the feature's
        reconstruction at the step divided by ``shift``), then a row ``all`` (mean over features).
    """
    x = np.asarray(values, dtype=np.float32)
    w = model.config.window
    windows = sliding_windows(x, w)
    steps = np.asarray(steps, dtype=int)
    if not 1 <= length <= w // 2 + 1:
        raise ValueError(f"length={length}: expected 1 to {w // 2 + 1} steps for a window of {w}")
    start = np.clip(steps - w // 2, 0, len(windows) - 1)
    pos = np.minimum(steps - start, w - length)
    n_feat = x.shape[1]
    base = torch.from_numpy(windows[start])  # (n_steps, w, n_feat)
    shifted = base[:, None].repeat(1, n_feat, 1, 1)  # (n_steps, n_feat, w, n_feat)
    rows = torch.arange(len(steps))
    for f in range(n_feat):
        for k in range(length):
            shifted[rows, f, torch.from_numpy(pos + k), f] += shift
    model.net_.eval()
    device = model.torch_device()

    def reconstruct(batch: torch.Tensor) -> torch.Tensor:
        parts = [model.net_(chunk.to(device), sample=False)[0].cpu() for chunk in batch.split(2048)]
        return torch.cat(parts)

    recon = reconstruct(base)  # (n_steps, w, n_feat)
    recon_shifted = reconstruct(shifted.reshape(-1, w, n_feat)).reshape(len(steps), n_feat, w, n_feat)
    share = np.zeros((len(steps), n_feat))
    for k in range(length):
        p = torch.from_numpy(pos + k)
        for f in range(n_feat):
            share[:, f] += ((recon_shifted[rows, f, p, f] - recon[rows, p, f]) / shift).numpy() / length
    table = pd.DataFrame({"feature": list(names), "passthrough": share.mean(axis=0)})
    return pd.concat([table, pd.DataFrame({"feature": ["all"], "passthrough": [share.mean()]})], ignore_index=True)


def passthrough_table(
    models: Mapping[str, ClusterLSTMVAE], values: np.ndarray, steps: np.ndarray, names: tuple[str, ...]
) -> pd.DataFrame:
    """:func:`shift_passthrough` of several models side by side: one row per feature, ``all`` and ``all, 3 steps``.

    Returns
    -------
    pandas.DataFrame
        Column ``feature``, then one column per model (its pass-through of a one-step shift per feature and over
        all features, and of a three-step shift over all features).
    """
    columns = {}
    for name, model in models.items():
        one = shift_passthrough(model, values, steps, names).set_index("feature")["passthrough"]
        three = shift_passthrough(model, values, steps, names, length=3)["passthrough"].iloc[-1]
        columns[name] = pd.concat([one, pd.Series([three], index=["all, 3 steps"])])
    return pd.DataFrame(columns).rename_axis("feature").reset_index()
