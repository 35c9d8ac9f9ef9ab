"""The synthetic raw data on disk: manifest, checksums, round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clvlib.errors import InputDataError
from clvlib.synthetic.rawdata import load_daily, load_measures, load_truth, verify_synthetic


def test_written_data_round_trip(project_root, climate):
    folder = project_root / "data" / "raw" / "synthetic" / "seed-0"
    manifest = verify_synthetic(folder, 0)
    assert set(manifest["sha256"]) == {"era5.nc", "gemb.nc", "truth.csv", "measures.csv"}
    era5 = load_daily(folder, "era5")
    np.testing.assert_array_equal(era5["t2m"].values, climate.era5["t2m"].values)
    truth = load_truth(folder)
    assert truth["start"].tolist() == climate.truth["start"].tolist()
    measures = load_measures(folder)
    assert list(measures.columns) == ["date", "melt area", "interpolated"]
    np.testing.assert_array_equal(measures["melt area"], climate.measures["melt area"])


def test_modified_file_is_detected(project_root, tmp_path):
    folder = project_root / "data" / "raw" / "synthetic" / "seed-0"
    copy = tmp_path / "seed-0"
    copy.mkdir()
    for f in folder.iterdir():
        copy.joinpath(f.name).write_bytes(f.read_bytes())
    with open(copy / "truth.csv", "a") as f:
        f.write("\n")
    with pytest.raises(InputDataError, match=r"truth\.csv.*SHA-256 does not match"):
        verify_synthetic(copy, 0)
    with pytest.raises(InputDataError, match="seed 0, expected 5"):
        verify_synthetic(folder, 5)
    (copy / "manifest.json").unlink()
    with pytest.raises(InputDataError, match="no manifest"):
        verify_synthetic(copy, 0)
    assert json.loads((folder / "manifest.json").read_text())["seed"] == 0
