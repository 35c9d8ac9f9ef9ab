"""Profile one notebook stage: where its time goes, by function, without a kernel.

The notebook (a jupytext ``.py`` file) is run as a plain script under :mod:`cProfile` with its
parameters cell replaced, in an existing project tree whose earlier stages have run (for example a
``make paper PROFILE=quick`` copy), one torch thread as ``make`` uses::

    .venv/bin/python -m bench.stage_profile 05_attribute --root /tmp/tree --dataset era5 --profile quick [--top 30]

It prints the functions with the largest cumulative time (``clvlib`` functions, then every
function), so a slow stage can be traced to the call that makes it slow. For the torch operators
inside a training step, see ``bench/training.py --torch-profile``. For a running build,
``py-spy record -p <kernel pid> -f raw`` (``pip install py-spy``) gives the same picture live.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]


def script(stage: str, parameters: dict) -> str:
    """The notebook ``notebooks/<stage>.py`` as Python code, its parameters cell followed by ``parameters``.

    Examples
    --------
    >>> "dataset = 'gemb'" in script("02_cluster", {"dataset": "gemb"})
    True
    """
    nb = jupytext.read(ROOT / "notebooks" / f"{stage}.py")
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cells.append(cell.source)
        if "parameters" in cell.metadata.get("tags", []):
            cells.append("\n".join(f"{k} = {v!r}" for k, v in parameters.items()))
    code = "\n".join(cells)
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


def profile_stage(stage: str, parameters: dict, top: int = 30) -> str:
    """Run ``stage`` with ``parameters`` under cProfile; the report (wall time, top functions) as text."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import matplotlib

    matplotlib.use("Agg")
    code = compile(script(stage, parameters), f"notebooks/{stage}.py", "exec")
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(exec, code, {"__name__": "__main__", "display": lambda *a, **k: None})
    seconds = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    out.write(f"{stage} {parameters}: {seconds:.1f} s\n\n== clvlib functions by cumulative time\n")
    stats.print_stats(r"clvlib", top)
    out.write("\n== all functions by own time\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    """Command line: profile one stage and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", help="notebook name without .py, e.g. 04_detect")
    parser.add_argument("--root", type=Path, required=True, help="project tree whose earlier stages have run")
    parser.add_argument("--dataset", default="era5")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    params = {"profile": args.profile, "seed": args.seed, "root": str(args.root.resolve())}
    if not args.stage.startswith("07"):
        params["dataset"] = args.dataset
    import torch

    torch.set_num_threads(1)
    print(profile_stage(args.stage, params, args.top))


if __name__ == "__main__":
    main()
