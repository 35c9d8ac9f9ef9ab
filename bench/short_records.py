"""Records of 6 and 10 years through ``make run``: how many injected events does the run find?

Issue 25: a scientist's first download is rarely 70 years. This cuts the embedded default (seed 0,
ERA5-like) to its last ``--years`` years (the held-out year 2021 among them), writes it as a canonical
netCDF file, runs ``make run`` on it exactly as a user would (``--profile full``), and scores the
run's ``events.csv`` and ``scores.csv`` against the injected events of those years (melt season, event
recall and precision, undecided melt-season steps)::

    .venv/bin/python bench/short_records.py --years 10 [--out build/short-10]   # ~10 min on 2 cores

It prints one JSON line; the numbers are quoted in the commit message and the issue note.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.method.evaluation import evaluate, melt_season
from clvlib.synthetic.rawdata import load_truth, write_synthetic

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--score-only", action="store_true", help="score an earlier run's output again")
    args = parser.parse_args()
    out = args.out or ROOT / "build" / f"short-{args.years}"
    raw = ROOT / "build" / f"short-raw-{args.seed}"
    if not (raw / "manifest.json").exists():
        write_synthetic(raw, seed=args.seed)
    first = 2021 - args.years + 1
    import xarray as xr

    era5 = xr.load_dataset(raw / "era5.nc").sel(time=slice(f"{first}-01-01", "2021-12-31"))
    era5.attrs["melt_variable"] = "smlt"
    data = out.parent / f"short-{args.years}.nc"
    data.parent.mkdir(parents=True, exist_ok=True)
    era5.to_netcdf(data)
    cmd = [
        sys.executable,
        "-m",
        "clvlib.pipeline.run",
        "--data",
        str(data),
        "--out",
        str(out),
        "--profile",
        "full",
        "--seed",
        str(args.seed),
        "--name",
        f"last{args.years}",
        "--no-progress",
    ]
    if not args.score_only:
        subprocess.run(cmd, check=True, cwd=ROOT)
    scores = pd.read_csv(out / "scores.csv", parse_dates=["time"])
    time = pd.DatetimeIndex(scores["time"])
    truth = load_truth(raw)
    truth = truth[(truth["end"] >= time[0]) & (truth["start"] <= time[-1])]
    scope = melt_season(time)
    flags = scores["anomaly"].to_numpy().astype(bool)
    n_days = np.r_[(time[1:] - time[:-1]).days, 5]
    m = evaluate(scores["score"].to_numpy(), flags, time, n_days, truth, scope)
    undecided = int((scope & scores["threshold"].isna().to_numpy()).sum())
    years_without = sorted(
        {int(y) for y in time.year} - {int(y) for y in time.year[scope & scores["threshold"].notna()]}
    )
    print(
        json.dumps(
            {
                "years": args.years,
                "event_recall": round(m.event_recall, 3),
                "event_precision": round(m.event_precision, 3),
                "n_events": m.n_reference_events,
                "pr_auc": round(m.pr_auc, 3),
                "undecided_melt_steps": undecided,
                "years_without_threshold": years_without,
            }
        )
    )


if __name__ == "__main__":
    main()
