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
# # 06 · Validating the attribution with XGBoost, SHAP and Random Forest
#
# If the counterfactual attribution of notebook 05 names the variables that make a step
# anomalous, a supervised model that learns the CLV's anomaly label from the same features should
# lean on the same variables. Two surrogates, XGBoost and a Random Forest, are trained on the
# melt-season steps to predict (a) the CLV anomaly label and (b) the melt variable (from the other
# features); their importances by gain or impurity, by permutation and by mean |SHAP|
# (`shap.TreeExplainer`, exact for trees) are ranked and compared with the CLV ranking by Kendall's
# tau and the overlap of the top 3 and top 5 features. The last quarter of the record (in time)
# is held out for the skill, the permutation importance and the SHAP values.
#
# On the embedded default this is a method check on synthetic data, not a finding about Greenland.
# A user's data set without a melt variable (`make run`, no `smlt`, `melt` or `melt_variable`
# attribute) gets task (a) only.

# %% tags=["parameters"]
dataset = "era5"  # "era5" or "gemb"
profile = "full"  # "quick" or "full"
seed = 0  # seed of the surrogates and the permutations
root = ".."  # project root
method = "paper"  # configuration whose detections were explained (notebooks 04-05): "paper", "best" or "original"

# %%

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from clvlib.method import scores as score_files
from clvlib.method import surrogate
from clvlib.pipeline import stage_inputs, stages
from clvlib.publish import attribution_plots

features = stage_inputs.load_features(root, dataset)
processed = stages.path("data/processed/{ds}", root, dataset)
drivers_file = stages.path(f"paper/tables/tab_drivers_{dataset}.csv", root)  # notebook 05's ranking
registry = stage_inputs.open_stage(
    "06_validate", globals(), [processed / "features.nc", processed / "scores.nc", drivers_file]
)
scores, events = score_files.read_scores(processed)
drivers = pd.read_csv(drivers_file)
scored = np.isfinite(scores["threshold"].values)
X = pd.DataFrame(features.za[scored], columns=list(features.names))
label = scores["anomaly"].values[scored].astype(int)
melt = features.data.attrs.get("melt_variable") or None  # written by notebook 01; "" when the data set has none
print(f"{dataset}: {len(X)} melt-season steps with a threshold, {label.sum()} anomalous; melt variable {melt}")

# %% [markdown]
# ## (a) The CLV anomaly label

# %%
importance_a, skill_a, explanations = surrogate.fit_surrogates(X, label, "anomaly", random_state=seed)
# %% [markdown]
# ## (b) The melt variable from the other features

# %%
if melt:
    importance_b, skill_b, _ = surrogate.fit_surrogates(
        X.drop(columns=melt), X[melt].to_numpy(), "melt", random_state=seed
    )
else:
    print("Skipped: this data set has no melt variable.")
    importance_b, skill_b = importance_a.iloc[:0], skill_a.iloc[:0]
skill = pd.concat([skill_a, skill_b], ignore_index=True).round(4)
registry.table(
    skill,
    f"surrogate_skill_{dataset}",
    "Held-out skill of the XGBoost and Random Forest surrogates for the CLV anomaly label and the melt variable "
    f"({dataset}).",
)
importance = pd.concat([importance_a, importance_b], ignore_index=True)
registry.table(
    importance.assign(importance=importance["importance"].round(8)),
    f"importance_{dataset}",
    f"Feature importances of the surrogates ({dataset}): gain or impurity, permutation and mean |SHAP|, ranked; the "
    "report shows every model's first-ranked features first.",
    formats=("csv",),
    show=("rank",),
)
skill

# %% [markdown]
# ## Agreement with the CLV attribution
# For the melt task the melt variable is not a candidate, so it is dropped from the CLV ranking.

# %%
agreement = surrogate.agreement_table(importance, drivers.set_index("feature")["rank"], excluded={"melt": melt}).round(
    4
)
registry.table(
    agreement,
    f"agreement_{dataset}",
    f"Agreement of the CLV attribution ranking with each surrogate importance ranking ({dataset}): Kendall tau, "
    "top-3 and top-5 overlap.",
)
agreement

# %%
fig = attribution_plots.plot_importance(
    importance_a.assign(method=importance_a["model"] + ", " + importance_a["method"]),
    drivers,
    f"Importance for the CLV anomaly label, {dataset}",
)
registry.figure(
    fig,
    f"importance_{dataset}",
    f"Feature importances of the surrogates ({dataset}): gain or impurity, permutation and mean |SHAP|, ranked. "
    "What to see: where the surrogates' top variables are the CLV attribution's, the attribution is corroborated.",
)

# %% [markdown]
# ## SHAP summary (XGBoost, anomaly label, held-out steps)

# %%
fig = attribution_plots.plot_shap_beeswarm(
    explanations["XGBoost"], f"SHAP values of the XGBoost surrogate, {dataset} (log-odds of 'anomalous')", seed
)
registry.figure(
    fig,
    f"shap_{dataset}",
    f"SHAP values of the XGBoost surrogate for the CLV anomaly label on the held-out steps ({dataset}). What to "
    "see: the variables at the top move the prediction most; points right of zero push a step towards anomalous.",
)
display(fig)
plt.close(fig)
