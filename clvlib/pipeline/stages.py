"""The one table of the pipeline's stages: notebook, what it reads, what it writes.

Read by the Makefile (through ``build/deps.mk``, written by :mod:`clvlib.pipeline.deps`), by the
integrity check before ``make`` (:mod:`clvlib.pipeline.integrity`), by ``make run`` and
``make seeds`` (which stages take the ``method`` parameter) and by the notebooks (the paths of
their inputs and outputs, :func:`path`).

Paths are relative to the project root; ``{ds}`` is the data set (``era5``, ``gemb``), ``{seed}``
the seed of the embedded default and ``{model}`` one of :data:`MODELS`.

Standard library only: the Makefile runs :mod:`clvlib.pipeline.deps` and
:mod:`clvlib.pipeline.integrity` with the system Python, before the environment exists.

Examples
--------
>>> [s.name for s in STAGES if s.takes_method]
['04_detect', '05_attribute', '06_validate', '07_compare']
>>> stage("04_detect").writes
('data/processed/{ds}/scores.nc', 'data/processed/{ds}/events.csv')
>>> path("data/processed/{ds}/features.nc", "/project", dataset="gemb")
PosixPath('/project/data/processed/gemb/features.nc')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DATASETS",
    "FEATURES",
    "MODELS",
    "RAW",
    "Stage",
    "STAGES",
    "makefile_rules",
    "path",
    "stage",
    "stage_outputs",
]

#: The two data sets of the embedded default (one notebook chain each).
DATASETS: tuple[str, ...] = ("era5", "gemb")
#: The models notebook 03 trains: three configurations and their unclustered ablations
#: (``clvlib.config.CONFIGURATIONS``; a test checks they agree).
MODELS: tuple[str, ...] = (
    "original",
    "paper",
    "best",
    "unclustered-original",
    "unclustered-paper",
    "unclustered-best",
)
#: The embedded default's manifest (its truth and MEaSUREs-like record sit next to it).
RAW = "data/raw/synthetic/seed-{seed}/manifest.json"
#: Notebook 01's output, read by every later stage.
FEATURES = "data/processed/{ds}/features.nc"


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline: a numbered notebook.

    Parameters
    ----------
    name : str
        The notebook's stem (``notebooks/<name>.py``).
    after : tuple of str
        Stages whose outputs it reads (of the same data set; all data sets for a stage that is
        not per data set).
    reads : tuple of str
        Other project files it reads (paths with ``{ds}``, ``{seed}``).
    writes : tuple of str
        Data files it writes with a checksum file (paths with ``{ds}``); its tables and figures
        are registered in ``paper/manifest.json`` instead.
    sources : tuple of str
        Input lists whose change reruns it: ``"{ds}"`` (real files of the data set) or
        ``"measures"`` (a real MEaSUREs record).
    takes_method : bool
        Whether the notebook has the ``method`` parameter (the configuration it reports).
    per_dataset : bool
        One notebook per data set (``<name>_<ds>``), or one comparing both.
    settings : tuple of str
        Its other parameters (beyond ``dataset``, ``profile``, ``seed``, ``root`` and ``method``);
        see :attr:`parameters`.
    """

    name: str
    after: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    takes_method: bool = False
    per_dataset: bool = True
    settings: tuple[str, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names in the notebook's parameters cell that its manifest entries record (all but ``root``).

        Examples
        --------
        >>> stage("05_attribute").parameters
        ('dataset', 'profile', 'seed', 'baseline', 'n_permutations', 'method')
        """
        common = ("dataset", "profile", "seed") if self.per_dataset else ("profile", "seed")
        method = ("method",) if self.takes_method and "method" not in self.settings else ()
        return common + self.settings + method

    @property
    def notebook(self) -> str:
        """The notebook's source, relative to the project root."""
        return f"notebooks/{self.name}.py"

    def executed(self, dataset: str | None, folder: str = "build/notebooks") -> str:
        """The executed notebook, ``make``'s record that the stage ran for ``dataset``."""
        return f"{folder}/{self.name}_{dataset}.ipynb" if self.per_dataset else f"{folder}/{self.name}.ipynb"


STAGES: tuple[Stage, ...] = (
    Stage("01_preprocess", reads=(RAW,), writes=(FEATURES,), sources=("{ds}",), settings=("data",)),
    Stage(
        "02_cluster",
        after=("01_preprocess",),
        writes=("data/models/{ds}/clusters.json",),
        settings=("n_clusters", "method"),  # the clustering method, not a CLV configuration
    ),
    Stage(
        "03_train",
        after=("02_cluster",),
        reads=("paper/selection/selection.csv", "paper/selection/search_trials.csv"),
        writes=tuple(f"data/models/{{ds}}/{m}/clv.pt" for m in MODELS),
    ),
    Stage(
        "04_detect",
        after=("03_train",),
        reads=(RAW,),
        writes=("data/processed/{ds}/scores.nc", "data/processed/{ds}/events.csv"),
        sources=("measures",),
        takes_method=True,
        settings=("alpha",),
    ),
    Stage(
        "05_attribute",
        after=("04_detect",),
        reads=(RAW, "paper/selection/attribution_selection.csv"),
        takes_method=True,
        settings=("baseline", "n_permutations"),
    ),
    Stage("06_validate", after=("05_attribute",), takes_method=True),
    Stage("07_compare", after=("06_validate",), takes_method=True, per_dataset=False),
)


def stage(name: str) -> Stage:
    """The stage called ``name``; a ``KeyError`` naming the stages otherwise."""
    for s in STAGES:
        if s.name == name:
            return s
    raise KeyError(f"no stage {name!r}; the stages are {', '.join(s.name for s in STAGES)}")


def path(pattern: str, root: str | Path, dataset: str = "", seed: int = 0, model: str = "") -> Path:
    """A path of the stage table under ``root``, its ``{ds}``, ``{seed}`` and ``{model}`` fields filled in."""
    return Path(root) / pattern.format(ds=dataset, seed=seed, model=model)


def stage_outputs() -> dict[str, tuple[str, ...]]:
    """``{stage name: data files it writes}`` for the stages that write data files."""
    return {s.name: s.writes for s in STAGES if s.writes}


def _make_paths(patterns: tuple[str, ...], dataset: str) -> list[str]:
    """File patterns as make prerequisites: ``{seed}`` becomes ``$(SEED)``."""
    return [p.format(ds=dataset, seed="$(SEED)") for p in patterns]


def _sources(stage_: Stage, dataset: str) -> list[str]:
    """The input lists (and the real files they name) that rerun a stage when they change."""
    out: list[str] = []
    for name in stage_.sources:
        key = name.format(ds=dataset)
        variable = "REAL_MEASURES" if key == "measures" else f"REAL_{key}"
        out += [f"build/sources-{key}.txt", f"$({variable})"]
    return out


def makefile_rules(folder: str = "build/notebooks") -> list[str]:
    """Make lines from the table: the stage lists and each executed notebook's prerequisites.

    Recipes stay in the Makefile; these lines add ``NOTEBOOKS``, ``METHOD_STAGES`` and one
    prerequisite line per executed notebook (its source, the stages before it, what it reads,
    the input lists and, for a stage with the ``method`` parameter, ``build/method.txt``).

    Examples
    --------
    >>> rules = makefile_rules()
    >>> rules[1]
    'METHOD_STAGES := 04_detect 05_attribute 06_validate 07_compare'
    >>> print(next(r for r in rules if r.startswith("build/notebooks/02_cluster_gemb")))
    build/notebooks/02_cluster_gemb.ipynb: notebooks/02_cluster.py build/notebooks/01_preprocess_gemb.ipynb
    """
    executed = [s.executed(d, folder) for s in STAGES for d in (DATASETS if s.per_dataset else (None,))]
    lines = [
        f"NOTEBOOKS := {' '.join(executed)}",
        f"METHOD_STAGES := {' '.join(s.name for s in STAGES if s.takes_method)}",
    ]
    for s in STAGES:
        for d in DATASETS if s.per_dataset else (None,):
            before = [stage(a).executed(x, folder) for a in s.after for x in ((d,) if s.per_dataset else DATASETS)]
            needs = [s.notebook, *before, *_make_paths(s.reads, d or ""), *_sources(s, d or "")]
            needs += ["build/method.txt"] if s.takes_method else []
            lines.append(f"{s.executed(d, folder)}: {' '.join(needs)}")
    return lines
