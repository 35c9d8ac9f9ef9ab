# The only entry point. `make` alone prints this help.
#   make paper   create the environment if missing, then regenerate every table and figure
#   make test    create the environment if missing, then run the test suite (notebooks included)
#   make data    download the real ERA5 and MEaSUREs inputs into data/raw (credentials: docs/data.md, 'Real data')
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

PYTHON ?= python3
# `make` alone means `make help`: it reads and writes nothing.
GOALS := $(or $(MAKECMDGOALS),help)
# Goals that never build the paper: they skip the paper's parameters, its rules and its integrity check.
NO_PAPER_GOALS := run check select search bench test lint lab help env lock data seeds clean
PROFILE ?= full
SEED ?= 0
# The CLV configuration whose detections notebooks 04-07 report (all three are trained and compared).
METHOD ?= paper
# make run reports clvlib.pipeline.run.DEFAULT_METHOD unless METHOD= is given (make paper reports the paper's)
RUN_METHOD := $(if $(filter command line environment,$(origin METHOD)),--method $(METHOD))
YEARS ?= 1951-2021
REGION ?=
SITE ?=
GEMB_OUTPUT ?=
NAME ?= custom
# The synthetic world of the embedded default (clvlib/synthetic/generator.py): default (independent weather,
# amplitude events) or synoptic (weather driven by shared synoptic factors; amplitude, coupling and context events).
WORLD ?= default
# make seeds runs every seed in each of these worlds (tables with a world column).
WORLDS ?= default,synoptic
SEEDS ?= 0,4,6
SELECT_SEEDS ?= 1,2,3
TRIALS ?= 24

# Values given on the command line are data, never make or shell text: each is taken literally
# (a '$$(shell ...)' in DATA stays those characters) and reaches a recipe only single-quoted by
# $$(call q,...), so a path holding quotes, backticks or '$$(...)' runs nothing (tests/test_make_safety.py).
USER_VARIABLES := DATA OUT NAME METHOD PROFILE SEED SEEDS SELECT_SEEDS TRIALS YEARS REGION SITE GEMB_OUTPUT WORLD WORLDS
$(foreach v,$(USER_VARIABLES),$(eval override $(v) := $$(value $(v))))
q = '$(subst ','\'',$(1))'
ifeq ($(filter-out full quick,$(PROFILE)),)
else
$(error PROFILE=$(PROFILE): expected full or quick)
endif
ifneq ($(filter-out paper best original,$(METHOD))$(words $(METHOD)),1)
$(error METHOD=$(METHOD): expected paper, best or original)
endif
ifneq ($(filter-out default synoptic,$(WORLD))$(words $(WORLD)),1)
$(error WORLD=$(WORLD): expected default or synoptic)
endif
strip_digits = $(subst 0,,$(subst 1,,$(subst 2,,$(subst 3,,$(subst 4,,$(subst 5,,$(subst 6,,$(subst 7,,$(subst 8,,$(subst 9,,$(1)))))))))))
ifneq ($(words $(SEED))$(call strip_digits,$(SEED)),1)
$(error SEED=$(SEED): expected a whole number such as 0)
endif
# The two data sets' notebook chains run side by side, one thread each: on a small machine the
# model's many small operations gain nothing from a second thread, and one thread is also
# bit-reproducible whatever the machine.
JOBS ?= 2
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
DATASETS := era5 gemb

