"""The Cluster-LSTM-VAE's network: cluster encoders run as one block-sparse computation, one shared decoder.

:class:`CLVNet` is what :class:`clvlib.method.model.ClusterLSTMVAE` trains. Each cluster's encoder
(LSTM(18) -> LSTM(6) -> 2-head self-attention -> dropout -> batch norm -> LSTM(6) -> latent mean and
log-variance) runs for all clusters at once: the weights of every cluster sit in one block-sparse
matrix per layer (block-major, then cluster), so one LSTM or attention call serves all clusters and
no information flows between them. The looped reference, one small encoder per cluster, is
:class:`clvlib.testing.model_reference.LoopedCLVNet`; the tests check that both give the same
numbers. This module holds the torch layers only; training, scoring and saving are in
:mod:`clvlib.method.model`.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

__all__ = ["Attention", "CLVNet", "Decoder", "NetworkSettings"]


class NetworkSettings(Protocol):
    """What the network needs of a configuration (:class:`clvlib.method.model.CLVConfig` has it)."""

    window: int
    latent_dim: int
    dropout: float


class Attention(nn.Module):
    """Multi-head self-attention with a residual connection and layer norm."""

    def __init__(self, dim: int, heads: int = 2) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.attn(x, x, x, need_weights=False)
        return self.norm(x + out)


class Decoder(nn.Module):
    """Shared decoder from all cluster latents to all features."""

    def __init__(self, n_latent: int, n_out: int) -> None:
        super().__init__()
        self.lstm1 = nn.LSTM(n_latent, 48, batch_first=True)
        self.lstm2 = nn.LSTM(48, 64, batch_first=True)
        self.attn = Attention(64)
        self.out = nn.Linear(64, n_out)

    def forward(self, z: torch.Tensor, window: int) -> torch.Tensor:
        h, _ = self.lstm1(z.unsqueeze(1).expand(-1, window, -1))
        h, _ = self.lstm2(h)
        return self.out(self.attn(h))


def _block_positions(columns: list[list[int]], n_in: int, blocks: int, size: int) -> torch.Tensor:
    """Flat positions of each group's weight in one block-sparse matrix of shape (blocks * C * size, n_in).

    Group ``c``'s weight has ``blocks * size`` rows (``blocks`` stacked blocks of ``size`` rows,
    as the four gates of an LSTM or the q, k, v of an attention projection) and one column per
    entry of ``columns[c]``. Its row ``r`` goes to row ``(r // size) * C * size + c * size + r % size``
    (block-major, then group, so that every block of the full matrix covers all groups in order)
    and its column ``k`` to column ``columns[c][k]``. All other entries of the matrix stay zero,
    so no information flows between groups.
    """
    groups, rows = len(columns), torch.arange(blocks * size)
    out = []
    for c, cols in enumerate(columns):
        full_rows = (rows // size) * groups * size + c * size + rows % size
        out.append((full_rows[:, None] * n_in + torch.as_tensor(cols, dtype=torch.long)[None, :]).reshape(-1))
    return torch.cat(out)


def _scatter(values: torch.Tensor, positions: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A zero tensor of ``shape`` with ``values`` (flattened) at the flat ``positions`` (differentiable)."""
    return values.new_zeros(positions.new_empty(shape).numel()).index_put((positions,), values.reshape(-1)).view(shape)


def _consecutive(groups: int, size: int) -> list[list[int]]:
    """Columns of each group when the input is the groups' ``size``-wide outputs side by side."""
    return [list(range(c * size, (c + 1) * size)) for c in range(groups)]


class _BlockLSTM(nn.Module):
    """``C`` independent single-layer LSTMs run as one LSTM with block-sparse weights.

    Group ``c`` reads the input columns ``columns[c]`` and has the parameters of its own
    :class:`torch.nn.LSTM` (gates [i, f, g, o]): ``weight_ih[c]`` (4H, len(columns[c])),
    ``weight_hh[c]`` (4H, H), ``bias_ih[c]`` and ``bias_hh[c]`` (4H). Each call scatters them into
    the weights of one LSTM with hidden size C * H (zero between groups, so the groups stay
    independent: the result equals C separate LSTMs) and runs PyTorch's fused LSTM kernel once.
    Output (B, T, C * H), the groups' hidden states side by side.
    """

    def __init__(self, columns: list[list[int]], n_in: int, hidden: int) -> None:
        super().__init__()
        groups = len(columns)
        self.n_in, self.hidden, self.groups = n_in, hidden, groups
        self.weight_ih = nn.ParameterList(nn.Parameter(torch.empty(4 * hidden, len(c))) for c in columns)
        self.weight_hh = nn.Parameter(torch.empty(groups, 4 * hidden, hidden))
        self.bias_ih = nn.Parameter(torch.empty(groups, 4 * hidden))
        self.bias_hh = nn.Parameter(torch.empty(groups, 4 * hidden))
        self.register_buffer("ih_pos", _block_positions(columns, n_in, 4, hidden), persistent=False)
        self.register_buffer(
            "hh_pos", _block_positions(_consecutive(groups, hidden), groups * hidden, 4, hidden), persistent=False
        )
        self.register_buffer("bias_pos", _block_positions([[0]] * groups, 1, 4, hidden), persistent=False)
        bound = hidden**-0.5  # PyTorch's LSTM initialisation
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All hidden states (B, T, C * H) and the last one (B, C * H) of input ``x`` (B, T, n_in)."""
        rows = 4 * self.groups * self.hidden
        weights = [
            _scatter(torch.cat([w.reshape(-1) for w in self.weight_ih]), self.ih_pos, (rows, self.n_in)),
            _scatter(self.weight_hh, self.hh_pos, (rows, rows // 4)),
            _scatter(self.bias_ih, self.bias_pos, (rows,)),
            _scatter(self.bias_hh, self.bias_pos, (rows,)),
        ]
        h0 = x.new_zeros(1, x.shape[0], rows // 4)
        out, last, _ = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, self.training, False, True)
        return out, last[0]


class _BlockLinear(nn.Module):
    """``C`` independent linear layers (``blocks * size`` outputs from ``n_in`` inputs each) as one.

    Input (..., C * n_in), the groups side by side; output (..., blocks * C * size), block-major
    (see :func:`_block_positions`). Parameters ``weight`` (C, blocks * size, n_in) and ``bias``
    (C, blocks * size) hold each group's own layer.
    """

    def __init__(self, groups: int, n_in: int, size: int, blocks: int = 1) -> None:
        super().__init__()
        self.shape = (blocks * groups * size, groups * n_in)
        self.weight = nn.Parameter(torch.empty(groups, blocks * size, n_in))
        self.bias = nn.Parameter(torch.empty(groups, blocks * size))
        self.register_buffer(
            "pos", _block_positions(_consecutive(groups, n_in), groups * n_in, blocks, size), persistent=False
        )
        self.register_buffer("bias_pos", _block_positions([[0]] * groups, 1, blocks, size), persistent=False)
        bound = n_in**-0.5  # nn.Linear's default initialisation
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = _scatter(self.weight, self.pos, self.shape)
        return nn.functional.linear(x, weight, _scatter(self.bias, self.bias_pos, self.shape[:1]))


class _BlockAttention(nn.Module):
    """Per-group 2-head self-attention with residual and layer norm: ``C`` :class:`Attention` as one.

    The groups' ``dim``-wide features lie side by side (B, T, C * dim); with block-sparse
    projections, the ``C * heads`` heads of one attention call are exactly the groups' own heads
    (head ``c * heads + j`` is head ``j`` of group ``c``), and the layer norm runs per group.
    Parameters per group as in :class:`torch.nn.MultiheadAttention` and :class:`torch.nn.LayerNorm`.
    """

    def __init__(self, groups: int, dim: int, heads: int = 2) -> None:
        super().__init__()
        self.groups, self.dim, self.heads = groups, dim, heads
        self.in_proj = _BlockLinear(groups, dim, dim, blocks=3)
        nn.init.uniform_(self.in_proj.weight, -((1.5 / dim) ** 0.5), (1.5 / dim) ** 0.5)  # Xavier on (3 dim, dim)
        nn.init.zeros_(self.in_proj.bias)
        self.out_proj = _BlockLinear(groups, dim, dim)
        nn.init.zeros_(self.out_proj.bias)
        self.norm_weight = nn.Parameter(torch.ones(groups, dim))
        self.norm_bias = nn.Parameter(torch.zeros(groups, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, width = x.shape
        heads = self.groups * self.heads
        qkv = self.in_proj(x).view(batch, steps, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
        out = nn.functional.scaled_dot_product_attention(*qkv.unbind(0))  # (B, heads, T, head_dim)
        out = self.out_proj(out.transpose(1, 2).reshape(batch, steps, width))
        y = nn.functional.layer_norm((x + out).view(batch, steps, self.groups, self.dim), (self.dim,))
        return (y * self.norm_weight + self.norm_bias).view(batch, steps, width)


class _ClusterEncoders(nn.Module):
    """The encoders of all clusters, batched: each cluster keeps its own parameters.

    Per cluster the computation is the original's LSTM(18) -> LSTM(6) -> 2-head self-attention
    (residual, layer norm) -> dropout -> batch norm -> LSTM(6) -> mean and log-variance, with no
    information flowing between clusters. The clusters' features lie side by side and every layer
    runs once for all clusters with block-sparse weights (:class:`_BlockLSTM`,
    :class:`_BlockLinear`, :class:`_BlockAttention`); batch norm over the clusters' channels side
    by side is per-cluster batch norm. :mod:`clvlib.testing.model_reference` runs the same encoders one
    after another, and converts the weights between the two layouts.
    """

    def __init__(self, clusters: list[list[int]], n_features: int, latent_dim: int, dropout: float) -> None:
        super().__init__()
        groups = len(clusters)
        self.lstm1 = _BlockLSTM(clusters, n_features, 18)
        self.lstm2 = _BlockLSTM(_consecutive(groups, 18), groups * 18, 6)
        self.attn = _BlockAttention(groups, 6)
        self.drop = nn.Dropout(dropout)
        self.norm = nn.BatchNorm1d(groups * 6)
        self.lstm3 = _BlockLSTM(_consecutive(groups, 6), groups * 6, 6)
        self.mu = _BlockLinear(groups, 6, latent_dim)
        self.logvar = _BlockLinear(groups, 6, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent mean and log-variance (B, C * latent_dim), clusters in order, of windows ``x`` (B, T, F)."""
        h, _ = self.lstm1(x)
        h, _ = self.lstm2(h)
        h = self.drop(self.attn(h))
        h = self.norm(h.transpose(1, 2)).transpose(1, 2)
        _, last = self.lstm3(h)
        return self.mu(last), self.logvar(last)


class CLVNet(nn.Module):
    """Batched cluster encoders plus the shared decoder."""

    def __init__(self, clusters: list[list[int]], n_features: int, config: NetworkSettings) -> None:
        super().__init__()
        self.clusters = clusters
        self.window = config.window
        self.encoder = _ClusterEncoders(clusters, n_features, config.latent_dim, config.dropout)
        self.decoder = Decoder(config.latent_dim * len(clusters), n_features)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent mean and log-variance of all clusters, concatenated in cluster order."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction, latent mean and log-variance; ``sample`` draws the latent, else uses the mean."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return self.decoder(z, self.window), mu, logvar
