"""``make seeds``: the whole pipeline for several seeds, both synthetic worlds and two CLV configurations.

Every seed runs in each synthetic world (:data:`clvlib.synthetic.events.WORLDS`: ``default`` under
``<out>/seed-<s>/``, ``synoptic`` under ``<out>/synoptic/seed-<s>/``); every table below has a
``world`` column, so a conclusion can be read per world. For each seed the embedded default is
written and notebooks 01-03 run once for both data sets in ``<out>/seed-<s>/base/``; that root's
``data/`` and ``paper/`` are then copied into ``<out>/seed-<s>/<method>/`` for each method
(``paper``, ``best``: notebooks 04-07's ``method`` parameter), where notebooks 04-06 (both data
sets) and 07 run and the claims are evaluated (:func:`clvlib.publish.claims.verify` with that
method). Each root is a project root as the notebooks expect one (``data/``, ``paper/``), its
executed notebooks are in ``<root>/notebooks/``.

Each (world, seed) is one chain, :func:`build_seed`: its base, then each method. With ``--jobs`` > 1
the chains run side by side on a dask ``LocalCluster`` of that many workers, with ``--scheduler`` (or
``DASK_SCHEDULER_ADDRESS``) on that cluster, whose workers must see the same filesystem
(:mod:`clvlib.pipeline.cluster`); a line reports each finished chain, a failed chain's log is named and
the others go on. A finished root writes ``complete.json`` and a rerun resumes only what is missing
(:mod:`clvlib.pipeline.roots`); when a seed's ``base`` is rebuilt, its method roots are too.

The aggregation (pure functions, tables in, tables out: :mod:`clvlib.publish.seeds_tables`) writes
``tab_seeds_runs``, ``tab_seeds_detection``, ``tab_seeds_attribution``, ``tab_seeds_kinds`` and
``tab_seeds_claims`` to the project's ``paper/tables`` (notebook ``seeds`` in ``paper/manifest.json``).

Command line::

    python -m clvlib.pipeline.seeds --seeds 0,4,6 --profile full --out build/seeds --paper paper [--jobs 2]
        [--worlds default,synoptic] [--scheduler tcp://host:8786]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from papermill.exceptions import PapermillExecutionError

from clvlib.config import PROFILES, TUNING_SEEDS
from clvlib.errors import InputDataError, RunTerminated, SeedRunError, StaleTableError
from clvlib.files import atomic_write
from clvlib.pipeline import stages as stage_table
from clvlib.pipeline.cluster import chain_threads, run_tasks, thread_environment
from clvlib.pipeline.notebooks import NotebookKernel, failure_message, run_notebook
from clvlib.pipeline.roots import CLAIMS, copy_base, is_complete, prepare_root, run_params, write_marker
from clvlib.pipeline.signals import stop_children_on_signal
from clvlib.publish.claims import HOLDS, verify
from clvlib.publish.claims import METHODS as CLV_METHODS
from clvlib.publish.seeds_tables import (
    attribution_by_kind,
    claims_summary,
    detection_summary,
    kind_summary,
    runs_table,
    save_tables,
)
from clvlib.synthetic.events import WORLDS
from clvlib.synthetic.generator import SyntheticConfig
from clvlib.synthetic.rawdata import verify_synthetic, write_synthetic

__all__ = [
    "BASE_STAGES",
    "COMPARE",
    "DATASETS",
    "METHODS",
    "METHOD_STAGES",
    "NOTEBOOKS",
    "SeedLayout",
    "aggregate",
    "build_base",
    "build_method",
    "build_seed",
    "collect",
    "main",
    "parse_seeds",
    "run_seeds",
    "world_out",
]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
DATASETS: tuple[str, ...] = stage_table.DATASETS
#: The configurations ``make seeds`` builds (notebooks 04-07's ``method``), in report order.
METHODS: tuple[str, ...] = ("paper", "best")
#: From the stage table: the stages run once per seed, those run per configuration, the comparison.
BASE_STAGES: tuple[str, ...] = tuple(s.name for s in stage_table.STAGES if s.per_dataset and not s.takes_method)
METHOD_STAGES: tuple[str, ...] = tuple(s.name for s in stage_table.STAGES if s.per_dataset and s.takes_method)
COMPARE: str = next(s.name for s in stage_table.STAGES if not s.per_dataset)


def world_out(out: Path, world: str) -> Path:
    """Folder of one world's per-seed roots: ``out`` for the default world, ``out/<world>`` otherwise.

    Examples
    --------
    >>> str(world_out(Path("build/seeds"), "default")), str(world_out(Path("build/seeds"), "synoptic"))
    ('build/seeds', 'build/seeds/synoptic')
    """
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}: expected one of {WORLDS}")
    return Path(out) if world == "default" else Path(out) / world


@dataclass(frozen=True)
class SeedLayout:
    """Where one seed's runs live under ``out``.

    Examples
    --------
    >>> layout = SeedLayout(Path("build/seeds"), 3)
    >>> str(layout.base), str(layout.method("best"))
    ('build/seeds/seed-3/base', 'build/seeds/seed-3/best')
    """

    out: Path
    seed: int

    @property
    def folder(self) -> Path:
        """``<out>/seed-<seed>``."""
        return Path(self.out) / f"seed-{self.seed}"

    @property
    def base(self) -> Path:
        """Root of notebooks 01-03 (shared by the methods)."""
        return self.folder / "base"

    def method(self, method: str) -> Path:
        """Root of notebooks 04-07 and the claims for ``method``."""
        return self.folder / method


# --------------------------------------------------------------------------- resume


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from ``"0,1,2"`` (distinct, non-negative, order kept).

    Examples
    --------
    >>> parse_seeds("0, 1,4")
    (0, 1, 4)
    """
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise ValueError(f"seeds {text!r}: expected comma-separated integers such as 0,1,2,3,4") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"seeds {text!r}: expected distinct non-negative integers such as 0,1,2,3,4")
    return seeds