# Real inputs (docs/data.md, 'Real data'): notebook 01 reads them instead of the synthetic default when
# present (clvlib/io/sources.py). GEMB_OUTPUT names a GEMB output file; REGION=lat_min,lat_max,lon_min,lon_max
# replaces the southwest Greenland box (ERA5 requests and regional means, NSIDC-0533 melt extent).
export REGION GEMB_OUTPUT
REAL_era5 := $(sort $(wildcard data/raw/era5/*.nc data/raw/era5/*.zip))
REAL_gemb := $(if $(GEMB_OUTPUT),$(wildcard $(GEMB_OUTPUT)),$(sort $(wildcard data/raw/gemb/*.mat data/raw/gemb/*.nc)))
REAL_MEASURES := $(sort $(wildcard data/raw/measures/*.nc data/raw/measures/*.csv))

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LIB := $(wildcard clvlib/*.py clvlib/*/*.py)
SYNTH_LIB := clvlib/synthetic/generator.py clvlib/synthetic/snowpack.py clvlib/synthetic/physics.py clvlib/variables.py clvlib/synthetic/rawdata.py
RAW := data/raw/synthetic/seed-$(SEED)/manifest.json
NB := build/notebooks
RUN_NB := $(PY) -m clvlib.pipeline.notebooks --no-progress --stats build/stats.jsonl
NOISE := grep -v -e "is ignored: it is neither a file nor a directory" -e "running over TCP without encryption" \
  -e "KeyboardInterrupt caught in kernel" || true
# Appended to an 'exec'ed command: the shell is replaced by Python, so that make's SIGTERM reaches it
# (and, through clvlib.pipeline.signals, its notebook kernels), while the kernels' noise is filtered.
FILTERED := > >($(NOISE)) 2>&1

# The run's parameters live in build/params.json, rewritten only when they change, so that
# changing PROFILE or SEED reruns the notebooks and an unchanged call does nothing. Targets that
# never build the paper (make run on your own data, test, help) leave it alone.
# build/sources-<dataset>.txt and build/sources-measures.txt list the real input files (and REGION, GEMB_OUTPUT)
# the same way, so adding or removing real files under data/raw reruns that data set's chain from notebook 01
# (from 04 for MEaSUREs files).
ifeq ($(filter $(NO_PAPER_GOALS),$(GOALS)),)
$(shell mkdir -p build && printf '{"profile": "%s", "seed": %s}\n' $(call q,$(PROFILE)) $(call q,$(SEED)) > build/.params.new \
  && { cmp -s build/.params.new build/params.json || mv build/.params.new build/params.json; }; rm -f build/.params.new)
write_list = $(shell printf '%s\n' $(call q,$(2)) $(foreach f,$(3),$(call q,$(f))) > build/.$(1).new && { cmp -s build/.$(1).new build/$(1).txt \
  || mv build/.$(1).new build/$(1).txt; }; rm -f build/.$(1).new)
$(call write_list,method,$(METHOD))
$(call write_list,world,$(WORLD))
$(call write_list,sources-era5,REGION=$(REGION),$(REAL_era5))
$(call write_list,sources-gemb,GEMB_OUTPUT=$(GEMB_OUTPUT),$(REAL_gemb))
$(call write_list,sources-measures,REGION=$(REGION),$(REAL_MEASURES))
endif
PARAMS := build/params.json

# The stages, what each executed notebook needs and the clvlib modules it imports (directly or through
# other modules) come from build/deps.mk, written by clvlib/pipeline/deps.py from the one stage table
# (clvlib/pipeline/stages.py) and the import graph: NOTEBOOKS, METHOD_STAGES and one prerequisite line per
# executed notebook. Editing one module reruns only the notebooks that import it and the stages after them.
DEPS := build/deps.mk
$(DEPS): $(wildcard notebooks/[0-9]*.py) $(LIB)
	@$(PYTHON) clvlib/pipeline/deps.py --notebooks notebooks --package clvlib --out $@
ifeq ($(filter $(NO_PAPER_GOALS),$(GOALS)),)
-include $(DEPS)
# Before make looks at time stamps: a stage whose data outputs (checksum files) or registered
# tables and figures (paper/manifest.json) are missing, truncated or edited loses its executed
# notebook, so it runs again instead of its broken output being used (clvlib/pipeline/integrity.py).
ifeq ($(MAKELEVEL),0)
$(shell test -d $(NB) && $(PYTHON) clvlib/pipeline/integrity.py --root . --notebooks $(NB))
endif
endif

.PHONY: help env lock synthetic data paper notebooks verify run check select search bench test lint lab seeds clean

help: ## {development} show this help
	@echo "Arctic melt anomaly attribution companion (arXiv 2502.07741)"
	@echo "Usage: make <target> [OPTION=value ...]"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z]+:.*## \{/ { text = $$2; group = substr(text, 2, index(text, "}") - 2); \
	  text = substr(text, index(text, "}") + 2); opts = ""; \
	  if (match(text, / \[[^]]*\]$$/)) { opts = substr(text, RSTART + 2, RLENGTH - 3); text = substr(text, 1, RSTART - 1) } \
	  lines[group] = lines[group] sprintf("  %-10s %s\n", $$1, text); \
	  if (opts != "") lines[group] = lines[group] sprintf("  %-10s   options: %s\n", "", opts) } \
	  END { n = split("build,your data,checks,development", order, ","); \
	    for (i = 1; i <= n; i++) printf "\n%s:\n%s", order[i], lines[order[i]] }' $(firstword $(MAKEFILE_LIST))

env: $(STAMP) ## {development} create .venv from requirements.lock (exact versions and hashes; redone when it changes)

# requirements.lock pins the whole dependency tree with hashes (make lock writes it from pyproject.toml);
# torch is the CPU build 2.13.0+cpu (off this machine: --extra-index-url https://download.pytorch.org/whl/cpu).
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock 2>&1 | { $(NOISE); }
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | { $(NOISE); }
	touch $@

