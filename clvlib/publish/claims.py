"""The paper's claims, evaluated against the tables just built (``make verify``).

``paper/claims.yaml`` lists each claim with the tables it is computed from, a rule (a function
of this module, see :data:`RULES`) and the rule's parameters (thresholds, tolerances). Each rule
returns a :class:`Verdict`: the measured value in words and whether the claim holds. A claim that
does not hold is a result, not an error; :func:`verify` fails only when a table is missing or
stale (its hash differs from ``paper/manifest.json``, or it was built with another profile or
seed), and with ``strict=True`` also when a claim does not hold.

A claim's string parameters may hold the template field ``{method}``: the CLV configuration the build
reports (``paper``, ``best`` or ``original``; notebooks 04-07's ``method`` parameter), so that claim 7
compares the row ``CLV (paper)`` of a build with ``method=paper`` against ``unclustered VAE (paper)``.

When ``paper/tables/tab_seeds_claims.csv`` exists (``make seeds``, :mod:`clvlib.pipeline.seeds`),
``claims.md`` gets a column with each claim's support over seeds for every configuration run there.

Command line::

    python -m clvlib.publish.claims [--paper paper] [--claims paper/claims.yaml] [--method paper] [--strict]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import kendalltau

from clvlib.errors import StaleTableError
from clvlib.files import sha256
from clvlib.publish.registry import read_manifest
from clvlib.synthetic.events import WORLDS

__all__ = [
    "FAILS",
    "HOLDS",
    "METHODS",
    "RULES",
    "SEEDS_CLAIMS",
    "seeds_origin",
    "support_note",
    "UNTESTABLE",
    "Verdict",
    "all_at_least",
    "compare_methods",
    "evaluate",
    "greater",
    "load_tables",
    "main",
    "median_at_least",
    "rankings_differ",
    "read_seeds_support",
    "seeds_support",
    "top_k_contains",
    "trend_increase",
    "verify",
    "with_method",
    "write_markdown",
]

HOLDS, FAILS, UNTESTABLE = "holds", "does not hold", "not testable on this data"
#: The CLV configurations a build can report (notebooks 04-07's ``method`` parameter).
METHODS: tuple[str, ...] = ("paper", "best", "original")
#: Written by ``make seeds`` (:mod:`clvlib.pipeline.seeds`): each claim's support over seeds per configuration.
SEEDS_CLAIMS = "tab_seeds_claims.csv"


@dataclass(frozen=True)
class Verdict:
    """Outcome of one claim: the measured value in words and the verdict."""

    measured: str
    verdict: str


def _row(table: pd.DataFrame, **where) -> pd.Series:
    sel = table
    for column, value in where.items():
        sel = sel[sel[column] == value]
    if len(sel) != 1:
        raise ValueError(f"expected one row where {where}, found {len(sel)}")
    return sel.iloc[0]


def trend_increase(tables: dict[str, pd.DataFrame], table: str, series: str, alpha: float) -> Verdict:
    """Every data set's Mann-Kendall test of ``series`` is significant at ``alpha`` with a positive slope."""
    t = tables[table]
    parts, ok = [], True
    for ds, group in t.groupby("dataset", sort=True):
        row = _row(group, series=series)
        sig = row["p_value"] < alpha and row["slope_per_decade"] > 0
        ok &= bool(sig)
        parts.append(f"{ds}: {row['slope_per_decade']:+.3g} per decade, p = {row['p_value']:.3g}")
    return Verdict(
        "; ".join(parts) + f" ({series}, {int(t['first_year'].min())}-{int(t['last_year'].max())})",
        HOLDS if ok else FAILS,
    )


def greater(
    tables: dict[str, pd.DataFrame], table: str, column: str, left: str, right: str, where: dict | None = None
) -> Verdict:
    """``column`` of data set ``left`` exceeds that of ``right``."""
    t = tables[table]
    a = _row(t, dataset=left, **(where or {}))[column]
    b = _row(t, dataset=right, **(where or {}))[column]
    return Verdict(f"{column}: {left} {a:.4g}, {right} {b:.4g}", HOLDS if a > b else FAILS)


def top_k_contains(tables: dict[str, pd.DataFrame], table: str, k: int, features: list[str], at_least: int) -> Verdict:
    """At least ``at_least`` of ``features`` rank in the top ``k`` of a driver table."""
    t = tables[table].sort_values("rank")
    top = t["feature"].head(k).tolist()
    hits = [f for f in features if f in top]
    return Verdict(
        f"top {k}: {', '.join(top)}; of {', '.join(features)}: {len(hits)} in it",
        HOLDS if len(hits) >= at_least else FAILS,
    )