# --------------------------------------------------------------------------- running


def _run_chain(
    stages: tuple[str, ...],
    dataset: str | None,
    params: dict,
    root: str,
    label: str,
    rerun: bool = False,
    notebooks: str = str(NOTEBOOKS),
) -> dict:
    """Run ``stages`` in order in ``root`` (one data set); skip those already executed unless an earlier one ran.

    Returns ``{"seconds": {notebook: s}, "ran": bool, "error": message or None}`` (no exception, so
    that it can run in a worker process).
    """
    root_path, seconds = Path(root), {}
    with ExitStack() as stack:
        kernel = None  # one kernel for the stages that run, started by the first of them
        for stage in stages:
            stem = stage if dataset is None else f"{stage}_{dataset}"
            output = root_path / "notebooks" / f"{stem}.ipynb"
            if output.exists() and not rerun:
                continue
            rerun = True  # a stage that runs again makes every later stage run again
            notebook_params = {**({"dataset": dataset} if dataset else {}), **params, "root": str(root_path)}
            shown = " ".join(f"{k}={v}" for k, v in notebook_params.items() if k != "root")
            print(f"== {label} {stage} {shown}", flush=True)
            kernel = kernel or stack.enter_context(NotebookKernel(Path(notebooks)))
            start = time.perf_counter()
            try:
                run_notebook(Path(notebooks) / f"{stage}.py", output, notebook_params, progress=False, kernel=kernel)
            except PapermillExecutionError as err:
                error = failure_message(err) + f"\nParameters: {notebook_params}"
                return {"seconds": seconds, "ran": True, "error": error}
            seconds[stem] = time.perf_counter() - start
            print(f"   {label} {stem}: {seconds[stem]:.0f} s", flush=True)
    return {"seconds": seconds, "ran": rerun, "error": None}


def _run_datasets(stages: tuple[str, ...], params: dict, root: Path, label: str) -> dict:
    """:func:`_run_chain` for each data set, one after the other; raises on a failure."""
    results = [_run_chain(stages, d, params, str(root), label) for d in DATASETS]
    errors = [r["error"] for r in results if r["error"]]
    if errors:
        raise SeedRunError("\n".join(errors))
    return {"seconds": {k: v for r in results for k, v in r["seconds"].items()}, "ran": any(r["ran"] for r in results)}


