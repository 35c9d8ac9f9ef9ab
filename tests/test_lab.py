"""make lab serves the jupytext notebooks as notebooks, as root too (containers run as root)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from conftest import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_lab_serves_a_py_notebook_as_a_notebook_with_its_parameters_cell():
    port = _free_port()
    lab = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "lab", f"LAB_PORT={port}"],
        env={**os.environ, "JUPYTER_TOKEN": "test-token"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api/contents/03_train.py?type=notebook&content=1&token=test-token"
    notebook = None
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    notebook = json.load(response)
                break
            except OSError:
                assert lab.poll() is None, lab.stdout.read()  # make lab exited (as root without --allow-root, say)
                time.sleep(1)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=60)
    assert notebook is not None and notebook["type"] == "notebook"
    cells = notebook["content"]["cells"]
    assert len(cells) > 5 and {c["cell_type"] for c in cells} == {"markdown", "code"}
    assert [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
