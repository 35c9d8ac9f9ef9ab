"""``paper/report.html``: every figure and table with its caption and provenance, the claims, and
links to the executed notebooks rendered as HTML.

Command line::

    python -m clvlib.publish.report [--paper paper] [--notebooks build/notebooks]
"""

from __future__ import annotations

import argparse
import errno
import html
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.errors import NoSpaceError
from clvlib.files import atomic_write
from clvlib.publish.registry import read_manifest
from clvlib.publish.summary import paper_summary, summary_html

__all__ = [
    "MAX_ROWS",
    "STYLE",
    "build_report",
    "claim_tables",
    "claims_html",
    "column_format",
    "column_unit",
    "display_rows",
    "main",
    "numbered",
    "render_notebooks",
]

MAX_ROWS = 40
STYLE = (
    "\n"
    "body { font-family: system-ui, sans-serif; margin: 0; color: #222; display: grid;"
    " grid-template-columns: 15em minmax(0, 1fr); }\n"
    "main { max-width: 1100px; padding: 0 1.5em 3em; min-width: 0; }\n"
    "#toc { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; font-size: .78em;"
    " padding: 1em .8em; background: #f7f7f7; border-right: 1px solid #ddd; box-sizing: border-box; }\n"
    "#toc a { display: block; color: #245; text-decoration: none; padding: 1px 0; overflow-wrap: anywhere; }\n"
    "#toc a.section { font-weight: bold; margin-top: .6em; } #toc a:hover { text-decoration: underline; }\n"
    "h1 { font-size: 1.5em; margin-top: .8em; }\n"
    "h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }\n"
    "figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }\n"
    "figcaption, .caption { font-size: .92em; margin: .4em 0; }\n"
    ".prov { font-size: .78em; color: #666; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }\n"
    ".scroll { overflow-x: auto; max-width: 100%; }\n"
    "table { border-collapse: collapse; font-size: .8em; margin: .5em 0; max-width: 100%; }\n"
    "td.text { overflow-wrap: anywhere; } .unit { font-weight: normal; color: #666; }\n"
    "th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; } "
    "th { background: #f3f3f3; text-align: left; }\n"
    "td:first-child, th:first-child, td.text { text-align: left; }\n"
    ".holds { color: #1a7f37; font-weight: bold; } .fails { color: #b3261e; font-weight: bold; } "
    ".untestable { color: #8a6d00; }\n"
    "@media (max-width: 900px) { body { display: block; } #toc { position: static; max-height: none; } }\n"
)


def render_notebooks(notebooks: Path, out: Path) -> list[Path]:
    """Render every executed notebook in ``notebooks`` to HTML under ``out`` (nbconvert)."""
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(Path(notebooks).glob("[0-9]*.ipynb"))
    if sources:
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--log-level",
            "ERROR",
            "--output-dir",
            str(out),
            *map(str, sources),
        ]
        done = subprocess.run(
            cmd, capture_output=True, text=True, env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        )
        if done.returncode != 0:
            if "No space left on device" in done.stderr:
                raise NoSpaceError(errno.ENOSPC, f"{out}: no space left on device while rendering the notebooks")
            raise RuntimeError(f"nbconvert could not render the notebooks into {out}:\n{done.stderr[-3000:]}")
    return [out / f"{p.stem}.html" for p in sources]


def _provenance(entry: dict, notebook_html: str | None, code: str | None) -> str:
    """One line: the artefact's id, the executed notebook and its source (links), parameters, commit, outputs."""
    nb = html.escape(entry["notebook"])
    links = f"<a href='{html.escape(notebook_html)}'>executed notebook {nb}</a>" if notebook_html else f"notebook {nb}"
    if code:
        links += f" · <a href='{html.escape(code)}'>source {nb}.py</a>"
    params = html.escape(", ".join(f"{k}={v}" for k, v in entry["parameters"].items()))
    outputs = html.escape(", ".join(f"{Path(p).name} sha256 {h[:12]}" for p, h in entry["outputs"].items()))
    return (
        f"{html.escape(entry['id'])} · {links} · {params} · commit {html.escape(entry['git_commit'][:12])} · {outputs}"
    )


def numbered(entries: list[dict]) -> dict[str, str]:
    """Label of each artefact in the order given: ``Figure 1``, ``Table 1``, ``Figure 2``, ...

    Examples
    --------
    >>> numbered([{"id": "fig_a", "kind": "figure"}, {"id": "tab_b", "kind": "table"},
    ...           {"id": "fig_c", "kind": "figure"}])
    {'fig_a': 'Figure 1', 'tab_b': 'Table 1', 'fig_c': 'Figure 2'}
    """
    counts = {"figure": 0, "table": 0}
    out = {}
    for entry in entries:
        counts[entry["kind"]] += 1
        out[entry["id"]] = f"{entry['kind'].capitalize()} {counts[entry['kind']]}"
    return out