def rankings_differ(tables: dict[str, pd.DataFrame], table: str, max_tau: float) -> Verdict:
    """The two data sets' rankings of their shared variables agree less than ``max_tau`` (Kendall)."""
    t = tables[table].dropna(subset=["era5_rank", "gemb_rank"])
    tau = kendalltau(t["era5_rank"], t["gemb_rank"]).statistic
    return Verdict(f"Kendall tau of the {len(t)} shared variables: {tau:.3f}", HOLDS if tau < max_tau else FAILS)


def compare_methods(
    tables: dict[str, pd.DataFrame], table: str, column: str, better: str, worse: str, where: dict | None = None
) -> Verdict:
    """In every data set's table, method ``better`` has a larger ``column`` than ``worse``."""
    parts, ok = [], True
    for name, t in sorted(tables.items()):
        if not name.startswith(table):
            continue
        a = _row(t, method=better, **(where or {}))[column]
        b = _row(t, method=worse, **(where or {}))[column]
        ok &= bool(a > b)
        parts.append(f"{name.removeprefix(table + '_')}: {better} {a:.3f}, {worse} {b:.3f}")
    return Verdict(f"{column}: " + "; ".join(parts), HOLDS if ok else FAILS)


def all_at_least(
    tables: dict[str, pd.DataFrame], table: str, column: str, minimum: float, where: dict | None = None
) -> Verdict:
    """In every data set's table, the selected row's ``column`` is at least ``minimum``."""
    parts, ok, untestable = [], True, False
    for name, t in sorted(tables.items()):
        if not name.startswith(table):
            continue
        value = _row(t, **(where or {}))[column]
        if pd.isna(value):
            untestable = True
        else:
            ok &= bool(value >= minimum)
        parts.append(f"{name.removeprefix(table + '_')}: {value:.3f}")
    verdict = UNTESTABLE if untestable else (HOLDS if ok else FAILS)
    return Verdict(f"{column} (needs >= {minimum}): " + "; ".join(parts), verdict)


def median_at_least(
    tables: dict[str, pd.DataFrame], table: str, column: str, minimum: float, where: dict | None = None
) -> Verdict:
    """In every data set's table, the median of ``column`` over the selected rows is at least ``minimum``."""
    parts, ok = [], True
    for name, t in sorted(tables.items()):
        if not name.startswith(table):
            continue
        sel = t
        for c, v in (where or {}).items():
            sel = sel[sel[c] == v]
        value = float(np.median(sel[column]))
        ok &= value >= minimum
        parts.append(f"{name.removeprefix(table + '_')}: {value:.3f} over {len(sel)} rankings")
    return Verdict(f"median {column} (needs >= {minimum}): " + "; ".join(parts), HOLDS if ok else FAILS)


RULES = {
    f.__name__: f
    for f in (trend_increase, greater, top_k_contains, rankings_differ, compare_methods, all_at_least, median_at_least)
}


def load_tables(
    paper: Path, names: set[str], profile: str | None = None, seed: int | None = None
) -> dict[str, pd.DataFrame]:
    """Read ``tab_<name>.csv`` for each name, checking it against the manifest.

    Raises
    ------
    StaleTableError
        A table is missing, has no manifest entry, differs from its recorded hash, or was built
        with another profile or seed than asked.
    """
    manifest = read_manifest(paper)["artefacts"]
    tables = {}
    for name in sorted(names):
        path = Path(paper) / "tables" / f"tab_{name}.csv"
        entry = manifest.get(f"tab_{name}")
        if not path.exists():
            raise StaleTableError(f"{path} is missing: run make paper")
        if entry is None:
            raise StaleTableError(f"{path} has no entry in {paper}/manifest.json: run make paper")
        recorded = entry["outputs"].get(f"paper/tables/tab_{name}.csv")
        if recorded != sha256(path):
            raise StaleTableError(f"{path} changed after it was built (hash differs from the manifest): run make paper")
        for key, want in (("profile", profile), ("seed", seed)):
            if want is not None and entry[key] != want:
                raise StaleTableError(f"{path} was built with {key} {entry[key]!r}, not {want!r}: run make paper")
        tables[name] = pd.read_csv(path)
    return tables


def _tables_of(claim: dict, datasets: tuple[str, ...]) -> list[str]:
    names = []
    for name in claim["tables"]:
        names += [name.format(dataset=d) for d in datasets] if "{dataset}" in name else [name]
    return names


