"""Raw data on disk: write the embedded default with a checksum manifest, read and verify it.

Layout of ``data/raw/synthetic/seed-<seed>/``::

    era5.nc        daily ERA5-like variables (ERA5 short names and units)
    gemb.nc        daily GEMB-like output and its forcing
    truth.csv      injected events: start, end, type, kind, ranked drivers
    measures.csv   MEaSUREs-like daily melt area, 1979-2012 (columns as the NSIDC melt-area CSV)
    manifest.json  seed, generator settings (the world among them) and the SHA-256 of every file above
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.files import sha256
from clvlib.io.checks import check_daily, open_netcdf
from clvlib.synthetic.events import WORLDS
from clvlib.synthetic.generator import SyntheticConfig, generate
from clvlib.variables import dataset_variables

__all__ = ["MANIFEST", "load_daily", "load_measures", "load_truth", "main", "verify_synthetic", "write_synthetic"]

MANIFEST = "manifest.json"
_FILES = ("era5.nc", "gemb.nc", "truth.csv", "measures.csv")
_DEFAULT_CONFIG = SyntheticConfig()  # the default of write_synthetic (frozen, so one instance serves every call)


def write_synthetic(folder: Path, seed: int = 0, config: SyntheticConfig = _DEFAULT_CONFIG) -> Path:
    """Generate the embedded default for ``seed`` and write it to ``folder`` with a manifest.

    The manifest is written last, so a folder without one is incomplete.

    Returns
    -------
    Path
        The manifest file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    climate = generate(seed, config)
    encoding = {"time": {"units": "days since 1951-01-01", "dtype": "int32"}}
    climate.era5.to_netcdf(folder / "era5.nc", encoding=encoding)
    climate.gemb.to_netcdf(folder / "gemb.nc", encoding=encoding)
    truth = climate.truth.assign(start=climate.truth["start"].dt.date, end=climate.truth["end"].dt.date)
    truth.to_csv(folder / "truth.csv", index=False, float_format="%.6g")
    climate.measures.assign(date=climate.measures["date"].dt.date).to_csv(folder / "measures.csv", index=False)
    manifest = {
        "generator": "clvlib.synthetic.generator.generate",
        "seed": seed,
        "config": asdict(config),
        "sha256": {name: sha256(folder / name) for name in _FILES},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder / MANIFEST


def verify_synthetic(folder: Path, seed: int, world: str | None = None) -> dict:
    """Check that ``folder`` holds complete, unmodified embedded-default data for ``seed`` (and ``world``).

    ``world`` None accepts the world the manifest records (notebook 01 reads whichever world
    ``make synthetic WORLD=...`` wrote); a name requires that world.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    InputDataError
        When the manifest is missing, the seed or the world differs or a file's checksum does not match.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise InputDataError(
            f"{path}: no manifest; the synthetic data are missing or incomplete. Run 'make synthetic'."
        )
    manifest = json.loads(path.read_text())
    if manifest["seed"] != seed:
        raise InputDataError(
            f"{path}: data were generated with seed {manifest['seed']}, expected {seed}. "
            f"Run 'make synthetic SEED={seed}'."
        )
    found = manifest.get("config", {}).get("world", "default")
    if world is not None and found != world:
        raise InputDataError(
            f"{path}: data are of the synthetic world {found!r}, expected {world!r}. "
            f"Run 'make synthetic SEED={seed} WORLD={world}'."
        )
    for name, digest in manifest["sha256"].items():
        if not (folder / name).exists() or sha256(folder / name) != digest:
            raise InputDataError(
                f"{folder / name}: missing or its SHA-256 does not match the manifest (the file was modified or "
                "truncated). Delete the folder and run 'make synthetic' again."
            )
    return manifest


def load_daily(folder: Path, dataset: str) -> xr.Dataset:
    """Load and check the daily data set ``dataset`` ('era5' or 'gemb') from ``folder``."""
    path = Path(folder) / f"{dataset}.nc"
    ds = open_netcdf(path)
    check_daily(ds, dataset_variables(dataset), str(path))
    return ds


def load_truth(folder: Path) -> pd.DataFrame:
    """Load the injected-event truth table (dates parsed)."""
    return pd.read_csv(Path(folder) / "truth.csv", parse_dates=["start", "end"])


def load_measures(folder: Path) -> pd.DataFrame:
    """Load the MEaSUREs-like melt-area record (columns date, melt area, interpolated)."""
    return pd.read_csv(Path(folder) / "measures.csv", parse_dates=["date"])


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m clvlib.synthetic.rawdata --seed 0 [--world synoptic] --out <folder>``."""
    parser = argparse.ArgumentParser(description="Write the embedded synthetic default data set.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--world", choices=WORLDS, default="default", help="family of weather and events")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    manifest = write_synthetic(args.out, args.seed, SyntheticConfig(world=args.world))
    print(f"wrote synthetic data (seed {args.seed}, world {args.world}) to {args.out}; manifest {manifest}")


if __name__ == "__main__":
    main()
