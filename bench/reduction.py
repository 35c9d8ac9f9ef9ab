"""Benchmark: ERA5 loader throughput and peak memory against a plain read of the same files.

    python bench/reduction.py [--repeats 3] [--sizes 0.5,2.0]

For each size, hourly ERA5 files in today's CDS netCDF layout (:func:`clvlib.testing.fixtures.write_cds_netcdf`,
one file per year and variable group, a 0.25 degree grid over the default southwest Greenland
box, four variables: t2m and sp instantaneous, ssrd and tp accumulated) are written to a
temporary folder (deleted afterwards). Each measurement runs in its own subprocess, which reports
its wall time and its peak resident memory (``VmHWM``, see :func:`_peak_rss_mb`; unlike tracemalloc it
counts the netCDF/HDF5 C allocations):

* the loader: :func:`clvlib.io.era5.load_era5` (checks, dask regional mean, hourly to daily);
* the plain read: ``xarray.open_dataset`` + ``.load()`` of each variable of each file, one at a time.

Throughput is input bytes / median wall time. The memory target: the loader's peak memory on the
largest input is at most 20 % above its peak on the smallest (streaming in bounded memory). The
files are written without zlib compression (the CDS compresses) so that the run stays within a
few minutes on two cores; the files were just written, so reads come from the page cache.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

VARIABLES = ("t2m", "sp", "ssrd", "tp")
_GROUPS = {"instant": ("t2m", "sp"), "accum": ("ssrd", "tp")}
_GRID = (41, 61)  # 0.25 degrees over 60-70 N, 55-40 W


def write_files(folder: Path, size_gb: float) -> list[Path]:
    """Write about ``size_gb`` of hourly CDS-layout files (whole years) into ``folder``."""
    import pandas as pd

    from clvlib.io.region import Region
    from clvlib.testing.fixtures import hourly_fields, write_cds_netcdf

    bytes_per_year = 8760 * _GRID[0] * _GRID[1] * 4 * len(VARIABLES)
    hours_total = round(size_gb * 1e9 / bytes_per_year * 8760)
    start = pd.Timestamp("2001-01-01")
    paths = []
    for i, first in enumerate(pd.date_range(start, start + pd.Timedelta(hours=hours_total), freq="YS")):
        hours = min(
            (pd.Timestamp(f"{first.year + 1}-01-01") - first) // pd.Timedelta(hours=1),
            hours_total - (first - start) // pd.Timedelta(hours=1),
        )
        if hours <= 0:
            break
        for group, names in _GROUPS.items():
            ds = hourly_fields(str(first), hours, Region(), n_lat=_GRID[0], n_lon=_GRID[1], variables=names, seed=i)
            paths.append(write_cds_netcdf(ds, folder / f"era5_{group}_{first.year}.nc", compress=False))
    return paths


def _child(kind: str, folder: Path) -> None:
    """One measurement in this process; prints JSON with seconds and peak RSS in MB."""
    import xarray as xr

    from clvlib.io.era5 import Era5Config, load_era5

    files = sorted(folder.glob("*.nc"))
    t0 = time.perf_counter()
    if kind == "loader":
        load_era5(files, Era5Config(variables=VARIABLES, progress=False))
    else:
        for path in files:
            with xr.open_dataset(path) as ds:
                for name in ds.data_vars:
                    ds[name].load()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    ``VmHWM`` of ``/proc/self/status`` where available: unlike ``ru_maxrss`` it restarts at
    ``exec``, so it does not include the parent's memory at ``fork``. Elsewhere ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _measure(kind: str, folder: Path, repeats: int) -> tuple[float, float]:
    """Median seconds and largest peak RSS (MB) of ``repeats`` subprocess runs."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(folder)], check=True, capture_output=True, text=True
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return float(np.median([r["seconds"] for r in runs])), float(max(r["peak_mb"] for r in runs))


def run(repeats: int = 3, sizes_gb: tuple[float, ...] = (0.5, 2.0)) -> list[dict]:
    """Throughput and peak memory of the loader and the plain read for each input size.

    Returns
    -------
    list of dict
        Keys ``figure``, ``value``, ``unit``, ``reference``, ``reference_value``, ``ratio``, ``target``.
    """
    rows = []
    peaks = {}
    for size in sizes_gb:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-era5-{size}gb-"))
        try:
            # written by a subprocess, so this process stays small
            subprocess.run([sys.executable, __file__, "--write", str(size), str(folder)], check=True)
            files = sorted(folder.glob("*.nc"))
            mb = sum(p.stat().st_size for p in files) / 1e6
            loader_s, loader_peak = _measure("loader", folder, repeats)
            plain_s, plain_peak = _measure("plain", folder, repeats)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        peaks[size] = loader_peak
        rows.append(
            {
                "figure": f"ERA5 loader throughput, {mb:.0f} MB input ({len(files)} files)",
                "value": mb / loader_s,
                "unit": "MB/s",
                "reference": "plain read (xarray open + load of each variable)",
                "reference_value": mb / plain_s,
                "ratio": plain_s / loader_s,
                "target": None,
            }
        )
        rows.append(
            {
                "figure": f"ERA5 loader peak memory, {mb:.0f} MB input",
                "value": loader_peak,
                "unit": "MB",
                "reference": "plain read peak memory",
                "reference_value": plain_peak,
                "ratio": loader_peak / plain_peak,
                "target": None,
            }
        )
    smallest, largest = min(sizes_gb), max(sizes_gb)
    if largest > smallest:
        growth = peaks[largest] / peaks[smallest]
        rows.append(
            {
                "figure": f"loader peak memory growth, {largest:g} GB vs {smallest:g} GB input",
                "value": growth,
                "unit": "ratio",
                "reference": f"loader peak memory on {smallest:g} GB",
                "reference_value": peaks[smallest],
                "ratio": growth,
                "target": "<= 1.2 (memory must not grow with input size by more than 20 %)",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="0.5,2.0", help="input sizes in GB, comma-separated")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=2, metavar=("GB", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write_files(Path(args.write[1]), float(args.write[0]))
        return
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return
    for row in run(args.repeats, tuple(float(s) for s in args.sizes.split(","))):
        ratio = "" if row["ratio"] is None or not math.isfinite(row["ratio"]) else f"  ratio {row['ratio']:.2f}"
        ref = "" if row["reference_value"] is None else f"  ({row['reference']}: {row['reference_value']:.1f})"
        print(
            f"{row['figure']}: {row['value']:.2f} {row['unit']}{ref}{ratio}"
            + (f"  target {row['target']}" if row["target"] else "")
        )


if __name__ == "__main__":
    main()
