"""Execute a jupytext percent-format notebook with papermill (what ``make`` calls for each stage).

The executed notebook is written under a temporary name and renamed only when every cell has
run, so an interrupted or failed run never leaves a file that ``make`` would take as current.
When a cell raises, the failing cell's source and the error are printed and the exit status is 1.
A SIGTERM, SIGHUP or Ctrl-C stops the kernel too (:mod:`clvlib.pipeline.signals`), exit status 128 + signal.

Each notebook normally gets a fresh kernel, as ``make paper`` runs them. A chain of notebooks run
from one process (``make run``, the end-to-end tests) can share one :class:`NotebookKernel`
instead: its namespace is cleared before each notebook, while the imported modules (torch,
xgboost, shap, matplotlib: 2-4 s per kernel) stay loaded. The tables do not depend on it (a test
compares a chain run in one kernel with the same chain run in fresh kernels, byte for byte).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from clvlib.errors import RunTerminated
from clvlib.pipeline.signals import stop_children_on_signal

__all__ = ["NotebookKernel", "failure_message", "main", "record_stats", "run_notebook"]


def _parse_value(text: str):
    """Parameter value from the command line: int, then float, else the string."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


class NotebookKernel:
    """One Python kernel that runs several notebooks in a row, its namespace cleared before each.

    Use it as a context manager; the kernel starts on entry (working directory ``cwd``) and is shut
    down on exit, also after a failing notebook. Pass it to :func:`run_notebook` as ``kernel``.
    """

    #: Run (silently) before each notebook: a new session (empty namespace, execution count 1) with
    #: the modules still imported, and no figure left open by the previous notebook.
    RESET = "get_ipython().reset(new_session=True)\nimport matplotlib.pyplot\nmatplotlib.pyplot.close('all')"

    def __init__(self, cwd: Path) -> None:
        self.cwd = Path(cwd)
        self.manager = None

    def __enter__(self) -> NotebookKernel:
        from jupyter_client.manager import AsyncKernelManager
        from nbclient.util import run_sync

        self.manager = AsyncKernelManager(kernel_name="python3")
        run_sync(self.manager.start_kernel)(cwd=str(self.cwd))
        return self

    def __exit__(self, *exc: object) -> None:
        from nbclient.util import run_sync

        if self.manager is not None and self.manager.has_kernel:
            run_sync(self.manager.shutdown_kernel)(now=True)
        self.manager = None

    def reset(self) -> None:
        """Clear the namespace for the next notebook (a RuntimeError if the kernel is not running)."""
        from nbclient.util import run_sync

        if self.manager is None or not self.manager.has_kernel:
            raise RuntimeError("the kernel is not running: use NotebookKernel as a context manager")
        client = self.manager.client()
        client.start_channels()
        try:
            run_sync(client.wait_for_ready)(timeout=60)
            reply = run_sync(client.execute_interactive)(self.RESET, silent=True, timeout=60)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the kernel could not be reset: {reply['content'].get('evalue', '')}")
        finally:
            client.stop_channels()


def run_notebook(
    source: Path,
    output: Path,
    parameters: dict,
    cwd: Path | None = None,
    progress: bool = True,
    kernel: NotebookKernel | None = None,
) -> None:
    """Run ``source`` (a ``.py`` notebook) with ``parameters`` and write the executed ``.ipynb`` to ``output``.

    The notebook runs in a fresh kernel started in ``cwd`` (default: the notebook's folder), or in
    ``kernel``, cleared first (it keeps the working directory it was started in).

    Raises
    ------
    PapermillExecutionError
        When a cell raises; the partial notebook is kept as ``.<output name>.failed.ipynb``.
    """
    import jupytext  # papermill and jupytext take seconds to import: only when a notebook runs
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    partial = output.with_name(f".{output.stem}.partial.ipynb")
    output.unlink(missing_ok=True)  # a run that fails or is interrupted leaves no executed notebook at all
    with tempfile.TemporaryDirectory() as tmp:
        unexecuted = Path(tmp) / f"{source.stem}.ipynb"
        jupytext.write(nb, unexecuted)
        if kernel is not None:
            kernel.reset()
        where = {"km": kernel.manager} if kernel is not None else {"cwd": str(cwd or source.parent)}
        try:
            pm.execute_notebook(
                str(unexecuted),
                str(partial),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=progress,
                **where,
            )
        except PapermillExecutionError as err:
            failed = output.with_name(f".{output.stem}.failed.ipynb")
            os.replace(partial, failed)
            err.failed_notebook = failed  # for failure_message
            err.source_notebook = source
            raise
    os.replace(partial, output)


def _failing_cell(notebook: Path, exec_count: int) -> str:
    """Source of the cell with execution count ``exec_count`` in a failed notebook."""
    import jupytext

    nb = jupytext.read(notebook)
    for cell in nb.cells:
        if cell.get("execution_count") == exec_count:
            return cell.source
    return "(cell not found)"


def failure_message(err: Exception) -> str:
    """What to print when a notebook failed: the notebook, the failing cell's source and the error."""
    failed = getattr(err, "failed_notebook", None)
    cell = _failing_cell(failed, err.exec_count) if failed is not None else "(cell not recorded)"
    return (
        f"\nERROR: notebook {getattr(err, 'source_notebook', '?')} failed.\n"
        f"--- failing cell [{err.exec_count}] ---\n{cell}\n---\n{err.ename}: {err.evalue}\n"
        f"The partly executed notebook is {failed}."
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m clvlib.pipeline.notebooks SOURCE OUTPUT -p name value ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--stats", type=Path, help="append wall time and peak memory of the run to this JSON-lines file"
    )
    args = parser.parse_args(argv)
    params = {k: _parse_value(v) for k, v in args.parameter}
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    try:
        with stop_children_on_signal():
            run_notebook(args.source, args.output, params, progress=not args.no_progress)
    except PapermillExecutionError as err:
        print(failure_message(err) + f"\nParameters: {params}", file=sys.stderr)
        return 1
    except RunTerminated as err:
        print(f"\n{args.source.name} {err}: its kernel was stopped; no executed notebook was written.", file=sys.stderr)
        return 128 + err.signum
    if args.stats is not None:
        record_stats(args.stats, args.output.stem, time.perf_counter() - start)
    return 0


def record_stats(path: Path, name: str, seconds: float) -> None:
    """Append ``{notebook, seconds, peak_rss_mb}`` for a finished run to a JSON-lines file.

    ``peak_rss_mb`` is the largest resident set of the processes this run waited for, which is
    the notebook's kernel (on Linux, ``ru_maxrss`` of the children, in KiB).
    """
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:  # one short line per write: appends from parallel jobs do not interleave
        f.write(json.dumps({"notebook": name, "seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1)}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