#: Units of table columns, by exact name or by suffix (``_pct``); a column not here is a count, a
#: share, a score or a metric without units, or has its units in a ``units`` column of its own.
COLUMN_UNITS: dict[str, str] = {
    "z": "sd",
    "seconds": "s",
    "_seconds": "s",
    "_pct": "%",
    "_steps": "5-day steps",
    "n_steps": "5-day steps",
    "_per_decade": "per decade",
    "n_days": "days",
}
#: Integer columns shown without a thousands separator (years and identifiers).
_PLAIN_INTEGERS = ("year", "decade", "_id", "seed", "trial")


def column_unit(name: str) -> str:
    """Units of a table column named ``name``, or ``""`` (see :data:`COLUMN_UNITS`).

    Examples
    --------
    >>> column_unit("clipped_pct"), column_unit("n_flagged_steps"), column_unit("pr_auc")
    ('%', '5-day steps', '')
    """
    if name in COLUMN_UNITS:
        return COLUMN_UNITS[name]
    return next((unit for suffix, unit in COLUMN_UNITS.items() if suffix.startswith("_") and name.endswith(suffix)), "")


def column_format(values: pd.Series, name: str = "") -> str:
    """One format for a whole numeric column: integers as such, else fixed decimals for 4 significant digits
    of its largest value (never scientific notation, so a column reads as one scale). Years and
    identifiers (by ``name``) get no thousands separator.

    Examples
    --------
    >>> column_format(pd.Series([1.0, 20.0])), column_format(pd.Series([0.0008557, 0.5])), column_format(
    ...     pd.Series([85000.5, 3.2]))
    ('{:,.0f}', '{:,.4f}', '{:,.0f}')
    >>> column_format(pd.Series([1951, 2021]), "first_year").format(2021)
    '2021'
    """
    finite = values[np.isfinite(values)]
    if finite.empty or (finite == finite.round()).all():
        return "{:.0f}" if any(key in name for key in _PLAIN_INTEGERS) else "{:,.0f}"
    largest = float(np.abs(finite).max())
    decimals = 0 if largest >= 1000 else min(6, max(0, 3 - int(np.floor(np.log10(largest))))) if largest else 4
    return f"{{:,.{decimals}f}}"


def display_rows(table: pd.DataFrame, order: tuple[str, ...] = ()) -> tuple[pd.DataFrame, str]:
    """The rows of ``table`` in the order a reader wants them, and the words that say so.

    ``order`` names columns to sort by, first to last; a leading ``-`` sorts that column largest
    first. Columns missing from the table are ignored; the sort is stable, so ties keep the file's order.

    Examples
    --------
    >>> t = pd.DataFrame({"event_id": [1, 1, 2, 2], "rank": [1, 2, 1, 2], "delta": [0.1, 0.05, 0.9, 0.2]})
    >>> rows, words = display_rows(t, ("rank", "-delta"))
    >>> rows["event_id"].tolist(), words
    ([2, 1, 2, 1], 'by rank, then delta (largest first)')
    """
    keys = [(key.lstrip("-"), not key.startswith("-")) for key in order if key.lstrip("-") in table.columns]
    if not keys:
        return table, ""
    rows = table.sort_values([k for k, _ in keys], ascending=[a for _, a in keys], kind="stable")
    words = ", then ".join(k if ascending else f"{k} (largest first)" for k, ascending in keys)
    return rows, f"by {words}"


def _table_html(path: Path, order: tuple[str, ...] = ()) -> str:
    table = pd.read_csv(path)
    rows, words = display_rows(table, order)
    shown = rows.head(MAX_ROWS)
    numeric = {
        c: pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c]) for c in table.columns
    }
    formats = {c: column_format(table[c].astype(float), str(c)) for c in table.columns if numeric[c]}
    # a long header breaks after its underscores, so that many columns still fit the text column; units below
    head = "".join(
        f"<th>{html.escape(str(c)).replace('_', '_<wbr>')}"
        + (f"<br><span class='unit'>{html.escape(column_unit(str(c)))}</span>" if column_unit(str(c)) else "")
        + "</th>"
        for c in table.columns
    )
    body_rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            text = "" if pd.isna(value) else formats[column].format(value) if numeric[column] else str(value)
            cells.append(f"<td class='{'num' if numeric[column] else 'text'}'>{html.escape(text)}</td>")
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    body = f"<div class='scroll'><table><tr>{head}</tr>{''.join(body_rows)}</table></div>"
    more = (
        f"<p class='caption'>First {MAX_ROWS} of {len(table)} rows{' ' + words if words else ''}; "
        f"<a href='tables/{path.name}'>all rows (CSV)</a>.</p>"
        if len(table) > MAX_ROWS
        else (f"<p class='caption'>Rows {words}.</p>" if words else "")
    )
    return body + more


