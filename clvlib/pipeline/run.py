"""``make run``: notebooks 01-06 on a user's own data, with the same code as the paper.

Command line (what ``make run DATA=... OUT=...`` calls)::

    python -m clvlib.pipeline.run --data PATH --out DIR [--profile full|quick] [--seed 0] [--name custom]

``PATH`` is recognised by content (:func:`clvlib.io.sources.detect_layout`): a canonical netCDF file
(:mod:`clvlib.io.canonical`), a raw ERA5 download from the CDS (netCDF, ZIP, or a folder of them;
reduced by :func:`clvlib.io.era5.load_era5`, with ``era5_invariant.nc`` in the folder as the mask) or
GEMB output (MATLAB v7.3 ``.mat`` or netCDF; :func:`clvlib.io.gemb.load_gemb`). It is loaded and
checked against the contract of :mod:`clvlib.io.canonical` and preprocessed as notebook 01 will
(:func:`clvlib.pipeline.inputcheck.check_input`, what ``make check`` runs) before anything else, so a
non-conforming input fails with a message, never after training. ``DIR`` then receives:

* ``scores.csv``: time, score, threshold, anomaly (one row per 5-day step; threshold empty
  outside the melt season or before it has history; anomaly 0/1), then ``score: <detector>`` for
  every detector of notebook 04 (the three CLV configurations, their unclustered ablations and the
  baselines: Mahalanobis, PCA residual, Isolation Forest, max |z|, mean z²), raw and side by side;
* ``events.csv``: event_id, start, end, peak_time, peak_score (then n_steps, intensity, extreme);
* ``attribution.csv``: time, event_id, feature, delta, rank (every anomalous step and feature);
* ``importance.csv``: method, feature, importance, rank (the CLV's counterfactual ranking and
  every surrogate importance of notebook 06);
* ``notebooks/``: the executed notebooks; ``report.html`` with every figure and table;
* ``paper/`` (figures, tables, manifest) and ``data/`` (features, models, scores), as in the
  project;
* ``.clvlib-run.json``: what the run read and with which settings (it marks ``DIR`` as a
  ``make run`` output).

The run writes into a hidden staging folder next to ``DIR`` and replaces ``DIR`` only when every
stage has finished (:func:`publish_run`), so a failing or interrupted run leaves an earlier result
exactly as it was and two runs never mix in one folder. ``DIR`` must be new, empty or an earlier
``make run`` output; a folder holding anything else is refused rather than replaced. The notebooks
of a failed run are kept in ``<DIR>.failed`` for inspection; a terminated run (``kill``, Ctrl-C)
stops its notebook kernels (:mod:`clvlib.pipeline.signals`) and leaves no staging folder behind.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from clvlib.config import CONFIGURATIONS, PROFILES, Paths
from clvlib.errors import InputDataError, NoSpaceError, RunTerminated
from clvlib.files import atomic_write
from clvlib.method.scores import read_scores
from clvlib.pipeline import stages as stage_table
from clvlib.pipeline.inputcheck import InputCheck, check_input
from clvlib.pipeline.notebooks import NotebookKernel, failure_message, run_notebook
from clvlib.pipeline.signals import stop_children_on_signal

__all__ = [
    "DEFAULT_METHOD",
    "METHOD_STAGES",
    "RUN_MARKER",
    "STAGES",
    "check_out",
    "export_scores",
    "export_tables",
    "importance_table",
    "main",
    "out_lock",
    "publish_run",
    "run_own_data",
    "staging_folder",
]

#: The per-data-set stages of the stage table (07 compares the two data sets of the embedded default).
STAGES: tuple[str, ...] = tuple(s.name for s in stage_table.STAGES if s.per_dataset)
#: Stages that take the ``method`` parameter (the configuration whose detections they report).
METHOD_STAGES: tuple[str, ...] = tuple(s.name for s in stage_table.STAGES if s.per_dataset and s.takes_method)
#: Configuration ``make run`` reports unless METHOD= says otherwise: ``best``, ahead of ``paper`` and of the
#: textbook baselines in both synthetic worlds over the reported seeds (the seeds table, docs/seeds.md).
DEFAULT_METHOD = "best"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EVENT_COLUMNS = ["event_id", "start", "end", "peak_time", "peak_score"]
#: File that marks a folder as a finished ``make run`` output (and records what it read).
RUN_MARKER = ".clvlib-run.json"


def check_out(out: Path) -> None:
    """Refuse an ``OUT`` that ``make run`` must not replace: a file, or a folder holding other files.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_out(folder / "new")  # a new folder: fine
    >>> (folder / "notes.txt").write_text("mine")
    4
    >>> check_out(folder)
    Traceback (most recent call last):
    ...
    clvlib.errors.InputDataError: OUT=... holds files that make run did not write (notes.txt)...
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputDataError(
            f"OUT={out}: is a file, not a folder. OUT names the folder that receives the results "
            "(created if missing); choose a folder path."
        )
    if out.is_dir() and not (out / RUN_MARKER).exists():
        entries = sorted(p.name for p in out.iterdir())
        if entries:
            shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
            raise InputDataError(
                f"OUT={out} holds files that make run did not write ({shown}). make run replaces its OUT folder as a "
                "whole when a run has finished, so it writes only into a new or empty folder or an earlier make run "
                "output. Choose another OUT."
            )