def build_base(layout: SeedLayout, profile: str, world: str = "default") -> bool:
    """Write the seed's synthetic data of ``world`` and run notebooks 01-03 for both data sets in ``layout.base``.

    The method roots of the seed are removed first (they were built on another base). Returns True
    when anything ran, False when the base was complete.
    """
    params = run_params(profile, layout.seed)
    label = f"seed {layout.seed} base"
    if is_complete(layout.base, params):
        print(f"{label}: complete, skipped", flush=True)
        return False
    for method in CLV_METHODS:
        if layout.method(method).exists():
            shutil.rmtree(layout.method(method))
    prepare_root(layout.base, params)
    raw = layout.base / "data" / "raw" / "synthetic" / f"seed-{layout.seed}"
    try:
        verify_synthetic(raw, layout.seed, world)
    except InputDataError:
        print(f"== {label}: writing the synthetic data ({world} world)", flush=True)
        write_synthetic(raw, seed=layout.seed, config=SyntheticConfig(world=world))
    result = _run_datasets(BASE_STAGES, {"profile": profile, "seed": layout.seed}, layout.base, label)
    write_marker(layout.base, params, result["seconds"])
    return True


def build_method(layout: SeedLayout, method: str, profile: str, claims_file: Path) -> None:
    """Run notebooks 04-06 (both data sets) and 07 for ``method`` in its own root, then evaluate the claims."""
    root, params = layout.method(method), run_params(profile, layout.seed, method)
    label = f"seed {layout.seed} {method}"
    if is_complete(root, params):
        print(f"{label}: complete, skipped", flush=True)
        return
    prepare_root(root, params, fill=lambda r: copy_base(layout.base, r))
    nb_params = {"profile": profile, "seed": layout.seed, "method": method}
    result = _run_datasets(METHOD_STAGES, nb_params, root, label)
    last = _run_chain((COMPARE,), None, nb_params, str(root), label, rerun=result["ran"])
    if last["error"]:
        raise SeedRunError(last["error"])
    seconds = {**result["seconds"], **last["seconds"]}
    try:
        claims = verify(root / "paper", claims_file, profile, layout.seed, method=method)
    except (StaleTableError, ValueError, KeyError) as err:
        raise SeedRunError(f"the claims of {root} could not be evaluated: {err}") from err
    atomic_write(root / CLAIMS, lambda p: claims[["id", "claim", "measured", "verdict"]].to_csv(p, index=False))
    write_marker(root, params, seconds)
    held = int((claims["verdict"] == HOLDS).sum())
    print(f"{label}: done in {sum(seconds.values()) / 60:.1f} min; {held} of {len(claims)} claims hold", flush=True)


def build_seed(
    world: str,
    seed: int,
    profile: str,
    out: str,
    methods: tuple[str, ...],
    claims_file: str,
    threads: Mapping[str, str | None],
    to_log: bool = False,
) -> str | None:
    """One task of ``make seeds``: the seed's base, then each method, in ``world``; returns an error message or None.

    ``threads`` are the thread settings of the process that started ``make seeds``
    (:func:`clvlib.pipeline.cluster.thread_environment`). With ``to_log`` (on a dask worker) everything the
    chain prints goes to ``<world out>/seed-<seed>/log.txt``, which a failure message names.
    """
    layout = SeedLayout(world_out(Path(out), world), seed)
    log_file = layout.folder / "log.txt"
    thread_environment(threads)
    with ExitStack() as stack:
        if to_log:
            layout.folder.mkdir(parents=True, exist_ok=True)
            stream = stack.enter_context(open(log_file, "a", buffering=1))
            stack.enter_context(redirect_stdout(stream))
            stack.enter_context(redirect_stderr(stream))
        try:
            build_base(layout, profile, world)
            for method in methods:
                build_method(layout, method, profile, Path(claims_file))
        except SeedRunError as err:
            return f"{world} world, seed {seed}: {err}" + (f"\n(its log: {log_file})" if to_log else "")
    return None


# --------------------------------------------------------------------------- collecting and saving