def claim_tables(rules: Path, artefacts: set[str]) -> dict[str, list[str]]:
    """Per claim number, the artefact ids of the tables it is computed from (``tables`` in ``claims.yaml``).

    ``{dataset}`` stands for each data set; only tables that were built (in ``artefacts``) are listed.

    Examples
    --------
    >>> import tempfile
    >>> rules = Path(tempfile.mkdtemp()) / "claims.yaml"
    >>> _ = rules.write_text("claims: [{id: 7, tables: ['detection_truth_{dataset}']}]")
    >>> claim_tables(rules, {"tab_detection_truth_era5", "tab_trend_era5"})
    {'7': ['tab_detection_truth_era5']}
    """
    import yaml

    if not Path(rules).is_file():
        return {}
    out = {}
    for claim in yaml.safe_load(Path(rules).read_text()).get("claims", []):
        names = [t.format(dataset=d) for t in claim.get("tables", []) for d in ("era5", "gemb")]
        out[str(claim["id"])] = [f"tab_{n}" for n in dict.fromkeys(names) if f"tab_{n}" in artefacts]
    return out


def claims_html(claims: Path, tables: dict[str, list[str]] | None = None) -> str:
    """The claims table of ``claims.md`` as HTML (with the column of support over seeds when it has one).

    With ``tables`` (:func:`claim_tables`), each claim links to the tables of the report it is computed from.
    """
    if not claims.exists():
        return "<p>No <code>claims.md</code>: run <code>make verify</code>.</p>"
    lines = claims.read_text().splitlines()
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| #")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in rows]
    seeds = any(line.startswith("| #") and "over seeds" in line for line in lines)
    out = [
        "<table><tr><th>#</th><th>claim</th><th>verdict</th><th>measured</th>"
        + ("<th>over seeds</th>" if seeds else "")
        + ("<th>computed from</th>" if tables else "")
        + "</tr>"
    ]
    for number, claim, verdict, measured, *support in cells:
        verdict = verdict.strip("*")
        cls = {"holds": "holds", "does not hold": "fails"}.get(verdict, "untestable")
        extra = "".join(f"<td style='text-align:left'>{html.escape(s)}</td>" for s in support[:1]) if seeds else ""
        if tables:
            links = ", ".join(f"<a href='#{t}'>{html.escape(t)}</a>" for t in tables.get(number, []))
            extra += f"<td style='text-align:left'>{links}</td>"
        out.append(
            f"<tr><td>{number}</td><td style='text-align:left'>{html.escape(claim)}</td>"
            f"<td class='{cls}'>{html.escape(verdict)}</td><td style='text-align:left'>{html.escape(measured)}</td>"
            f"{extra}</tr>"
        )
    footer = [line for line in lines if line.startswith(("Data:", "Built", "Over seeds:"))]
    return "\n".join(out) + "</table>" + "".join(f"<p class='caption'>{html.escape(f)}</p>" for f in footer)


