"""make run is safe: arguments are data, an earlier result is never damaged, a stopped run stops its kernel.

Every test here stops before training (a bad file, a file that notebook 01 rejects, or a kill).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import ROOT
from test_run import _canonical

from clvlib.errors import InputDataError
from clvlib.pipeline.run import RUN_MARKER, check_out, out_lock, publish_run, run_own_data


def _make(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(cwd), *args], capture_output=True, text=True, timeout=timeout
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def canonical_file(climate, tmp_path_factory) -> Path:
    """A valid 6-hourly canonical file of eight years."""
    path = tmp_path_factory.mktemp("canonical") / "good.nc"
    _canonical(climate, path, years=("2014-01-01", "2021-12-31"))
    return path


@pytest.mark.slow
def test_arguments_of_make_run_are_never_run_as_commands(tmp_path):
    sentinel = tmp_path / "PWNED"
    in_root = f"PWNED-{os.getpid()}"  # a command in a file name runs in make's folder (no '/' in a name)
    data = tmp_path / f"y`touch {in_root}`$(touch {in_root}-2).nc"
    data.write_bytes(b"not a netCDF file")
    hostile = {
        "DATA": str(data),
        "OUT": f'{tmp_path}/o$(shell touch {sentinel}-out)"; touch {sentinel}-out2; echo "',
        "NAME": f"`touch {sentinel}-name`$(touch {sentinel}-name2)'; touch {sentinel}-name3; '",
    }
    result = _make("run", *(f"{k}={v}" for k, v in hostile.items()))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "neither netCDF" in result.stdout and str(data) in result.stdout  # the file was read under its own name
    for value in (f"$(shell touch {sentinel}-data2)", f'{tmp_path}/a"; touch {sentinel}-data3; echo "b'):
        result = _make("run", f"DATA={value}", f"OUT={tmp_path}/o")
        assert result.returncode == 2 and "file not found" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [data.name]
    assert not list(ROOT.glob(f"{in_root}*"))


def test_values_of_other_targets_are_never_run_as_commands(tmp_path):
    """REGION and GEMB_OUTPUT are written to build/sources-*.txt by make itself; nothing runs through them."""
    sentinel = tmp_path / "PWNED"
    region = f"60,70,-55,-40'; touch {sentinel}-region; echo '$(shell touch {sentinel}-region2)"
    result = _make(
        "-f",
        str(ROOT / "Makefile"),
        "-n",
        "verify",
        f"REGION={region}",
        f"GEMB_OUTPUT=`touch {sentinel}-gemb`",
        cwd=tmp_path,
    )
    assert not list(tmp_path.glob("PWNED*")), result.stdout + result.stderr
    assert (tmp_path / "build" / "sources-era5.txt").read_text().splitlines()[0] == f"REGION={region}"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("SEED=1;touch x", "expected a whole number"),
        ("PROFILE=fast", "expected full or quick"),
        ("METHOD=best paper", "expected paper, best or original"),
    ],
)
def test_make_refuses_a_malformed_setting_before_anything_runs(tmp_path, setting, message):
    result = _make("-f", str(ROOT / "Makefile"), "-n", "verify", setting, cwd=tmp_path)
    assert result.returncode != 0 and message in result.stderr
    assert not (tmp_path / "x").exists()


def test_out_naming_a_file_or_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(InputDataError, match="is a file, not a folder"):
        check_out(tmp_path / "a_file")
    with pytest.raises(InputDataError, match=r"holds files that make run did not write \(a_file\)"):
        check_out(tmp_path)
    check_out(tmp_path / "new")
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / RUN_MARKER).write_text("{}")
    check_out(tmp_path / "earlier")  # an earlier make run output is replaced when the new run finishes


def test_publishing_replaces_an_earlier_run_as_a_whole(tmp_path):
    out, staging = tmp_path / "out", tmp_path / ".out.partial-1"
    (out / "notebooks").mkdir(parents=True)
    (out / "notebooks" / "01_preprocess.ipynb").write_text("first run")
    staging.mkdir()
    (staging / "scores.csv").write_text("second run")
    publish_run(staging, out)
    assert _snapshot(out) == {"scores.csv": b"second run"}  # nothing of the first run mixes in
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _earlier_run(out: Path) -> dict[str, bytes]:
    """A finished make run output in ``out``; returns its bytes."""
    (out / "notebooks").mkdir(parents=True)
    (out / RUN_MARKER).write_text(json.dumps({"data": "earlier.nc"}))
    (out / "scores.csv").write_text("time,score\n2020-01-01,0.5\n")
    (out / "notebooks" / "01_preprocess.ipynb").write_text("{}")
    return _snapshot(out)


def test_a_run_refused_by_the_check_leaves_the_earlier_out_exactly_as_it_was(canonical_file, tmp_path):
    bad = tmp_path / "gap.nc"
    ds = xr.load_dataset(canonical_file)
    ds["t2m"].loc[{"time": slice("2016-06-01", "2016-06-30")}] = np.nan  # passes the contract, not notebook 01's gaps
    ds.to_netcdf(bad)
    out = tmp_path / "out"
    before = _earlier_run(out)
    result = _make("run", f"DATA={bad}", f"OUT={out}", "PROFILE=quick")
    assert result.returncode != 0 and "has a gap of 6 five-day steps" in result.stdout
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gap.nc", "out"]  # no staging folder, nothing trained


def test_a_run_that_fails_in_a_notebook_leaves_the_earlier_out_exactly_as_it_was(
    canonical_file, tmp_path, monkeypatch, capsys
):
    """The second stage fails after the first wrote its outputs: OUT keeps the earlier run, OUT.failed the new one."""
    import nbformat
    from papermill.exceptions import PapermillExecutionError

    import clvlib.pipeline.run as run

    def fake_notebook(source, output, params, progress=True, kernel=None):
        if Path(source).stem == "02_cluster":
            failed = Path(output).with_name(".02_cluster.failed.ipynb")
            nbformat.write(
                nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("cluster()", execution_count=3)]), failed
            )
            err = PapermillExecutionError(1, 3, "cell", "ValueError", "boom", [])
            err.failed_notebook, err.source_notebook = failed, source
            raise err
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text("executed")
        (Path(params["root"]) / "scores.csv").write_text("the second run's")

    monkeypatch.setattr(run, "run_notebook", fake_notebook)
    out = tmp_path / "out"
    before = _earlier_run(out)
    status = run.main(["--data", str(canonical_file), "--out", str(out), "--profile", "quick", "--no-progress"])
    message = capsys.readouterr().err
    assert status == 1 and "ValueError: boom" in message and "cluster()" in message
    assert f"OUT={out} was left as it was; the failed run is in {tmp_path / 'out.failed'}" in message
    assert _snapshot(out) == before
    failed = tmp_path / "out.failed"
    assert (failed / "scores.csv").read_text() == "the second run's"
    assert f"The partly executed notebook is {failed / 'notebooks' / '.02_cluster.failed.ipynb'}" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.failed"]


def _ipykernels(ancestor: int | None = None) -> set[int]:
    """Notebook kernels running now; with ``ancestor``, only those it started (other test workers run kernels too)."""
    rows = [
        line.split(maxsplit=2)
        for line in subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid=,args="], capture_output=True, text=True
        ).stdout.splitlines()
    ]
    parent = {int(pid): int(ppid) for pid, ppid, *_ in rows}
    kernels = {int(pid) for pid, _, *args in rows if args and "ipykernel_launcher" in args[0]}

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == ancestor:
                return True
        return False

    return kernels if ancestor is None else {pid for pid in kernels if descends(pid)}


@pytest.mark.slow
def test_terminating_make_stops_the_run_and_its_kernel(canonical_file, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT),
            "run",
            f"DATA={canonical_file}",
            f"OUT={out}",
            "PROFILE=quick",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 240
    while not list(tmp_path.glob(".out.partial-*/notebooks/01_preprocess.ipynb")) and time.time() < deadline:
        time.sleep(0.5)
    assert list(tmp_path.glob(".out.partial-*")), "the run did not get to notebook 02"
    kernels = _ipykernels(ancestor=proc.pid)
    assert kernels, "no notebook kernel was running"
    os.kill(proc.pid, signal.SIGTERM)  # make only, as `kill <pid of make>` does
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "stopped by SIGTERM" in output and f"nothing was written to OUT={out}" in output
    time.sleep(2)
    assert not (_ipykernels() & kernels), "the kernel outlived make"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no staging folder, no OUT


def test_a_second_run_into_the_same_out_is_refused_naming_the_first(canonical_file, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from clvlib.pipeline.run import out_lock\n"
            "with out_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(60)\n",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputDataError, match=rf"another `make run` \(pid {holder.pid}\) is writing"):
            run_own_data(canonical_file, out, profile="quick")
    finally:
        holder.kill()
        holder.wait()
    with out_lock(out):  # the lock dies with its process
        assert (tmp_path / ".out.lock.pid").read_text().strip() == str(os.getpid())
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 5 MB filesystem (tmpfs), where the system lets this process mount one; else the test is skipped."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small filesystem here (needs root or a user namespace)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.slow
def test_a_full_disk_ends_in_one_line_naming_the_folder_and_leaves_nothing_half_written(canonical_file, tiny_disk):
    out = tiny_disk / "out"
    result = _make("run", f"DATA={canonical_file}", f"OUT={out}", "PROFILE=quick", timeout=600)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # make run sends its messages through one filter (Makefile, FILTERED)
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and f"{tiny_disk}: no space left on device" in errors[0] and "MB" in errors[0]
    assert "Traceback" not in output
    assert list(tiny_disk.iterdir()) == []  # no OUT, no staging folder, no lock
