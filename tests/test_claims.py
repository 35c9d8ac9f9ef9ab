"""Claims: rules on hand-made tables, the stale-table check, and the claims file itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from clvlib.errors import StaleTableError
from clvlib.publish.claims import (
    FAILS,
    HOLDS,
    RULES,
    UNTESTABLE,
    all_at_least,
    compare_methods,
    greater,
    load_tables,
    rankings_differ,
    top_k_contains,
    trend_increase,
)
from clvlib.publish.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


def test_trend_rule_needs_every_data_set_significant_and_rising():
    t = pd.DataFrame(
        {
            "dataset": ["era5", "gemb"],
            "series": ["steps", "steps"],
            "first_year": 1951,
            "last_year": 2020,
            "p_value": [0.01, 0.2],
            "slope_per_decade": [0.5, 0.4],
        }
    )
    assert trend_increase({"tr": t}, "tr", "steps", 0.05).verdict == FAILS
    t["p_value"] = [0.01, 0.03]
    v = trend_increase({"tr": t}, "tr", "steps", 0.05)
    assert v.verdict == HOLDS and "era5: +0.5 per decade, p = 0.01" in v.measured
    t["slope_per_decade"] = [0.5, -0.1]
    assert trend_increase({"tr": t}, "tr", "steps", 0.05).verdict == FAILS


def test_comparison_and_ranking_rules():
    ext = pd.DataFrame({"dataset": ["era5", "gemb"], "n_extreme": [30, 26]})
    assert greater({"x": ext}, "x", "n_extreme", "era5", "gemb").verdict == HOLDS
    assert greater({"x": ext}, "x", "n_extreme", "gemb", "era5").verdict == FAILS
    drivers = pd.DataFrame({"feature": ["t2m", "tp", "strd", "ssrd"], "rank": [1, 2, 3, 4]})
    assert top_k_contains({"d": drivers}, "d", 3, ["t2m", "strd", "ssrd"], 2).verdict == HOLDS
    assert top_k_contains({"d": drivers}, "d", 2, ["t2m", "strd", "ssrd"], 2).verdict == FAILS
    same = pd.DataFrame({"era5_rank": [1, 2, 3, 4], "gemb_rank": [1, 2, 3, 4]})
    assert rankings_differ({"c": same}, "c", 0.5).verdict == FAILS
    assert rankings_differ({"c": same.assign(gemb_rank=[4, 3, 2, 1])}, "c", 0.5).verdict == HOLDS


def test_per_data_set_rules():
    det = {
        f"det_{d}": pd.DataFrame({"method": ["CLV", "single"], "threshold": "pot", "pr_auc": auc})
        for d, auc in (("era5", [0.7, 0.6]), ("gemb", [0.5, 0.6]))
    }
    v = compare_methods(det, "det", "pr_auc", "CLV", "single", {"threshold": "pot"})
    assert v.verdict == FAILS and "era5: CLV 0.700, single 0.600" in v.measured
    stab = {f"s_{d}": pd.DataFrame({"alternative": ["zero"], "j": [j]}) for d, j in (("era5", 0.9), ("gemb", 0.7))}
    assert all_at_least(stab, "s", "j", 0.67, {"alternative": "zero"}).verdict == HOLDS
    stab["s_gemb"]["j"] = [float("nan")]
    assert all_at_least(stab, "s", "j", 0.67, {"alternative": "zero"}).verdict == UNTESTABLE


def test_the_claims_file_lists_ten_claims_with_known_rules():
    claims = yaml.safe_load((ROOT / "paper" / "claims.yaml").read_text())["claims"]
    assert [c["id"] for c in claims] == list(range(1, 11))
    assert all(c["rule"] in RULES and c["text"] and c["tables"] for c in claims)


def test_missing_changed_or_foreign_tables_are_stale(tmp_path):
    reg = Registry(tmp_path, "04_detect", "era5", {"profile": "quick", "seed": 0})
    reg.table(pd.DataFrame({"x": [1]}), "a", "A.")
    assert list(load_tables(tmp_path / "paper", {"a"}, "quick", 0)["a"]["x"]) == [1]
    with pytest.raises(StaleTableError, match="profile 'quick', not 'full'"):
        load_tables(tmp_path / "paper", {"a"}, "full", 0)
    with pytest.raises(StaleTableError, match="missing"):
        load_tables(tmp_path / "paper", {"b"})
    (tmp_path / "paper" / "tables" / "tab_a.csv").write_text("x\n2\n")
    with pytest.raises(StaleTableError, match="changed after it was built"):
        load_tables(tmp_path / "paper", {"a"})