# Needs the network (PyPI) and pip-tools, installed into build/pip-tools; about 5 minutes.
lock: ## {development} rewrite requirements.lock from pyproject.toml (every package, versions and hashes)
	test -x build/pip-tools/bin/pip-compile || { $(PYTHON) -m venv build/pip-tools && build/pip-tools/bin/pip install --quiet pip-tools==7.6.2; }
	build/pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --output-file=requirements.lock pyproject.toml

synthetic: $(RAW) ## {build} write the embedded synthetic default data under data/raw/synthetic/ [SEED=0 WORLD=default|synoptic]

data/raw/synthetic/seed-%/manifest.json: $(SYNTH_LIB) $(STAMP) $(wildcard build/world.txt)
	$(PY) -m clvlib.synthetic.rawdata --seed $* --world $(call q,$(WORLD)) --out $(@D)

# Resumable: files whose SHA-256 matches data/raw/<set>/manifest.json are skipped. Missing credentials or
# download clients end with a message saying what to do (clvlib/io/download.py), never a traceback.
data: $(STAMP) ## {your data} download real ERA5 (CDS) and MEaSUREs (NASA Earthdata) into data/raw [YEARS=1951-2021 REGION=... or SITE=lat,lon for the point product]
	@$(PY) -m clvlib.io.download --what all --years $(call q,$(YEARS)) --out data/raw $(if $(REGION),--region $(call q,$(REGION))) \
	  $(if $(SITE),--site $(call q,$(SITE)))

# 07 compares the two data sets, so it has no dataset parameter.
$(NB)/07_compare.ipynb: $(PARAMS) $(STAMP)
	@echo "== 07_compare profile=$(PROFILE) seed=$(SEED)"
	@exec $(RUN_NB) notebooks/07_compare.py $@ -p profile $(PROFILE) -p seed $(SEED) -p method $(METHOD) -p root $(call q,$(CURDIR)) $(FILTERED)