def build_report(
    paper: Path,
    notebooks: Path,
    title: str = "Arctic melt anomalies: the reproducible companion (arXiv 2502.07741)",
    claims: bool = True,
    summary: list[str] | None = None,
    code: Path | None = None,
) -> Path:
    """Write ``paper/report.html`` from the manifest, the claims and the executed notebooks.

    The page has a table of contents that stays in view, the summary first, then (with ``claims``)
    the paper's claims, then every figure and table numbered in order, each with its caption and a
    provenance line linking to the executed notebook and its source.

    Parameters
    ----------
    paper : Path
        Folder holding ``manifest.json``, ``figures/``, ``tables/`` and (with ``claims``) ``claims.md``.
    notebooks : Path
        Folder of the executed notebooks (rendered to ``paper/notebooks/*.html``).
    title : str
        Heading of the page.
    claims : bool
        Include the table of the paper's claims (the default data); a user's run has none.
    summary : list of str, optional
        Sentences shown first, under the title: :func:`clvlib.publish.summary.run_summary` for a user's run;
        by default, with ``claims``, :func:`clvlib.publish.summary.paper_summary` of the build.
    code : Path, optional
        Folder of the notebook sources (``notebooks/*.py``), linked relative to ``paper``; none by default.

    Returns
    -------
    Path
        ``paper/report.html``.
    """
    paper = Path(paper)
    manifest = read_manifest(paper)["artefacts"]
    if summary is None and claims:
        summary = paper_summary(paper)
    rendered = {p.stem: p for p in render_notebooks(notebooks, paper / "notebooks")}
    by_notebook: dict[str, list[dict]] = {}
    for entry in manifest.values():
        by_notebook.setdefault(entry["notebook"], []).append(entry)
    for entries in by_notebook.values():
        entries.sort(key=lambda e: (e["kind"] != "figure", e["id"]))
    ordered = [entry for nb in sorted(by_notebook) for entry in by_notebook[nb]]
    labels = numbered(ordered)
    toc = ["<nav id='toc'><a class='section' href='#top'>Summary</a>"]
    if claims:
        toc.append("<a class='section' href='#claims'>The paper's claims</a>")
    for nb in sorted(by_notebook):
        toc.append(f"<a class='section' href='#{nb}'>{nb}</a>")
        toc += [f"<a href='#{e['id']}'>{labels[e['id']]}: {html.escape(e['id'])}</a>" for e in by_notebook[nb]]
    toc.append("<a class='section' href='#executed'>Executed notebooks</a></nav>")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Arctic melt anomalies: report</title><style>{STYLE}</style></head><body>",
        "".join(toc),
        "<main>",
        f"<h1 id='top'>{html.escape(title)}</h1>",
        summary_html(summary) if summary else "",
        *(
            [
                "<h2 id='claims'>The paper's claims</h2>",
                claims_html(paper / "claims.md", claim_tables(paper / "claims.yaml", set(manifest))),
            ]
            if claims
            else []
        ),
    ]
    shown: dict = {}  # table content (its hash) -> the first artefact that shows it
    for nb in sorted(by_notebook):
        parts.append(f"<h2 id='{nb}'>{nb}</h2>")
        notebook_html = f"notebooks/{rendered[nb].name}" if nb in rendered else None
        source = Path(os.path.relpath(Path(code) / f"{nb}.py", paper)).as_posix() if code else None
        for entry in by_notebook[nb]:
            prov = f"<div class='prov'>{_provenance(entry, notebook_html, source)}</div>"
            caption = f"<b>{labels[entry['id']]}.</b> {html.escape(entry['caption'])}"
            if entry["kind"] == "figure":
                png = next(p for p in entry["outputs"] if p.endswith(".png"))
                parts.append(
                    f"<figure id='{html.escape(entry['id'])}'><img src='figures/{Path(png).name}' "
                    f"alt='{labels[entry['id']]}: {html.escape(entry['id'])}'>"
                    f"<figcaption>{caption}</figcaption>{prov}</figure>"
                )
            else:
                csv = paper / "tables" / Path(next(p for p in entry["outputs"] if p.endswith(".csv"))).name
                digest = entry["outputs"].get(f"paper/tables/{csv.name}") or csv.read_bytes()
                same = shown.setdefault(digest, entry["id"])  # a table is shown once
                body = (
                    _table_html(csv, tuple(entry.get("show", ())))
                    if same == entry["id"]
                    else f"<p class='caption'>The same rows as <a href='#{same}'>{labels[same]}</a>.</p>"
                )
                parts.append(f"<div class='caption' id='{html.escape(entry['id'])}'>{caption}</div>{body}{prov}")
    parts.append(
        "<h2 id='executed'>Executed notebooks</h2><ul>"
        + "".join(f"<li><a href='notebooks/{p.name}'>{p.stem}</a></li>" for p in rendered.values())
        + "</ul>"
    )
    parts.append("</main></body></html>")
    return atomic_write(paper / "report.html", lambda p: p.write_text("\n".join(parts)))


def main(argv: list[str] | None = None) -> None:
    """Command line of :func:`build_report`."""
    parser = argparse.ArgumentParser(description="Write paper/report.html.")
    parser.add_argument("--paper", type=Path, default=Path("paper"))
    parser.add_argument("--notebooks", type=Path, default=Path("build/notebooks"))
    parser.add_argument("--code", type=Path, default=Path("notebooks"), help="folder of the notebook sources")
    args = parser.parse_args(argv)
    print(f"wrote {build_report(args.paper, args.notebooks, code=args.code)}")


if __name__ == "__main__":
    main()
