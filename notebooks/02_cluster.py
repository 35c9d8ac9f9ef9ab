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
# # 02 · Correlation clustering of the features
#
# The Cluster-LSTM-VAE gives each group of mutually correlated features its own encoder. The
# groups come from the data: each feature is described by its profile of Pearson correlations
# with all features over the **training years** (held-out 2021 excluded), and k-means groups
# features whose profiles are alike (Ward agglomerative clustering is the original code's
# alternative: `method = "ward"`). When `n_clusters` is not given, it is chosen between 2 and 8
# by the mean silhouette score.
#
# Input: the detector's features (`za`, standardized anomalies from the training-period
# climatology of each step of the year, see notebook 01). A constant or all-NaN feature stops
# the notebook with an error naming it.

# %% tags=["parameters"]
dataset = "era5"  # "era5" or "gemb"
profile = "full"  # "quick" or "full"
seed = 0  # seed of the synthetic default data and of k-means
root = ".."  # project root
n_clusters = None  # None: choose by silhouette
method = "kmeans"  # "kmeans" (the paper) or "ward" (the original code's option)

# %%

from clvlib.method import clustering
from clvlib.pipeline import stage_inputs, stages
from clvlib.publish import detector_plots

features = stage_inputs.load_features(root, dataset)
registry = stage_inputs.open_stage("02_cluster", globals(), [stages.path(stages.FEATURES, root, dataset)])
train = features.za[features.is_train]
# how the captions name the clustering
linkage = {"kmeans": "k-means", "ward": "Ward's hierarchical clustering"}.get(method, method)
print(f"{dataset}: {train.shape[0]} training steps x {len(features.names)} features")

# %% [markdown]
# ## Fit

# %%
clusterer = clustering.CorrelationClusterer(n_clusters=n_clusters, method=method, random_state=seed)
clusterer.fit(train, features.names)
membership = clusterer.membership().merge(
    features.data["long_name"].to_series().rename("long_name").reset_index(), on="feature"
)
print(f"{clusterer.n_clusters_} clusters")
registry.table(
    membership,
    f"clusters_{dataset}",
    f"Correlation clusters of the {dataset} features ({linkage} on correlation profiles of the training years).",
)
membership

# %% [markdown]
# ## Correlation matrix ordered by cluster
# Outlined blocks are the clusters; strong correlations outside the blocks are what the shared
# decoder has to learn.

# %%
fig = detector_plots.plot_correlation(clusterer.correlation_, clusterer.labels_)
registry.figure(
    fig,
    f"correlation_{dataset}",
    f"Pearson correlation of the {dataset} features over the training years, ordered by cluster; clusters outlined. "
    "What to see: blocks on the diagonal are the clusters the CLV encodes apart; strong correlation outside the "
    "blocks is structure the clustering splits.",
)

# %% [markdown]
# ## Number of clusters
# Chosen by the mean silhouette score when `n_clusters` is None; a given `n_clusters` has no curve.

# %%
silhouette_caption = f"Mean silhouette score per number of clusters ({dataset}, {linkage}); the chosen number marked."
if len(clusterer.silhouette_):
    registry.figure(
        detector_plots.plot_silhouette(clusterer.silhouette_, clusterer.n_clusters_),
        f"silhouette_{dataset}",
        silhouette_caption + " What to see: a clear peak means well separated clusters; a flat curve, weak ones.",
    )
    registry.table(clusterer.silhouette_.round(4).reset_index(), f"silhouette_{dataset}", silhouette_caption)
else:
    print(f"n_clusters = {n_clusters} was given; no silhouette curve.")

# %%
out = stages.path("data/models/{ds}/clusters.json", root, dataset)
print(f"wrote {clustering.save_clusters(clusterer, out)}")