def collect(out: Path, seeds: tuple[int, ...], methods: tuple[str, ...]) -> dict:
    """Read every finished root's tables.

    Returns ``{"detection", "attribution", "by_kind": {(seed, build, dataset): df}, "claims": df, "inputs": [paths]}``.
    """
    detection, attribution, by_kind, claims, inputs = {}, {}, {}, [], []
    for seed in seeds:
        for method in methods:
            root = SeedLayout(out, seed).method(method)
            for ds in DATASETS:
                for kind, store in (
                    ("detection_truth", detection),
                    ("attribution_truth", attribution),
                    ("detection_by_kind", by_kind),
                ):
                    path = root / "paper" / "tables" / f"tab_{kind}_{ds}.csv"
                    if path.exists():
                        store[(seed, method, ds)] = pd.read_csv(path)
                        inputs.append(path)
            path = root / CLAIMS
            if path.exists():
                claims.append(pd.read_csv(path).assign(seed=seed, method=method))
                inputs.append(path)
    verdicts = (
        pd.concat(claims, ignore_index=True)
        if claims
        else pd.DataFrame(columns=["seed", "method", "id", "claim", "verdict"])
    )
    return {
        "detection": detection,
        "attribution": attribution,
        "by_kind": by_kind,
        "claims": verdicts,
        "inputs": inputs,
    }


def aggregate(
    out: Path,
    paper: Path,
    seeds: tuple[int, ...],
    methods: tuple[str, ...],
    profile: str,
    worlds: tuple[str, ...] = ("default",),
) -> dict[str, pd.DataFrame]:
    """Collect the finished roots of ``seeds``, ``methods`` and ``worlds``, aggregate them per world and save the
    five tables (each with a ``world`` column first)."""
    parts: dict[str, list[pd.DataFrame]] = {
        k: [] for k in ("seeds_runs", "seeds_detection", "seeds_attribution", "seeds_claims", "seeds_kinds")
    }
    inputs: list[Path] = []
    for world in worlds:
        found = collect(world_out(out, world), seeds, methods)
        runs = runs_table(found["detection"])
        for key, table in (
            ("seeds_runs", runs),
            ("seeds_detection", detection_summary(runs)),
            ("seeds_attribution", attribution_by_kind(found["attribution"])),
            ("seeds_claims", claims_summary(found["claims"])),
            ("seeds_kinds", kind_summary(found["by_kind"])),
        ):
            parts[key].append(table.assign(world=world)[["world", *table.columns]])
        inputs += found["inputs"]
    tables = {key: pd.concat(p, ignore_index=True) for key, p in parts.items()}
    parameters = {
        "profile": profile,
        "seeds": ",".join(map(str, seeds)),
        "methods": ",".join(methods),
        "worlds": ",".join(worlds),
    }
    save_tables(paper, tables, parameters, inputs)
    return tables


