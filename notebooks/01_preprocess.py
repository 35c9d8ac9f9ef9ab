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
# # 01 · Preprocessing: from daily fields to 5-day features
#
# The paper detects melt anomalies in **5-day** steps of regional-mean climate variables over
# southwest Greenland. This notebook turns a daily data set into those features:
#
# 1. load the daily data and check it (time axis, variables, units);
# 2. aggregate to 73 five-day steps per year: accumulated fluxes (J m⁻² per day) become mean
#    fluxes in W m⁻², water (m w.e. per day) becomes kg m⁻² d⁻¹, states are averaged;
# 3. report gaps (filled by linear interpolation when at most two steps long), and screen for
#    gross errors with an IQR rule on seasonal anomalies: values beyond Q1 − 10·IQR or
#    Q3 + 10·IQR (quartiles of the training years, per season) are clipped to the fence, so a
#    unit slip or spike is tamed while a genuine extreme stays extreme;
# 4. scale with statistics of the **training years only** (up to 2020; 2021 is held out):
#    `z` is the plain z-score of the original code, `za` the standardized anomaly from the
#    training-period climatology of each step of the year (the detector's default input, because
#    `z` keeps the seasonal cycle and makes every winter look unusual);
# 5. write `data/processed/<dataset>/features.nc`, a variable table and an overview figure.
#
# **On the embedded default data** (synthetic, with injected events of known cause) every
# statement about ERA5 or GEMB physics is a method check, not a finding about Greenland.
# **Real data** are used instead when present (`clvlib.io.sources`): ERA5 files under `data/raw/era5/`
# (what `make data` writes; `era5_invariant.nc` is the mask), GEMB output under `data/raw/gemb/` or
# named by `GEMB_OUTPUT`; the source is stated below and recorded in the manifest. With `data` set
# (what `make run DATA=...` does) the notebook reads a user's canonical netCDF file, raw ERA5
# download or GEMB output instead (contract: `clvlib.io.canonical`). For real and user data the last
# complete year is held out.

# %% tags=["parameters"]
dataset = "era5"  # "era5" or "gemb" for the default data; any name for a user's file
profile = "full"  # "quick" (tests, CI: 1991-2021) or "full" (the paper: 1951-2021)
seed = 0  # seed of the synthetic default data
root = ".."  # project root (folder holding data/ and paper/)
data = ""  # your own file or folder, as make run passes it; empty: real files under data/raw if present, else synthetic

# %%

from IPython.display import Markdown, display

from clvlib.method import preprocess
from clvlib.pipeline import raw_input, stage_inputs, stages
from clvlib.publish import plots

# the daily data of this data set: a user's file, real files under data/raw, else the embedded default
source = raw_input.load_input(root, dataset, profile, seed, data)
config = source.config
registry = stage_inputs.open_stage(
    "01_preprocess",
    globals(),
    source.files,
    source_kind=source.source.kind,
    source_layout=source.source.layout,
    region=source.region,
)

# %% [markdown]
# ## Load and check
# The embedded default is verified against its checksum manifest before use; real files and a
# user's file are reduced to daily values (raw ERA5: cos(latitude)-weighted mean over the region)
# and checked against the canonical contract. Either way the loader stops with a message naming
# the file and variable if anything is missing, constant, in the wrong units or on a broken time axis.

# %%
display(Markdown(source.summary()))
config

# %% [markdown]
# ## Aggregate, filter, scale

# %%
result = preprocess.preprocess(
    source.daily, source.variables, config, source=source.source.label, variable_info=source.variable_info
)
features = result.features
print(
    f"{features.sizes['time']} five-day steps x {features.sizes['feature']} features; "
    f"training steps: {int(features['is_train'].sum())}, held-out steps ({config.test_year}): "
    f"{int((~features['is_train']).sum())}"
)
if len(result.gaps):
    display(result.gaps)
else:
    print(f"No gaps: no 5-day step misses more than {config.max_missing_days} day(s) of any variable.")

# %%
table = result.variables.round({"mean": 4, "std": 4, "clipped_pct": 3})
registry.table(
    table,
    f"variables_{dataset}",
    f"Variables of the {dataset} data set: units after preprocessing, training-period mean and standard deviation, "
    f"share of values clipped by the IQR rule (fences from the years {config.first_year}-{config.last_train_year}), "
    "gap steps.",
)
table

# %% [markdown]
# ## Overview figure
# Seasonal cycle (median and 10–90 % range over the training years), the full record with its
# annual mean, and the last three years; injected events shaded (default data only). For real
# or user data the first six variables (the melt variable among them) are shown.

# %%
fig = plots.plot_overview(features, source.overview_variables, source.shaded_events)
registry.figure(
    fig,
    f"preprocess_overview_{dataset}",
    "Seasonal cycle (median and 10-90 % range over the training years), full record with annual mean, and the "
    f"last three years of key variables of the {dataset} data set"
    + ("; injected events shaded." if source.truth is not None else f" ({source.source.kind} data).")
    + " What to see: a smooth seasonal cycle and no jump in the annual means (a change of source or units shows here).",
)

# %% [markdown]
# ## Write the features

# %%
# source_kind tells notebooks 04 and 05 whether the injected-event truth and the MEaSUREs-like
# record belong to this data set (they exist for the synthetic default only): "synthetic", "real"
# (files under data/raw or GEMB_OUTPUT) or "user" (make run).
features.attrs.update(
    source=source.description,
    source_kind=source.source.kind,
    source_layout=source.source.layout,
    melt_variable=source.melt or "",
    profile=profile,
    seed=seed,
)
print(f"wrote {preprocess.write_features(features, stages.path(stages.FEATURES, root, dataset))}")
