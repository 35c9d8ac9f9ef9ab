"""``make bench``: every speed and memory figure of the project, each next to its reference,
measured in one run; prints one table and writes ``bench/results.json``.

    .venv/bin/python -m bench.run [--repeats 3] [--fast]

``--fast`` skips the full-profile build and the 2 GB reduction (a few minutes instead of about
twenty). Figures: clean ``make paper`` (quick, full) and no-op rebuild, peak memory and time of
each notebook stage (``bench/build.py``); CLV training and scoring throughput against the looped
cluster encoders (``bench/training.py``); batched attribution against the loops
(``bench/attribution.py``); block-fitted threshold against the per-point GPD fit
(``bench/threshold.py``); ERA5 reduction throughput and peak memory against a plain read
(``bench/reduction.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from bench import attribution, build, reduction, threshold, training
from clvlib.testing.benchmark import format_table

ROOT = Path(__file__).resolve().parents[1]


def _commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main() -> None:
    """Run every benchmark, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of each timed kernel (medians are quoted)")
    parser.add_argument("--fast", action="store_true", help="skip the full-profile build and the 2 GB reduction")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    started = time.time()
    sections = [
        ("training", lambda: training.run(args.repeats)),
        ("threshold", lambda: threshold.run(args.repeats)),
        ("attribution", lambda: attribution.run(args.repeats)),
        ("reduction", lambda: reduction.run(args.repeats, (0.5,) if args.fast else (0.5, 2.0))),
        ("build", lambda: build.run(quick_repeats=args.repeats, full_repeats=0 if args.fast else 1)),
    ]
    rows = []
    for name, bench in sections:
        print(f"== bench {name}", flush=True)
        section = bench()
        print(format_table(section), flush=True)
        rows += [{"section": name, **r} for r in section]
    print("\n== all figures (ratio > 1: ours better than the reference)")
    print(format_table(rows))
    result = {
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": round(time.time() - started, 1),
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