# The stem is <stage>_<dataset>: a per-data-set stage of the table (clvlib/pipeline/stages.py) and one data set.
$(NB)/%.ipynb: $(PARAMS) $(STAMP)
	@stem=$*; echo "== $${stem%_*} dataset=$${stem##*_} profile=$(PROFILE) seed=$(SEED)$(if $(filter $(addsuffix _%,$(METHOD_STAGES)),$*), method=$(METHOD))"
	@stem=$*; exec $(RUN_NB) notebooks/$${stem%_*}.py $@ -p dataset $${stem##*_} -p profile $(PROFILE) \
	  -p seed $(SEED) $(if $(filter $(addsuffix _%,$(METHOD_STAGES)),$*),-p method $(METHOD)) -p root $(call q,$(CURDIR)) $(FILTERED)

paper: $(STAMP) $(RAW) ## {build} regenerate every table and figure (paper/tables, paper/figures, paper/report.html) [PROFILE=full|quick SEED=0 METHOD=paper|best|original WORLD=default|synoptic]
	@$(MAKE) --no-print-directory --output-sync=target -j$(JOBS) notebooks
	@$(MAKE) --no-print-directory paper/report.html
	@echo "paper: tables in paper/tables, figures in paper/figures, claims in paper/claims.md, report in paper/report.html"

VERIFY := $(PY) -m clvlib.publish.claims --paper paper --claims paper/claims.yaml --profile $(PROFILE) --seed $(SEED) --method $(METHOD)

verify: $(STAMP) ## {build} evaluate the paper's claims against the built tables (paper/claims.md) [STRICT=1: fail on a claim that does not hold]
	$(VERIFY) $(if $(STRICT),--strict)

# make paper runs the same verification whenever a notebook, the claims or their rules changed.
paper/claims.md: $(NOTEBOOKS) paper/claims.yaml clvlib/publish/claims.py build/method.txt
	$(VERIFY)

paper/report.html: paper/claims.md $(NOTEBOOKS) clvlib/publish/report.py clvlib/publish/summary.py
	$(PY) -m clvlib.publish.report --paper paper --notebooks $(NB)

notebooks: $(NOTEBOOKS)

run: $(STAMP) ## {your data} notebooks 01-06 on your data: make run DATA=<file or folder> OUT=<folder> [PROFILE=full|quick SEED=0 NAME=custom METHOD=best|paper|original REGION=...]
	@test -n $(call q,$(DATA)) -a -n $(call q,$(OUT)) || { echo "usage: make run DATA=<canonical netCDF file, raw ERA5 download (file, ZIP or folder) or GEMB output (.mat/.nc)> OUT=<output folder>" \
	  "[PROFILE=full|quick] [SEED=0] [NAME=custom]; the file's contract is in docs/your-data.md" >&2; exit 2; }
	@exec $(PY) -m clvlib.pipeline.run --data $(call q,$(DATA)) --out $(call q,$(OUT)) --profile $(PROFILE) --seed $(SEED) \
	  --name $(call q,$(NAME)) $(RUN_METHOD) --no-progress $(FILTERED)

check: $(STAMP) ## {your data} load and check an input as make run would, without training: make check DATA=... [PROFILE=full|quick REGION=...|file]
	@test -n $(call q,$(DATA)) || { echo "usage: make check DATA=<canonical netCDF file, raw ERA5 download (file, ZIP or folder) or GEMB output> [REGION=...|file]" >&2; exit 2; }
	@exec $(PY) -m clvlib.pipeline.inputcheck $(call q,$(DATA)) --profile $(PROFILE) $(FILTERED)

# The choice of the best configuration on tuning seeds 1-3 (never reported); its tables are committed
# (paper/selection) and CLVConfig.best() must match them (tests/test_selection.py).
select: $(STAMP) ## {development} re-run the selection of best on the tuning seeds of both worlds (about 1 h) [SELECT_SEEDS=1,2,3]
	$(PY) -m clvlib.pipeline.selection --seeds $(call q,$(SELECT_SEEDS)) --profile full

search: $(STAMP) ## {development} Optuna search of the CLV settings on the tuning seeds (short record; about 1 h) [TRIALS=24]
	$(PY) -m clvlib.pipeline.search --trials $(call q,$(TRIALS)) --seeds $(call q,$(SELECT_SEEDS))

bench: $(STAMP) ## {checks} time and memory against references and targets; bench/results.json (about 1 h) [FAST=1: a few]
	$(PY) -m bench.run $(if $(FAST),--fast)

# pytest-xdist runs the test files on JOBS workers (a file's tests stay together on one: the notebook tests
# share their project folder), in collection order, which puts the longest files first (tests/conftest.py):
# xdist's default reorders files by their number of tests, and the notebook file, five tests and four
# minutes, then started last. pytest -m "not slow" skips the end-to-end runs for an edit loop of about a minute.
test: $(STAMP) ## {checks} make lint, then the test suite, with a quick end-to-end run of the notebooks
	@$(MAKE) --no-print-directory lint
	$(PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder

# ruff (pinned in pyproject.toml) over clvlib, the notebooks, the tests and the benchmarks; settings in pyproject.toml.
lint: $(STAMP) ## {checks} check formatting and lint (ruff) of the code and the notebooks [FIX=1: reformat and apply the safe fixes]
	$(VENV)/bin/ruff format $(if $(FIX),,--check --diff) .
	$(VENV)/bin/ruff check $(if $(FIX),--fix) .

lab: $(STAMP) ## {development} open JupyterLab; the .py notebooks open as notebooks (jupytext) [LAB_PORT=8890: that port, no browser]
	mkdir -p $(VENV)/share/jupyter/lab/settings
	printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' \
	  > $(VENV)/share/jupyter/lab/settings/overrides.json
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) \
	  $(if $(LAB_PORT),--no-browser --port=$(call q,$(LAB_PORT)))

# Several seeds (docs/seeds.md): per seed, notebooks 01-03 once (build/seeds/seed-<s>/base) and 04-07
# for each of the paper and best configurations in its own root (build/seeds/seed-<s>/<method>), then the
# claims; a rerun skips what is complete. Mean and spread over seeds go to paper/tables/tab_seeds_*.
seeds: $(STAMP) ## {build} seeds x worlds x (paper, best), JOBS chains side by side on dask: tab_seeds_* [SEEDS=0,4,6 (not tuning seeds) WORLDS=default,synoptic PROFILE=full|quick]
	@exec $(PY) -m clvlib.pipeline.seeds --seeds $(call q,$(SEEDS)) --worlds $(call q,$(WORLDS)) --profile $(PROFILE) --out build/seeds --paper paper --jobs $(JOBS) $(FILTERED)

# Once make seeds has run, claims.md and report.html show each claim's support over seeds (make paper redoes them).
paper/claims.md: $(wildcard paper/tables/tab_seeds_claims.csv)

clean: ## {development} remove generated files (never data/raw)
	rm -rf build data/processed/* data/models/* paper/figures paper/tables paper/manifest.json paper/.manifest.lock paper/claims.md paper/report.html paper/notebooks
	touch data/processed/.gitkeep data/models/.gitkeep