def staging_folder(out: Path) -> Path:
    """The hidden folder next to ``out`` that a run writes into (one per process).

    Examples
    --------
    >>> staging_folder(Path("/runs/mine")).name.startswith(".mine.partial-")
    True
    """
    out = Path(out)
    return out.parent / f".{out.name}.partial-{os.getpid()}"


def _remove_stale_stagings(out: Path) -> None:
    """Remove staging folders of runs into ``out`` whose process is gone (killed with SIGKILL, power cut)."""
    for folder in out.parent.glob(f".{out.name}.partial-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's live process


def publish_run(staging: Path, out: Path) -> None:
    """Replace ``out`` (absent, empty or an earlier run) by the finished ``staging`` folder.

    The earlier folder is renamed aside first and removed only after the new one is in place.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "out").mkdir(); (root / "out" / "old.csv").write_text("old")
    3
    >>> (root / "new").mkdir(); (root / "new" / "scores.csv").write_text("new")
    3
    >>> publish_run(root / "new", root / "out")
    >>> sorted(p.name for p in (root / "out").iterdir()), sorted(p.name for p in root.iterdir())
    (['scores.csv'], ['out'])
    """
    staging, out = Path(staging), Path(out)
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old)


def export_scores(paths: Paths, dataset: str, out: Path) -> list[Path]:
    """Write ``scores.csv`` and ``events.csv`` from notebook 04's ``scores.nc`` and ``events.csv``."""
    scores, events = read_scores(paths.processed(dataset))
    table = scores[["score", "threshold", "anomaly"]].to_dataframe().reset_index()
    if "detector_score" in scores:
        side = scores["detector_score"].to_pandas()
        side.columns = [f"score: {name}" for name in side.columns]
        table = table.join(side.reset_index(drop=True))
    extra = [c for c in ("n_steps", "intensity", "extreme") if c in events]
    return [
        atomic_write(out / "scores.csv", lambda p: table.to_csv(p, index=False, date_format="%Y-%m-%d")),
        atomic_write(
            out / "events.csv", lambda p: events[EVENT_COLUMNS + extra].to_csv(p, index=False, date_format="%Y-%m-%d")
        ),
    ]


def importance_table(drivers: pd.DataFrame, surrogate: pd.DataFrame) -> pd.DataFrame:
    """The CLV ranking and the surrogate importances in one long table (method, feature, importance, rank).

    Examples
    --------
    >>> drivers = pd.DataFrame({"feature": ["a", "b"], "mean_delta": [0.5, 0.1], "rank": [1, 2]})
    >>> sur = pd.DataFrame({"task": ["anomaly"] * 2, "model": ["XGBoost"] * 2, "method": ["gain"] * 2,
    ...                     "feature": ["a", "b"], "importance": [1.0, 3.0], "rank": [2, 1]})
    >>> for method in importance_table(drivers, sur)["method"].tolist():
    ...     print(repr(method))
    'CLV counterfactual (mean delta)'
    'CLV counterfactual (mean delta)'
    'XGBoost gain, anomaly label'
    'XGBoost gain, anomaly label'
    """
    clv = drivers.assign(method="CLV counterfactual (mean delta)", importance=drivers["mean_delta"])
    task = surrogate["task"].map({"anomaly": "anomaly label", "melt": "melt variable"}).fillna(surrogate["task"])
    sur = surrogate.assign(method=surrogate["model"] + " " + surrogate["method"] + ", " + task)
    columns = ["method", "feature", "importance", "rank"]
    return pd.concat([clv[columns], sur[columns]], ignore_index=True)


def export_tables(paths: Paths, dataset: str, out: Path) -> list[Path]:
    """Write ``attribution.csv`` and ``importance.csv`` from the tables of notebooks 05 and 06."""
    attribution = pd.read_csv(paths.tables / f"tab_attribution_{dataset}.csv")
    importance = importance_table(
        pd.read_csv(paths.tables / f"tab_drivers_{dataset}.csv"),
        pd.read_csv(paths.tables / f"tab_importance_{dataset}.csv"),
    )
    return [
        atomic_write(
            out / "attribution.csv",
            lambda p: attribution[["time", "event_id", "feature", "delta", "rank"]].to_csv(p, index=False),
        ),
        atomic_write(out / "importance.csv", lambda p: importance.to_csv(p, index=False)),
    ]


