"""A report as a reader's browser shows it: Playwright drives the system's Chromium over an HTML report.

Playwright's own browser download needs the internet; these checks use the Chromium that the
system's package manager installs (``apt-get install chromium`` on Debian), found on ``PATH`` or
named by the ``CHROMIUM`` environment variable. Without it, :func:`chromium_path` returns None and
the tests that use this module say that they skip.

What a reader needs from a report (:func:`check_report`): the summary on the first screen at
1366x768, every image loaded, every anchor and link resolving, no table wider than the text column.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["FIRST_SCREEN", "chromium_path", "check_report"]

#: The first screen a reviewer sees: a common laptop display.
FIRST_SCREEN = {"width": 1366, "height": 768}

_LAYOUT = """() => {
  const main = document.querySelector('main') || document.body;
  const column = main.getBoundingClientRect();
  const pad = parseFloat(getComputedStyle(main).paddingRight) || 0;
  const summary = document.getElementById('summary');
  const first = summary ? summary.nextElementSibling : null;
  return {
    summary_top: summary ? summary.getBoundingClientRect().top : null,
    summary_first_bottom: first ? first.getBoundingClientRect().bottom : null,
    broken_images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    n_images: document.images.length,
    anchors: [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1)),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    links: [...document.querySelectorAll('a[href]:not([href^="#"])')].map(a => a.href),
    wide_tables: [...document.querySelectorAll('main table')]
      .filter(t => t.getBoundingClientRect().width > column.width - pad + 1)
      .map(t => {
        const prev = t.parentElement.classList.contains('scroll') ? t.parentElement.previousElementSibling
                                                                   : t.previousElementSibling;
        return prev && prev.id ? prev.id : '?';
      }),
    n_tables: document.querySelectorAll('main table').length,
  };
}"""


def chromium_path() -> str | None:
    """The system Chromium: ``$CHROMIUM``, else ``chromium`` or ``chromium-browser`` on ``PATH``; None if absent.

    Examples
    --------
    >>> path = chromium_path()
    >>> path is None or Path(path).exists()
    True
    """
    named = os.environ.get("CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _local_target(url: str) -> Path | None:
    """The file a ``file://`` link points to (its fragment dropped); None for other schemes."""
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def check_report(report: Path, screenshot: Path, chromium: str) -> list[str]:
    """Open ``report`` in Chromium at 1366x768 and list what a reader would find wrong (empty: nothing).

    Checks that the summary (``id='summary'`` and its first paragraph or list) lies on the first
    screen, every image loaded, every ``#anchor`` names an element of the page, every other link
    points to a file that exists (``http`` links are not followed), and no table is wider than the
    text column. Saves a screenshot of the first screen to ``screenshot``.

    Parameters
    ----------
    report : Path
        The HTML report (``paper/report.html`` or a run's ``OUT/paper/report.html``).
    screenshot : Path
        PNG written with the first screen.
    chromium : str
        Path of the Chromium executable (:func:`chromium_path`).

    Returns
    -------
    list of str
        One sentence per problem.
    """
    from playwright.sync_api import sync_playwright

    problems = []
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=FIRST_SCREEN)
            page.goto(Path(report).resolve().as_uri(), wait_until="load")
            page.screenshot(path=str(screenshot))
            layout = page.evaluate(_LAYOUT)
        finally:
            browser.close()
    if layout["summary_top"] is None:
        problems.append("no element with id='summary'")
    elif layout["summary_first_bottom"] is None or layout["summary_first_bottom"] > FIRST_SCREEN["height"]:
        problems.append(f"the summary does not fit the first screen (it ends at {layout['summary_first_bottom']} px)")
    problems += [f"image did not load: {src}" for src in layout["broken_images"]]
    ids = set(layout["ids"])
    problems += [f"anchor #{a} names no element" for a in dict.fromkeys(layout["anchors"]) if a and a not in ids]
    for url in dict.fromkeys(layout["links"]):
        target = _local_target(url)
        if target is not None and not target.exists():
            problems.append(f"link to a missing file: {target}")
    problems += [f"table wider than the text column: {name or '?'}" for name in layout["wide_tables"]]
    return problems
