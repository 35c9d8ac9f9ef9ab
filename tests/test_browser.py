"""The report checker (clvlib.testing.browser) in a real Chromium: it finds what a reader would find wrong.

The reports themselves are checked where they are built: the paper's in tests/test_notebooks.py, a user's
run's in tests/test_run.py (quick profile; screenshots of their first screens under build/screenshots/).
Every browser check needs the system's Chromium (``apt-get install chromium``; ``.ci/run`` installs it):
without it these tests skip and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clvlib.testing.browser import check_report, chromium_path

CHROMIUM = chromium_path()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no system Chromium (apt-get install chromium, or CHROMIUM=/path): the report browser checks are skipped",
)

GOOD = """<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><main style='max-width: 600px'>
<h1>Report</h1><h2 id='summary'>Summary</h2><ul><li>It flags 3 events.</li></ul>
<a href='#fig_a'>Figure 1</a> <a href='tables/t.csv'>CSV</a>
<figure id='fig_a'><img src='figures/a.png' alt='a'></figure>
<div id='tab_b'>Table 1.</div><div class='scroll'><table><tr><th>a</th></tr><tr><td>1</td></tr></table></div>
</main></body></html>"""

# a one-pixel PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _write(folder: Path, page: str) -> Path:
    (folder / "figures").mkdir()
    (folder / "tables").mkdir()
    (folder / "figures" / "a.png").write_bytes(PNG)
    (folder / "tables" / "t.csv").write_text("a\n1\n")
    report = folder / "report.html"
    report.write_text(page)
    return report


@needs_chromium
def test_a_sound_report_passes_and_leaves_a_first_screen_screenshot(tmp_path):
    report = _write(tmp_path, GOOD)
    shot = tmp_path / "shots" / "first.png"
    assert check_report(report, shot, CHROMIUM) == []
    assert shot.read_bytes()[:8] == PNG[:8] and shot.stat().st_size > 1000


@needs_chromium
def test_every_kind_of_defect_is_reported(tmp_path):
    page = (
        GOOD.replace("<h1>Report</h1>", "<h1>Report</h1><div style='height: 2000px'></div>")
        .replace("#fig_a", "#fig_missing")
        .replace("tables/t.csv", "tables/gone.csv")
        .replace("figures/a.png", "figures/none.png")
        .replace("<tr><td>1</td></tr>", "<tr><td style='min-width: 900px'>1</td></tr>")
    )
    problems = check_report(_write(tmp_path, page), tmp_path / "shot.png", CHROMIUM)
    assert any(p.startswith("the summary does not fit the first screen") for p in problems), problems
    assert any(p.startswith("image did not load") and "none.png" in p for p in problems), problems
    assert "anchor #fig_missing names no element" in problems
    assert any(p.startswith("link to a missing file") and p.endswith("gone.csv") for p in problems), problems
    assert "table wider than the text column: tab_b" in problems
    assert len(problems) == 5, problems