def run_own_data(
    data: Path,
    out: Path,
    profile: str = "full",
    seed: int = 0,
    dataset: str = "custom",
    progress: bool = True,
    method: str = DEFAULT_METHOD,
) -> Path:
    """Check ``data``, run notebooks 01-06 on it with outputs under ``out``, export the CSVs and the report.

    Parameters
    ----------
    data : Path
        Canonical netCDF file (:mod:`clvlib.io.canonical`), raw ERA5 download (file, ZIP or folder)
        or GEMB output file.
    out : Path
        Output folder (created).
    profile : {"full", "quick"}
        ``full``: the paper's training settings on the whole record; ``quick``: 4 epochs on at most
        the last 31 years (for a first look).
    seed : int
        Seed of training, the Isolation Forest, the bootstrap and the surrogates.
    dataset : str
        Name used in file names and captions.
    progress : bool
        Show papermill's progress bars.
    method : {"paper", "best", "original"}
        The CLV configuration whose detections, events and attribution are written
        (:data:`clvlib.config.CONFIGURATIONS`); all three are trained and compared in the tables.

    Returns
    -------
    Path
        ``out/report.html``.

    Raises
    ------
    clvlib.errors.InputDataError
        When ``data`` does not follow the contract or ``out`` cannot be replaced (raised before any
        notebook runs; ``out`` is untouched).
    papermill.exceptions.PapermillExecutionError
        When a notebook fails; ``out`` is untouched, the failed run's folder is ``<out>.failed``.
    clvlib.errors.RunTerminated
        When the run is stopped by a signal; ``out`` is untouched.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {PROFILES}")
    if method not in CONFIGURATIONS:
        raise ValueError(f"unknown method {method!r}: expected one of {CONFIGURATIONS}")
    data, out = Path(data).resolve(), Path(out).resolve()
    check_out(out)
    check = check_input(data, profile, dataset)  # every check of notebook 01 (make check), before any training
    out.parent.mkdir(parents=True, exist_ok=True)  # only for an input that passed: a refused one writes nothing
    with out_lock(out):
        return _run_locked(data, out, check, profile, seed, dataset, progress, method)


@contextmanager
def out_lock(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock for a whole run: a second run into the same folder is refused, naming the first.

    :func:`run_own_data` takes it once the input has passed its checks (seconds for most inputs), so a
    refused input never creates anything beside ``out``.

    The lock is ``.<name>.lock`` beside ``out`` (``filelock``: released by the operating system when
    the process ends, however it ends), and ``.<name>.lock.pid`` holds the pid of the run that has it;
    both are removed when the run ends.

    Raises
    ------
    clvlib.errors.InputDataError
        When another process holds the lock.
    """
    lock, pid_file = (out.parent / f".{out.name}.{suffix}" for suffix in ("lock", "lock.pid"))
    held = FileLock(lock, timeout=0)
    try:
        held.acquire()
    except Timeout:
        holder = pid_file.read_text().strip() if pid_file.is_file() else "unknown"
        raise InputDataError(
            f"{out}: another `make run` (pid {holder}) is writing its results there; wait for it to finish "
            "or choose another OUT"
        ) from None
    try:
        pid_file.write_text(f"{os.getpid()}\n")
        yield
    finally:
        pid_file.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)  # while still held: nothing is left beside OUT
        held.release()


def _run_locked(
    data: Path, out: Path, check: InputCheck, profile: str, seed: int, dataset: str, progress: bool, method: str
) -> Path:
    """:func:`run_own_data` once the input passed its checks and ``out`` is locked: run the stages, publish."""
    source, checked, c = check.source, check.data, check.config
    print(
        f"{source.description} ({source.layout}): {len(checked.variables)} variables, step {checked.step}, "
        f"years {c.first_year}-{c.last_train_year} for training, {c.test_year} held out; melt variable "
        f"{checked.melt_variable or 'none'}; detector: the CLV's '{method}' configuration"
    )
    from papermill.exceptions import PapermillExecutionError  # after the checks: a refused input answers at once

    _remove_stale_stagings(out)
    staging = staging_folder(out)
    try:
        settings = {
            "data": str(data),
            "layout": source.layout,
            "name": dataset,
            "profile": profile,
            "seed": seed,
            "method": method,
        }
        _run_stages(staging, data, settings, progress)
    except (OSError, PapermillExecutionError) as err:
        if _disk_full(err):
            written = _size_mb(staging)
            shutil.rmtree(staging, ignore_errors=True)
            free = shutil.disk_usage(out.parent).free / 1e6
            raise NoSpaceError(
                errno.ENOSPC,
                f"{out.parent}: no space left on device after the run had written {written:.0f} MB there "
                f"({free:.0f} MB free once that was removed): it needs more than {written:.0f} MB; free space "
                "or choose another OUT",
            ) from None
        if not isinstance(err, PapermillExecutionError):
            shutil.rmtree(staging, ignore_errors=True)
            raise
        failed = out.parent / f"{out.name}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(staging, failed)
        notebook = getattr(err, "failed_notebook", None)
        if notebook is not None:
            err.failed_notebook = failed / Path(notebook).relative_to(staging)
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish_run(staging, out)
    index = out / "report.html"
    print(f"finished: results in {out}")
    return index


