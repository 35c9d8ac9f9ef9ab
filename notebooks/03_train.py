# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Training the Cluster-LSTM-VAE
#
# One LSTM encoder with self-attention per feature cluster (notebook 02), a shared decoder that
# reconstructs every feature over a window of 15 five-day steps (75 days), trained on the
# training years only; the last 20 % of the training windows (in time) validate and stop the
# training early. Differences from the original code, all deliberate (see `clvlib.model`):
# the KL term covers every cluster's latent with weight `kl_weight` per latent dimension
# relative to the per-element MSE, scoring uses the latent mean (deterministic), and every step
# is scored.
#
# Three models are trained with the same data and seed, so that notebook 04 can compare them:
#
# | model | clusters | settings |
# |---|---|---|
# | `clv` | from notebook 02 | ours: Adam 1e-3, batch 64, KL weight 1e-3 |
# | `unclustered` | one cluster with all features, the same total latent size | ours |
# | `original` | from notebook 02 | the author's: Adam 1e-4, batch 512, 20 epochs, KL weight 1 |

# %% tags=["parameters"]
dataset = "era5"  # "era5" or "gemb"
profile = "full"  # "quick" or "full"
seed = 0  # seed of the data and of the weights, dropout and batching
root = ".."  # project root

# %%
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import torch
from IPython.display import display

from clvlib.clustering import load_clusters
from clvlib.config import Paths, get_profile
from clvlib.detector_plots import plot_losses
from clvlib.model import ClusterLSTMVAE, CLVConfig, training_summary
from clvlib.outputs import set_style
from clvlib.preprocess import read_features
from clvlib.registry import Registry

set_style()
paths = Paths(Path(root).resolve())
registry = Registry(paths.root, "03_train", dataset, {"dataset": dataset, "profile": profile, "seed": seed},
                    [paths.processed(dataset) / "features.nc", paths.models(dataset) / "clusters.json"])
prof = get_profile(profile)
features = read_features(paths.processed(dataset) / "features.nc")
names = tuple(features["feature"].values.tolist())
train = features["za"].sel(time=features["is_train"]).values
clusters = load_clusters(paths.models(dataset) / "clusters.json", names)
ours = CLVConfig(epochs=prof.epochs)
original = replace(CLVConfig.original(), epochs=min(CLVConfig.original().epochs, prof.epochs))
models = {
    "clv": ClusterLSTMVAE(clusters, ours, random_state=seed),
    "unclustered": ClusterLSTMVAE([list(range(len(names)))], replace(ours, latent_dim=ours.latent_dim * len(clusters)),
                                  random_state=seed),
    "original": ClusterLSTMVAE(clusters, original, random_state=seed),
}
device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"{dataset}: {train.shape[0]} training steps x {len(names)} features, {len(clusters)} clusters; "
      f"device {device}, {torch.get_num_threads()} CPU threads")
pd.DataFrame({name: asdict(m.config) for name, m in models.items()})

# %% [markdown]
# ## Train

# %%
for name, model in models.items():
    print(f"training {name}")
    model.fit(train)
    model.save(paths.models(dataset) / name)

# %% [markdown]
# ## Loss curves
# The dotted line marks the epoch whose weights are kept (lowest validation loss). The
# author's settings take about five gradient steps per epoch at a learning rate of 1e-4 and
# barely move from the initial loss.

# %%
fig = plot_losses({name: m.history_ for name, m in models.items()})
registry.figure(fig, f"training_loss_{dataset}",
    f"Training and validation loss per epoch of the CLV, the unclustered VAE and the author's settings ({dataset}); dotted: epoch kept.")

# %%
summary = pd.DataFrame([training_summary(name, m) for name, m in models.items()])
registry.table(summary, f"training_{dataset}",
    f"Size, epochs and losses of the three trained models ({dataset}).")
display(summary)
