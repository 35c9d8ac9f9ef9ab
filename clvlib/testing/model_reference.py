"""The looped reference of the CLV encoders, and the copy of weights between the two layouts.

:class:`clvlib.method.network.CLVNet` runs the encoders of all clusters as one batched computation.
This module keeps the straightforward form, one :class:`torch.nn.Module` per cluster run one
after another in a Python loop (the original code's structure), for the equivalence tests and
the benchmarks (``bench/training.py``):

* :class:`LoopedCLVNet` has the same architecture and decoder as the batched network;
* :func:`to_batched_state` and :func:`to_looped_state` translate a ``state_dict`` between the
  two layouts, so both networks can be run with the same weights;
* :class:`LoopedClusterLSTMVAE` is :class:`clvlib.method.model.ClusterLSTMVAE` (same training loop,
  scoring, save and load) with the looped network.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.method.network import Attention, Decoder

__all__ = ["LoopedCLVNet", "LoopedClusterLSTMVAE", "to_batched_state", "to_looped_state"]

_LSTM_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_LSTMS = ("lstm1", "lstm2", "lstm3")


class _Encoder(nn.Module):
    """One cluster's encoder."""

    def __init__(self, n_in: int, latent_dim: int, dropout: float) -> None:
        super().__init__()
        self.lstm1 = nn.LSTM(n_in, 18, batch_first=True)
        self.lstm2 = nn.LSTM(18, 6, batch_first=True)
        self.attn = Attention(6)
        self.drop = nn.Dropout(dropout)
        self.norm = nn.BatchNorm1d(6)
        self.lstm3 = nn.LSTM(6, 6, batch_first=True)
        self.mu = nn.Linear(6, latent_dim)
        self.logvar = nn.Linear(6, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, _ = self.lstm1(x)
        h, _ = self.lstm2(h)
        h = self.drop(self.attn(h))
        h = self.norm(h.transpose(1, 2)).transpose(1, 2)
        _, (last, _) = self.lstm3(h)
        return self.mu(last[-1]), self.logvar(last[-1])


class LoopedCLVNet(nn.Module):
    """One encoder per cluster, run in a Python loop, plus the shared decoder (the reference)."""

    def __init__(self, clusters: list[list[int]], n_features: int, config: CLVConfig) -> None:
        super().__init__()
        self.clusters = clusters
        self.window = config.window
        self.encoders = nn.ModuleList(_Encoder(len(c), config.latent_dim, config.dropout) for c in clusters)
        self.decoder = Decoder(config.latent_dim * len(clusters), n_features)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent mean and log-variance of all clusters, concatenated in cluster order."""
        stats = [enc(x[:, :, idx]) for enc, idx in zip(self.encoders, self.clusters, strict=True)]
        return torch.cat([m for m, _ in stats], dim=1), torch.cat([v for _, v in stats], dim=1)

    def forward(self, x: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction, latent mean and log-variance; ``sample`` draws the latent, else uses the mean."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return self.decoder(z, self.window), mu, logvar


def _pairs(n_clusters: int) -> list[tuple[str, str, int | None]]:
    """(batched key, looped key suffix, cluster) of every encoder tensor; cluster None = split along dim 0."""
    rows: list[tuple[str, str, int | None]] = []
    for layer in _LSTMS:
        rows += [(f"{layer}.weight_ih.{c}", f"{layer}.weight_ih_l0", c) for c in range(n_clusters)]
        rows += [(f"{layer}.{key}", f"{layer}.{key}_l0", None) for key in _LSTM_KEYS[1:]]
    rows += [
        ("attn.in_proj.weight", "attn.attn.in_proj_weight", None),
        ("attn.in_proj.bias", "attn.attn.in_proj_bias", None),
        ("attn.out_proj.weight", "attn.attn.out_proj.weight", None),
        ("attn.out_proj.bias", "attn.attn.out_proj.bias", None),
        ("attn.norm_weight", "attn.norm.weight", None),
        ("attn.norm_bias", "attn.norm.bias", None),
        ("mu.weight", "mu.weight", None),
        ("mu.bias", "mu.bias", None),
        ("logvar.weight", "logvar.weight", None),
        ("logvar.bias", "logvar.bias", None),
    ]
    return rows


def to_batched_state(looped: dict[str, torch.Tensor], n_clusters: int) -> dict[str, torch.Tensor]:
    """``state_dict`` of :class:`LoopedCLVNet` in the layout of :class:`clvlib.method.network.CLVNet`.

    Per-cluster tensors are stacked along a new first (cluster) dimension; the batch norms'
    six-wide channels are concatenated in cluster order.
    """
    out = {k: v.clone() for k, v in looped.items() if not k.startswith("encoders.")}
    enc = [f"encoders.{c}." for c in range(n_clusters)]
    for batched, suffix, cluster in _pairs(n_clusters):
        if cluster is None:
            out[f"encoder.{batched}"] = torch.stack([looped[p + suffix] for p in enc]).clone()
        else:
            out[f"encoder.{batched}"] = looped[enc[cluster] + suffix].clone()
    for key in ("weight", "bias", "running_mean", "running_var"):
        out[f"encoder.norm.{key}"] = torch.cat([looped[p + f"norm.{key}"] for p in enc]).clone()
    out["encoder.norm.num_batches_tracked"] = looped[enc[0] + "norm.num_batches_tracked"].clone()
    return out


def to_looped_state(batched: dict[str, torch.Tensor], n_clusters: int) -> dict[str, torch.Tensor]:
    """Inverse of :func:`to_batched_state`."""
    out = {k: v.clone() for k, v in batched.items() if not k.startswith("encoder.")}
    for batched_key, suffix, cluster in _pairs(n_clusters):
        value = batched[f"encoder.{batched_key}"]
        for c in range(n_clusters) if cluster is None else (cluster,):
            out[f"encoders.{c}.{suffix}"] = (value[c] if cluster is None else value).clone()
    for key in ("weight", "bias", "running_mean", "running_var"):
        for c, chunk in enumerate(batched[f"encoder.norm.{key}"].split(6)):
            out[f"encoders.{c}.norm.{key}"] = chunk.clone()
    for c in range(n_clusters):
        out[f"encoders.{c}.norm.num_batches_tracked"] = batched["encoder.norm.num_batches_tracked"].clone()
    return out


class LoopedClusterLSTMVAE(ClusterLSTMVAE):
    """:class:`clvlib.method.model.ClusterLSTMVAE` with the looped reference network (for benchmarks and tests)."""

    def build_network(self, n_features: int) -> None:
        torch.manual_seed(self.random_state)
        self.n_features_in_ = n_features
        self.error_scale_ = np.ones(n_features)
        self.net_ = LoopedCLVNet(self.clusters, n_features, self.config).to(self.torch_device())