def run_seeds(
    seeds: tuple[int, ...],
    profile: str,
    out: Path,
    paper: Path,
    methods: tuple[str, ...] = METHODS,
    jobs: int = 1,
    log: Callable[[str], None] = print,
    worlds: tuple[str, ...] = WORLDS,
    address: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Build every (world, seed, method) that is not complete, then aggregate into ``paper/tables/tab_seeds_*``.

    Parameters
    ----------
    seeds : tuple of int
        Seeds of the synthetic data and of training.
    profile : {"full", "quick"}
        Notebook profile.
    out : Path
        Folder of the per-seed roots (``build/seeds``).
    paper : Path
        The project's ``paper/`` folder: ``claims.yaml`` is read from it, the tables go to its ``tables/``.
    methods : tuple of str
        CLV configurations to build (notebooks 04-07's ``method``).
    jobs : int
        (world, seed) chains run side by side on a dask ``LocalCluster`` of this many workers (1: one after
        the other, here).
    worlds : tuple of str
        Synthetic worlds (:data:`clvlib.synthetic.events.WORLDS`); every seed runs in each.
    address : str, optional
        A dask scheduler (``DASK_SCHEDULER_ADDRESS``): the chains run on its cluster, which must see ``out``
        and ``paper`` (a shared filesystem); ``jobs`` is then not used.

    Returns
    -------
    dict of str to pandas.DataFrame
        The five tables, keyed ``seeds_runs``, ``seeds_detection``, ``seeds_attribution``, ``seeds_claims``,
        ``seeds_kinds``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {PROFILES}")
    unknown = set(methods) - set(CLV_METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}: expected some of {CLV_METHODS}")
    out, paper = Path(out).resolve(), Path(paper).resolve()
    start = time.perf_counter()
    distributed = jobs > 1 or bool(address)
    threads = chain_threads(jobs, address)
    tasks = {
        f"{world} world, seed {seed}": (world, seed, profile, str(out), methods, str(paper / "claims.yaml"), threads)
        + (distributed,)
        for world in worlds
        for seed in seeds
    }
    errors = [e for e in run_tasks(build_seed, tasks, jobs, address, log).values() if e]
    if errors:
        raise SeedRunError("\n".join(errors) + "\nThe other chains are complete; a rerun resumes the failed ones.")
    tables = aggregate(out, paper, seeds, methods, profile, worlds)
    log(
        f"make seeds: {len(worlds)} worlds x {len(seeds)} seeds x {len(methods)} methods in "
        f"{(time.perf_counter() - start) / 60:.1f} min; "
        f"tables tab_seeds_runs, tab_seeds_detection, tab_seeds_attribution, tab_seeds_claims in {paper / 'tables'}"
    )
    for r in tables["seeds_claims"].itertuples():
        log(f"claim {r.id:>2} {r.world:<8} {r.method:<6} {r.support}")
    return tables


def main(argv: list[str] | None = None) -> int:
    """Command line of :func:`run_seeds`."""
    parser = argparse.ArgumentParser(description="Run the pipeline for several seeds and aggregate the results.")
    parser.add_argument("--seeds", default="0,4,6", help="comma-separated seeds (default 0,4,6: not the tuning seeds)")
    parser.add_argument(
        "--allow-tuning-seeds",
        action="store_true",
        help=f"also report the tuning seeds {','.join(map(str, TUNING_SEEDS))} (their numbers flatter 'best')",
    )
    parser.add_argument("--profile", default="full", choices=PROFILES)
    parser.add_argument("--out", type=Path, default=Path("build/seeds"), help="folder of the per-seed runs")
    parser.add_argument("--paper", type=Path, default=Path("paper"), help="the project's paper/ folder")
    parser.add_argument("--methods", default=",".join(METHODS), help="CLV configurations (default paper,best)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="(world, seed) chains side by side on a dask LocalCluster (default 1)"
    )
    parser.add_argument(
        "--scheduler",
        default=os.environ.get("DASK_SCHEDULER_ADDRESS") or None,
        help="address of a dask scheduler to run the chains on (default: $DASK_SCHEDULER_ADDRESS)",
    )
    parser.add_argument("--worlds", default=",".join(WORLDS), help="synthetic worlds (default default,synoptic)")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as err:
        parser.error(str(err))
    worlds = tuple(w for w in args.worlds.split(",") if w)
    if not worlds or set(worlds) - set(WORLDS):
        parser.error(f"--worlds {args.worlds}: expected some of {','.join(WORLDS)}")
    tuning = sorted(set(seeds) & set(TUNING_SEEDS))
    if tuning and not args.allow_tuning_seeds:
        parser.error(
            f"seeds {tuning} chose the 'best' configuration and the recommended attribution (make select): their "
            "numbers would flatter them. Report other seeds (default 0,4,6) or pass --allow-tuning-seeds."
        )
    os.environ.pop("GEMB_OUTPUT", None)  # the seeds vary the embedded default: never a real GEMB file
    try:
        with stop_children_on_signal():
            run_seeds(
                seeds,
                args.profile,
                args.out,
                args.paper,
                tuple(m for m in args.methods.split(",") if m),
                args.jobs,
                worlds=worlds,
                address=args.scheduler,
            )
    except SeedRunError as err:
        print(f"make seeds: {err}", file=sys.stderr)
        return 1
    except RunTerminated as err:
        print(
            f"\nmake seeds {err}: its notebook kernels were stopped; a rerun resumes with the stages that had not "
            "finished.",
            file=sys.stderr,
        )
        return 128 + err.signum
    return 0


if __name__ == "__main__":
    sys.exit(main())
