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
from pathlib import Path

from IPython.display import Markdown, display

from clvlib.config import Paths, PreprocessConfig, get_profile
from clvlib.io.inputcheck import user_config
from clvlib.io.sources import find_source, load_raw, region_from_env, user_source
from clvlib.method.preprocess import preprocess, write_features
from clvlib.publish.outputs import set_style
from clvlib.publish.plots import plot_overview
from clvlib.publish.registry import Registry
from clvlib.synthetic.rawdata import load_daily, load_truth, verify_synthetic
from clvlib.variables import dataset_variables, melt_variable

set_style()
paths = Paths(Path(root).resolve())
source = user_source(Path(data)) if data else find_source(paths.root, dataset, seed)
synthetic = source.kind == "synthetic"
raw = paths.synthetic(seed)
registry = Registry(
    paths.root,
    "01_preprocess",
    dataset,
    {
        "dataset": dataset,
        "profile": profile,
        "seed": seed,
        "data": data,
        "source_kind": source.kind,
        "source_layout": source.layout,
        "region": "" if synthetic else str(region_from_env()),
    },
    [raw / "manifest.json"] if synthetic else source.inputs,
)

# %% [markdown]
# ## Load and check
# The embedded default is verified against its checksum manifest before use; real files and a
# user's file are reduced to daily values (raw ERA5: cos(latitude)-weighted mean over the region)
# and checked against the canonical contract. Either way the loader stops with a message naming
# the file and variable if anything is missing, constant, in the wrong units or on a broken time axis.

# %%
if synthetic:
    manifest = verify_synthetic(raw, seed)
    daily, variable_info, melt = load_daily(raw, dataset), None, melt_variable(dataset)
    config = PreprocessConfig(dataset=dataset, first_year=get_profile(profile).first_year)
    variables = dataset_variables(dataset)
    truth = load_truth(raw)
    description = f"synthetic embedded default, seed {manifest['seed']}"
else:
    loaded = load_raw(source)
    daily, variable_info, melt = loaded.daily, loaded.variable_info, loaded.melt_variable
    config = user_config(loaded, dataset, profile)  # the last complete year held out (make check uses the same)
    variables = tuple(variable_info)
    truth = None
    description = f"{source.kind} data: {source.description}" + (
        f"; {loaded.source}" if source.layout == "era5" else ""
    )
display(
    Markdown(
        f"**Source ({source.kind}):** {description}; {daily.sizes['time']} days, "
        f"{daily['time'][0].dt.strftime('%Y-%m-%d').item()} to {daily['time'][-1].dt.strftime('%Y-%m-%d').item()}, "
        f"{len(variables)} variables ({', '.join(variables)}); "
        f"years {config.first_year}-{config.last_train_year} for training, {config.test_year} held out; "
        f"melt variable: {melt or 'none'}."
    )
)
config

# %% [markdown]
# ## Aggregate, filter, scale

# %%
result = preprocess(daily, variables, config, source=source.label, variable_info=variable_info)
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
    "share of values clipped by the IQR rule, gap steps.",
)
table

# %% [markdown]
# ## Overview figure
# Seasonal cycle (median and 10–90 % range over the training years), the full record with its
# annual mean, and the last three years; injected events shaded (default data only). For real
# or user data the first six variables (the melt variable among them) are shown.

# %%
if not synthetic:
    key = list(dict.fromkeys(([melt] if melt else []) + list(variables)))[:6]
    events = None
else:
    key = ["t2m", "ssrd", "strd", "tcc", "fal" if dataset == "era5" else "albedo", melt]
    events = truth[truth["start"].dt.year >= config.first_year]
fig = plot_overview(features, key, events)
registry.figure(
    fig,
    f"preprocess_overview_{dataset}",
    "Seasonal cycle (median and 10-90 % range over the training years), full record with annual mean, and the "
    f"last three years of key variables of the {dataset} data set"
    + ("; injected events shaded." if synthetic else f" ({source.kind} data)."),
)

# %% [markdown]
# ## Write the features

# %%
# source_kind tells notebooks 04 and 05 whether the injected-event truth and the MEaSUREs-like
# record belong to this data set (they exist for the synthetic default only): "synthetic", "real"
# (files under data/raw or GEMB_OUTPUT) or "user" (make run).
features.attrs.update(
    source=description,
    source_kind=source.kind,
    source_layout=source.layout,
    melt_variable=melt or "",
    profile=profile,
    seed=seed,
)
print(f"wrote {write_features(features, paths.processed(dataset) / 'features.nc')}")