def with_method(params: dict, method: str) -> dict:
    """``params`` with the template field ``{method}`` in its string values replaced by ``method``.

    Examples
    --------
    >>> with_method(
    ...     {"better": "CLV ({method})", "worse": "unclustered VAE ({method})", "where": {"threshold": "pot"}}, "best"
    ... )
    {'better': 'CLV (best)', 'worse': 'unclustered VAE (best)', 'where': {'threshold': 'pot'}}
    """

    def sub(value):
        if isinstance(value, str):
            return value.replace("{method}", method)
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v) for v in value]
        return value

    return sub(params)


def evaluate(
    claims: list[dict],
    tables: dict[str, pd.DataFrame],
    synthetic: bool,
    datasets: tuple[str, ...] = ("era5", "gemb"),
    method: str = "paper",
) -> pd.DataFrame:
    """Evaluate every claim; returns id, claim, data, tables, measured, verdict.

    ``method`` replaces the template field ``{method}`` in the claims' parameters (:func:`with_method`).
    """
    rows = []
    for claim in claims:
        mine = {n: tables[n] for n in _tables_of(claim, datasets)}
        verdict = RULES[claim["rule"]](mine, **with_method(claim["params"], method))
        data = (
            "embedded synthetic default: a method check on synthetic data, not a finding about Greenland"
            if synthetic
            else "the user's data"
        )
        rows.append(
            {
                "id": claim["id"],
                "claim": claim["text"],
                "data": data,
                "tables": ", ".join(mine),
                "measured": verdict.measured,
                "verdict": verdict.verdict,
            }
        )
    return pd.DataFrame(rows)


def seeds_support(table: pd.DataFrame) -> dict[int, str]:
    """Each claim's support over seeds in one line, from ``tab_seeds_claims`` (columns id, method, n_holds, n_seeds).

    Configurations in the order paper, best, original, then any other; the first one spelt out.

    Examples
    --------
    >>> t = pd.DataFrame({"id": [7, 7], "method": ["best", "paper"], "n_holds": [4, 3], "n_seeds": [5, 5]})
    >>> seeds_support(t)
    {7: 'paper: holds for 3 of 5 seeds; best: 4 of 5'}
    >>> seeds_support(t.assign(world=["synoptic", "default"]))
    {7: 'paper (default world): holds for 3 of 5 seeds; best (synoptic world): 4 of 5'}
    """
    order = {m: i for i, m in enumerate(METHODS)}
    if "world" in table and table["world"].nunique() > 1:  # several worlds: the support of each, named
        table = table.assign(method=table["method"] + " (" + table["world"] + " world)")
        order = {f"{m} ({w} world)": i for i, (w, m) in enumerate((w, m) for w in WORLDS for m in METHODS)}
    support = {}
    for claim_id, group in table.groupby("id", sort=True):
        rows = sorted(group.itertuples(), key=lambda r: (order.get(r.method, len(order)), r.method))
        parts = [f"{r.method}: {int(r.n_holds)} of {int(r.n_seeds)}" for r in rows]
        first = rows[0]
        parts[0] = (
            f"{first.method}: holds for {int(first.n_holds)} of {int(first.n_seeds)} "
            f"seed{'' if first.n_seeds == 1 else 's'}"
        )
        support[int(claim_id)] = "; ".join(parts)
    return support


def read_seeds_support(paper: Path) -> dict[int, str] | None:
    """:func:`seeds_support` of ``paper/tables/tab_seeds_claims.csv``; None when ``make seeds`` has not run."""
    path = Path(paper) / "tables" / SEEDS_CLAIMS
    return seeds_support(pd.read_csv(path)) if path.exists() else None


def seeds_origin(paper: Path) -> dict[str, str] | None:
    """Profile, seeds and worlds of the ``make seeds`` run behind ``tab_seeds_claims`` (its manifest entry).

    Examples
    --------
    >>> import tempfile
    >>> seeds_origin(Path(tempfile.mkdtemp())) is None
    True
    """
    entry = read_manifest(paper)["artefacts"].get(SEEDS_CLAIMS.removesuffix(".csv"))
    if entry is None:
        return None
    parameters = entry["parameters"]
    return {k: str(parameters.get(k, "")) for k in ("profile", "seeds", "worlds")}