def _disk_full(err: BaseException) -> bool:
    """Whether ``err`` says the disk is full: an OSError ENOSPC, or a notebook that raised one."""
    if isinstance(err, OSError):
        return err.errno == errno.ENOSPC
    return getattr(err, "ename", "") in ("OSError", "NoSpaceError") and "No space left" in str(err.evalue)


def _size_mb(folder: Path) -> float:
    """Megabytes of the files under ``folder`` (0 when it is gone)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1e6


def _run_stages(out: Path, data: Path, settings: dict, progress: bool) -> None:
    """Notebooks 01-06 with outputs under ``out``, then the CSVs, the report and the run marker."""
    dataset, profile, seed, method = settings["name"], settings["profile"], settings["seed"], settings["method"]
    paths = Paths(out)
    with NotebookKernel(NOTEBOOKS) as kernel:  # one kernel for the chain: the imports are paid once
        for stage in STAGES:
            print(f"== {stage} dataset={dataset} profile={profile} seed={seed}", flush=True)
            params = {"dataset": dataset, "profile": profile, "seed": seed, "root": str(out)}
            if stage == "01_preprocess":
                params["data"] = str(data)
            if stage in METHOD_STAGES:
                params["method"] = method
            notebook = out / "notebooks" / f"{stage}.ipynb"
            run_notebook(NOTEBOOKS / f"{stage}.py", notebook, params, progress=progress, kernel=kernel)
    from clvlib.publish.report import build_report  # matplotlib and seaborn: only once the notebooks have run
    from clvlib.publish.summary import run_summary

    written = export_scores(paths, dataset, out) + export_tables(paths, dataset, out)
    report = build_report(
        out / "paper",
        out / "notebooks",
        title=f"Melt anomalies and their attribution: {data.name}",
        claims=False,
        summary=run_summary(out, dataset, method),
        code=NOTEBOOKS,
    )
    index = out / "report.html"
    atomic_write(
        index,
        lambda p: p.write_text(
            "<!DOCTYPE html><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='0; url={report.relative_to(out)}'>"
            f"<a href='{report.relative_to(out)}'>report</a>\n"
        ),
    )
    print("wrote " + ", ".join(str(p.relative_to(out)) for p in written) + f", {report.relative_to(out)}")
    atomic_write(out / RUN_MARKER, lambda p: p.write_text(json.dumps(settings, indent=1) + "\n"))


def main(argv: list[str] | None = None) -> int:
    """Command line of :func:`run_own_data`; exit status 2 for a file that breaks the contract."""
    parser = argparse.ArgumentParser(description="Run notebooks 01-06 on your own data.")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="canonical netCDF file, raw ERA5 download (file, ZIP or folder) or GEMB output (see docs/your-data.md)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--profile", default="full", choices=PROFILES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="custom", help="data set name used in file names and captions")
    parser.add_argument(
        "--method",
        default=DEFAULT_METHOD,
        choices=CONFIGURATIONS,
        help=f"CLV configuration whose detections are reported (default {DEFAULT_METHOD})",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    kept = f"OUT={out} was left as it was" if (out / RUN_MARKER).exists() else f"nothing was written to OUT={out}"
    try:
        with stop_children_on_signal():
            run_own_data(
                args.data,
                args.out,
                args.profile,
                args.seed,
                args.name,
                progress=not args.no_progress,
                method=args.method,
            )
    except InputDataError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 2
    except NoSpaceError as err:
        print(f"ERROR: {err.strerror}. {kept[0].upper() + kept[1:]}.", file=sys.stderr)
        return 1
    except RunTerminated as err:
        print(f"\nmake run {err}: its notebook kernel was stopped and {kept}.", file=sys.stderr)
        return 128 + err.signum
    except Exception as err:
        from papermill.exceptions import PapermillExecutionError

        if not isinstance(err, PapermillExecutionError):
            raise
        print(
            failure_message(err)
            + f"\n{kept[0].upper() + kept[1:]}; the failed run is in {out.parent / (out.name + '.failed')}.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