def support_note(origin: dict[str, str] | None, profile: str) -> str:
    """The sentence under ``claims.md`` that says where the support over seeds comes from (or why it is not shown).

    Examples
    --------
    >>> note = support_note({"profile": "quick", "seeds": "0,4", "worlds": "default"}, "full")
    >>> note.startswith("Over seeds: not shown.") and "quick profile (seeds 0, 4), these verdicts in the full" in note
    True
    >>> print(support_note({"profile": "full", "seeds": "0,4,6", "worlds": "default,synoptic"}, "full")[:85])
    Over seeds: for how many of seeds 0, 4, 6 (full profile, default and synoptic worlds)
    """
    if origin is None:
        return ""
    seeds = origin["seeds"].replace(",", ", ")
    worlds = " and ".join(w for w in origin["worlds"].split(",") if w) or "default"
    if origin["profile"] != profile:
        return (
            f"Over seeds: not shown. The last `make seeds` ran in the {origin['profile']} profile (seeds {seeds}), "
            f"these verdicts in the {profile} profile; its support is in `paper/tables/tab_seeds_claims.csv`."
        )
    return (
        f"Over seeds: for how many of seeds {seeds} ({origin['profile']} profile, {worlds} world"
        f"{'s' if ' and ' in worlds else ''}) of `make seeds` the claim holds, per CLV configuration "
        "(`paper/tables/tab_seeds_claims.csv`)."
    )


def write_markdown(
    result: pd.DataFrame,
    path: Path,
    profile: str,
    seed: int,
    support: dict[int, str] | None = None,
    note: str = "",
) -> Path:
    """Write ``claims.md``: one row per claim with its rule's measured value and verdict.

    With ``support`` (:func:`seeds_support`), a last column gives each claim's support over seeds; ``note``
    (:func:`support_note`) says where it comes from, or why it is not shown.
    """
    lines = [
        "# The paper's claims, evaluated",
        "",
        f"Built with profile `{profile}`, seed {seed}. Rules and tolerances: `paper/claims.yaml`.",
        "",
    ]
    if support is None:
        lines += ["| # | claim | verdict | measured |", "|---|---|---|---|"]
        lines += [f"| {r.id} | {r.claim} | **{r.verdict}** | {r.measured} |" for r in result.itertuples()]
    else:
        lines += ["| # | claim | verdict | measured | over seeds |", "|---|---|---|---|---|"]
        lines += [
            f"| {r.id} | {r.claim} | **{r.verdict}** | {r.measured} | {support.get(int(r.id), 'not run over seeds')} |"
            for r in result.itertuples()
        ]
    lines += ["", f"Data: {result['data'].iloc[0]}.", ""]
    if note:
        lines += [note, ""]
    path.write_text("\n".join(lines))
    return path


def verify(
    paper: Path,
    claims_file: Path,
    profile: str,
    seed: int,
    synthetic: bool = True,
    strict: bool = False,
    method: str = "paper",
) -> pd.DataFrame:
    """Evaluate ``claims_file`` against the tables under ``paper`` and write ``paper/claims.md``.

    ``method`` is the CLV configuration the build reports (substituted for ``{method}`` in the
    claims); ``claims.md`` shows the support over seeds when ``paper/tables/tab_seeds_claims.csv`` exists.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: expected one of {METHODS}")
    claims = yaml.safe_load(Path(claims_file).read_text())["claims"]
    names = {n for c in claims for n in _tables_of(c, ("era5", "gemb"))}
    tables = load_tables(paper, names, profile, seed)
    result = evaluate(claims, tables, synthetic, method=method)
    origin = seeds_origin(paper)
    # a support over seeds of another profile than these verdicts' is named, not shown beside them
    support = read_seeds_support(paper) if origin is None or origin["profile"] == profile else None
    write_markdown(result, Path(paper) / "claims.md", profile, seed, support, support_note(origin, profile))
    if strict and (result["verdict"] == FAILS).any():
        failed = result.loc[result["verdict"] == FAILS, "id"].tolist()
        raise SystemExit(f"claims that do not hold (--strict): {failed}")
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line of :func:`verify`."""
    parser = argparse.ArgumentParser(description="Evaluate the paper's claims against the built tables.")
    parser.add_argument("--paper", type=Path, default=Path("paper"))
    parser.add_argument("--claims", type=Path, default=Path("paper/claims.yaml"))
    parser.add_argument("--profile", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--method",
        default="paper",
        choices=METHODS,
        help="the CLV configuration the build reports (replaces {method} in the claims)",
    )
    parser.add_argument("--strict", action="store_true", help="fail when a claim does not hold")
    args = parser.parse_args(argv)
    try:
        result = verify(args.paper, args.claims, args.profile, args.seed, strict=args.strict, method=args.method)
    except StaleTableError as err:
        sys.exit(f"make verify: {err}")
    for r in result.itertuples():
        print(f"claim {r.id:>2}: {r.verdict:<26} {r.measured}")
    print(f"wrote {args.paper / 'claims.md'}")


if __name__ == "__main__":
    main()
