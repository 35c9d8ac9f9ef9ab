"""Counterfactual attribution: batched = looped, a planted driver ranks first, baselines, aggregation, variants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import five_day_time, two_cluster_series

from clvlib.method.attribution import (
    attribute,
    attribute_groups,
    baseline_values,
    event_counterfactuals,
)
from clvlib.method.attribution_alternatives import (
    attribute_hierarchical,
    attribute_shapley,
    attribute_shapley_groups,
    shapley_from_coalitions,
    spread_groups,
)
from clvlib.method.attribution_truth import candidate_driver_accuracy, candidate_driver_check, candidate_drivers
from clvlib.method.counterfactual import CounterfactualConfig, attribute_counterfactual
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.method.rankings import event_ranking, overall_ranking, tidy, top_k_stability
from clvlib.testing.attribution_reference import attribute_counterfactual_looped, attribute_looped

N = 73 * 8


def _time(n: int = N) -> pd.DatetimeIndex:
    return five_day_time(n)


def _series(seed: int = 0, n: int = N) -> np.ndarray:
    return two_cluster_series(seed, n)


@pytest.fixture(scope="module")
def model():
    cfg = CLVConfig(epochs=25, batch_size=32, learning_rate=3e-3, patience=25)
    return ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=0, progress=False).fit(_series()[: 73 * 6])


@pytest.mark.parametrize("kind", ["median", "zero"])
def test_batched_and_looped_agree(model, kind):
    x = _series(1)
    base = baseline_values(x, _time(), kind)
    steps = np.array([0, 3, 14, 200, 300, N - 15, N - 1])
    batched = attribute(model, x, steps, base, chunk=50)
    np.testing.assert_allclose(batched, attribute_looped(model, x, steps, base), atol=1e-6)
    np.testing.assert_allclose(batched[:3], attribute_looped(model, x, steps[:3], base, local=True), atol=1e-6)


def test_the_batch_size_is_a_speed_setting_and_a_fixed_one_reruns_bit_identically(model):
    # each distinct window runs once and its reconstruction serves every step it covers
    x = _series(1)
    base = baseline_values(x, _time(), "median")
    steps = np.array([0, 3, 4, 5, 14, 200, 201, N - 1])
    reference = attribute(model, x, steps, base, chunk=64)
    np.testing.assert_array_equal(attribute(model, x, steps, base, chunk=64), reference)
    for chunk in (1, 7, 1024):
        np.testing.assert_allclose(attribute(model, x, steps, base, chunk=chunk), reference, atol=1e-6)
    shapley = attribute_shapley(model, x, steps, base, n_permutations=3, random_state=5, chunk=1024)
    np.testing.assert_array_equal(attribute_shapley(model, x, steps, base, 3, random_state=5), shapley)
    np.testing.assert_allclose(attribute_shapley(model, x, steps, base, 3, random_state=5, chunk=5), shapley, atol=1e-6)


def test_shapley_values_are_the_mean_marginal_drop_over_the_drawn_orders(model):
    # the reference draws the same orders (one generator, step after step) and rescores the series
    x = _series(2)
    base = baseline_values(x, _time(), "median")
    steps, n_perm, w = np.array([40, 41, 300]), 3, model.config.window
    rng = np.random.default_rng(9)
    expected = np.zeros((len(steps), 5))
    for i, t in enumerate(steps):
        lo, hi = max(0, t - w + 1), min(N, t + w)
        for perm in [rng.permutation(5) for _ in range(n_perm)]:
            changed, before = x.copy(), model.decision_function(x)[t]
            for f in perm:
                changed[lo:hi, f] = base[lo:hi, f]
                after = model.decision_function(changed)[t]
                expected[i, f] += (before - after) / n_perm
                before = after
    np.testing.assert_allclose(attribute_shapley(model, x, steps, base, n_perm, random_state=9), expected, atol=1e-6)


def test_planted_driver_ranks_first_and_an_untouched_feature_is_near_zero(model):
    x = _series(2)
    t = 73 * 7 + 40
    x[t, 1] += 4.0
    deltas = attribute(model, x, np.array([t]), baseline_values(x, _time(), "median"))[0]
    assert int(np.argmax(deltas)) == 1
    assert abs(deltas[4]) < 0.1 * deltas[1]


def test_yearly_median_uses_each_calendar_year_of_the_data_passed_in():
    time = _time()
    x = np.random.default_rng(0).normal(size=(N, 2))
    base = baseline_values(x, time, "median")
    for year in (2000, 2003, 2007):
        sel = time.year == year
        np.testing.assert_allclose(base[sel], np.broadcast_to(np.median(x[sel], axis=0), base[sel].shape))
    changed = x.copy()
    changed[time.year == 2003] += 10.0
    moved = baseline_values(changed, time, "median")
    assert np.allclose(moved[time.year != 2003], base[time.year != 2003])
    assert np.allclose(moved[time.year == 2003], base[time.year == 2003] + 10.0)


def test_climatology_baseline_is_the_training_mean_per_step_of_year():
    time = _time()
    step = np.tile(np.arange(73), 8)
    train = time.year < 2006
    x = np.random.default_rng(1).normal(size=(N, 1))
    base = baseline_values(x, time, "climatology", step, train)
    assert base[5, 0] == pytest.approx(x[train & (step == 5), 0].mean())
    with pytest.raises(ValueError, match="step_of_year"):
        baseline_values(x, time, "climatology")
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_values(x, time, "mean")


def test_rankings_and_stability():
    time = pd.date_range("2000-06-01", periods=4, freq="5D")
    deltas = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.5], [0.1, 0.2, 5.0], [0.0, 1.0, 2.0]])
    table = tidy(deltas, time, np.array([1, 1, 2, 2]), ("a", "b", "c"))
    assert table.groupby("time")["rank"].apply(sorted).map(tuple).unique().tolist() == [(1, 2, 3)]
    ev = event_ranking(table)
    assert ev[ev["rank"] == 1].set_index("event_id")["feature"].to_dict() == {1: "a", 2: "c"}
    overall = overall_ranking(table, n_boot=200)
    assert overall["feature"].iloc[0] == "c" and (overall["ci_low"] <= overall["mean_delta"]).all()
    assert overall["top1_share"].sum() == pytest.approx(1.0)
    same = top_k_stability(ev, ev, k=2)
    assert (same["jaccard_top"] == 1.0).all() and (same["kendall_tau"] == 1.0).all() and same["same_top1"].all()
    flipped = ev.assign(rank=ev.groupby("event_id")["rank"].transform(lambda r: r.max() + 1 - r))
    assert (top_k_stability(ev, flipped, k=1)["jaccard_top"] == 0.0).all()


def test_shapley_values_add_up_and_find_the_planted_driver(model):
    from clvlib.method.attribution_alternatives import attribute_shapley

    x = _series(2)
    t = 73 * 7 + 40
    x[t, 1] += 4.0
    base = baseline_values(x, _time(), "median")
    phi = attribute_shapley(model, x, np.array([t, 100]), base, n_permutations=4)
    full = x.copy()
    w = model.config.window
    for i, step in enumerate((t, 100)):
        lo, hi = max(0, step - w + 1), min(N, step + w)
        all_base = x.copy()
        all_base[lo:hi] = base[lo:hi]
        expected = model.decision_function(full)[step] - model.decision_function(all_base)[step]
        assert phi[i].sum() == pytest.approx(expected, abs=1e-5)
    assert int(np.argmax(phi[0])) == 1


def test_driver_check_renames_drivers_for_gemb_and_counts_accuracy():
    from clvlib.method.attribution_truth import driver_accuracy, driver_check

    ranking = pd.DataFrame(
        {
            "event_id": [1, 1, 1, 2, 2, 2],
            "feature": ["albedo", "t2m", "tcc"] * 2,
            "delta": [3, 2, 1, 1, 2, 3.0],
            "rank": [1, 2, 3, 3, 2, 1],
        }
    )
    events = pd.DataFrame({"event_id": [1, 2, 3], "reference_ids": ["10", "11;12", ""]})
    truth = pd.DataFrame(
        {
            "event_id": [10, 11, 12],
            "type": ["dark_surface", "warm_advection", "foehn"],
            "drivers": ["fal", "t2m;d2m;strd", "u10;sshf;t2m"],
        }
    )
    check = driver_check(ranking, events, truth, k=2, dataset="gemb")
    assert check["top1"].tolist() == ["albedo", "tcc"] and check["drivers"].iloc[0] == "albedo"
    assert check["top1_is_driver"].tolist() == [True, False] and check["driver_in_top2"].tolist() == [True, True]
    acc = driver_accuracy(check, k=2).set_index("type")
    assert (
        acc.loc["all", "n_events"] == 2
        and acc.loc["all", "top1_accuracy"] == 0.5
        and acc.loc["all", "top2_accuracy"] == 1.0
    )
    assert not driver_check(ranking, events, truth, k=2, dataset="era5")["top1_is_driver"].iloc[0]


def test_baseline_stability_summarises_identical_and_different_baselines():
    from clvlib.method.rankings import baseline_stability

    time = pd.date_range("2000-06-01", periods=4, freq="5D")
    deltas = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.5], [0.1, 0.2, 5.0], [0.0, 1.0, 2.0]])
    same = tidy(deltas, time, np.array([1, 1, 2, 2]), ("a", "b", "c"))
    flipped = tidy(-deltas, time, np.array([1, 1, 2, 2]), ("a", "b", "c"))
    summary, per_event = baseline_stability({"median": same, "zero": same, "other": flipped}, k=1)
    rows = summary.set_index("alternative")
    assert rows.loc["zero", "mean_jaccard_top1"] == 1.0 and rows.loc["zero", "overall_kendall_tau"] == 1.0
    assert rows.loc["other", "mean_jaccard_top1"] == 0.0 and rows.loc["other", "same_top1_share"] == 0.0
    assert len(per_event) == 4 and set(per_event["alternative"]) == {"zero", "other"}


def test_counterfactual_scores_change_only_where_the_feature_is_replaced(model):
    from clvlib.method.attribution import counterfactual_scores

    x = _series(3)
    base = baseline_values(x, _time(), "median")
    cf = counterfactual_scores(model, x, 300, 310, 1, base)
    original = model.decision_function(x)
    w = model.config.window
    np.testing.assert_array_equal(cf[: 300 - w + 1], original[: 300 - w + 1])
    np.testing.assert_array_equal(cf[310 + w - 1 :], original[310 + w - 1 :])
    assert not np.allclose(cf[300:310], original[300:310])


def test_ranking_by_absolute_delta_and_the_default_is_unchanged():
    time = pd.date_range("2000-06-01", periods=2, freq="5D")
    deltas = np.array([[-3.0, 1.0, 0.5], [-1.0, 2.0, 0.0]])
    plain = tidy(deltas, time, np.array([1, 1]), ("a", "b", "c"))
    absolute = tidy(deltas, time, np.array([1, 1]), ("a", "b", "c"), by="abs")
    assert plain[plain["rank"] == 1]["feature"].tolist() == ["b", "b"]
    assert absolute[absolute["rank"] == 1]["feature"].tolist() == ["a", "b"]
    assert sorted(absolute["delta"]) == sorted(deltas.ravel())  # the sign is kept
    ev_plain, ev_abs = event_ranking(plain), event_ranking(absolute, by="abs")
    assert list(ev_plain.columns) == ["event_id", "feature", "delta", "rank"]
    assert ev_plain.set_index("feature")["rank"].to_dict() == {"b": 1, "c": 2, "a": 3}
    assert ev_abs.set_index("feature")["rank"].to_dict() == {"a": 1, "b": 2, "c": 3}
    assert ev_abs.set_index("feature")["abs_delta"]["a"] == 2.0 and ev_abs.set_index("feature")["delta"]["a"] == -2.0
    with pytest.raises(ValueError, match="unknown ranking"):
        tidy(deltas, time, np.array([1, 1]), ("a", "b", "c"), by="square")


def test_group_occlusion_batched_and_looped_agree_and_singletons_are_single_features(model):
    x = _series(1)
    base = baseline_values(x, _time(), "median")
    steps = np.array([0, 14, 300, N - 1])
    groups = [[0, 1, 2], [3, 4], [1, 4]]
    np.testing.assert_allclose(
        attribute_groups(model, x, steps, base, groups, chunk=40),
        attribute_looped(model, x, steps, base, groups=groups),
        atol=1e-6,
    )
    singles = attribute_groups(model, x, steps, base, [[f] for f in range(5)], chunk=50)
    np.testing.assert_array_equal(singles, attribute(model, x, steps, base, chunk=50))
    with pytest.raises(ValueError, match="feature indices"):
        attribute_groups(model, x, steps, base, [[0, 5]])


def _planted_pair(seed: int = 2, t: int = 450) -> np.ndarray:
    """Features 3 and 4 (b and 0.5 b) moved up together, as their correlation says, over steps t-1..t+1."""
    x = _series(seed)
    x[t - 1 : t + 2, 3] += 2.5
    x[t - 1 : t + 2, 4] += 1.25
    return x


def test_group_occlusion_ranks_a_planted_correlated_pair_first_as_a_group(model):
    x, t = _planted_pair(), 450
    base = baseline_values(x, _time(), "median")
    pair_first = attribute_groups(model, x, np.array([t]), base, [[0], [1], [2], [3, 4]])[0]
    assert int(np.argmax(pair_first)) == 3 and pair_first[3] > 5 * np.abs(pair_first[:3]).max()
    ranks = tidy(
        attribute_hierarchical(model, x, np.array([t]), base), _time()[[t]], np.array([1]), ("a", "b", "c", "d", "e")
    )
    assert ranks.nsmallest(2, "rank")["feature"].tolist() == ["d", "e"]


def test_a_cluster_anomalous_together_loses_more_as_a_group_than_its_features_one_by_one(model):
    x, t = _series(2), 450
    x[t - 2 : t + 3, :3] += np.array([1.0, 0.8, -1.0])  # cluster 0 (a, 0.8 a, -a) moved coherently
    base = baseline_values(x, _time(), "median")
    group = attribute_groups(model, x, np.array([t]), base, model.clusters)[0]
    single = attribute(model, x, np.array([t]), base)[0]
    assert int(np.argmax(group)) == 0 and group[0] > 2 * single[:3].sum()


def test_hierarchical_scores_rank_the_top_group_first_then_by_group():
    from clvlib.method.attribution_alternatives import hierarchical_scores

    groups = [[0, 3], [1], [2, 4]]
    scores = hierarchical_scores(np.array([[0.1, 0.5, 2.0]]), np.array([[9.0, 1.0, -1.0, 0.0, 0.5]]), groups)
    assert np.argsort(-scores[0]).tolist() == [4, 2, 1, 0, 3]
    assert np.argsort(
        -hierarchical_scores(np.array([[0.1, 0.5, 2.0]]), np.array([[9.0, 1.0, -1.0, 0.0, 0.5]]), groups, by="abs")[0]
    ).tolist() == [2, 4, 1, 0, 3]
    with pytest.raises(ValueError, match="exactly once"):
        hierarchical_scores(np.zeros((1, 2)), np.zeros((1, 3)), [[0], [1]])


def test_exact_shapley_weights_match_the_average_over_all_orders():
    from itertools import permutations

    scores = np.random.default_rng(0).normal(size=(2, 8))  # any game of 3 players
    expected = np.zeros((2, 3))
    for order in permutations(range(3)):
        coalition = 0
        for c in order:
            expected[:, c] += scores[:, coalition] - scores[:, coalition | (1 << c)]
            coalition |= 1 << c
    np.testing.assert_allclose(shapley_from_coalitions(scores), expected / 6, atol=1e-12)


def test_group_shapley_values_add_up_and_find_the_planted_pair(model):
    x, t = _planted_pair(), 450
    base = baseline_values(x, _time(), "median")
    steps, w = np.array([t, 0, N - 1]), model.config.window
    for groups in (model.clusters, [[0], [1], [2], [3, 4]]):
        phi = attribute_shapley_groups(model, x, steps, base, groups)
        assert phi.shape == (3, len(groups)) and int(np.argmax(phi[0])) == len(groups) - 1
        for i, step in enumerate(steps):
            all_base = x.copy()
            all_base[max(0, step - w + 1) : step + w] = base[max(0, step - w + 1) : step + w]
            assert phi[i].sum() == pytest.approx(
                model.decision_function(x)[step] - model.decision_function(all_base)[step], abs=1e-5
            )
    with pytest.raises(ValueError, match="coalitions"):
        attribute_shapley_groups(model, x, steps, base, [[f] for f in range(5)], max_groups=4)


def test_spreading_group_values_over_features_keeps_their_sum():
    values, within = np.array([[3.0, -1.0], [0.0, 2.0]]), np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    spread = spread_groups(values, [[0, 2], [1]], 3, within=within)
    np.testing.assert_allclose(spread.sum(axis=1), values.sum(axis=1))
    np.testing.assert_allclose(spread[0], [1.0, -1.0, 2.0])
    np.testing.assert_allclose(spread_groups(values, [[0, 2], [1]], 3), [[3.0, -1.0, 3.0], [0.0, 2.0, 0.0]])


def _threshold(model) -> float:
    """The 90th percentile of the scores of a clean series (a stand-in for the dynamic threshold)."""
    return float(np.quantile(model.decision_function(_series(2)), 0.9))


@pytest.mark.slow
def test_counterfactual_brings_a_planted_anomaly_under_its_threshold_with_a_change_of_the_planted_feature(model):
    x, t = _series(2), 73 * 7 + 40
    x[t, 1] += 4.0
    target = _threshold(model)
    result = attribute_counterfactual(model, x, np.array([t, 300]), np.array([target, target]))
    assert result.reached.all() and (result.score <= target).all() and result.original[0] > 10 * target
    change = result.change[0]
    assert int(np.argmax(change)) == 1 and change[4] < 0.05 * change[1]
    w = model.config.window
    assert abs(result.segment[0, w - 1, 1]) > 0.9 * change[1]  # the change sits on the spike itself
    assert result.change[1].max() == 0.0 and result.score[1] == result.original[1]  # 300 is already normal
    changed = x.copy()
    changed[t - w + 1 : t + w] += result.segment[0]
    assert model.decision_function(changed)[t] == pytest.approx(result.score[0], rel=1e-9)


@pytest.mark.slow
def test_counterfactual_is_deterministic_batched_equals_looped_and_scores_like_the_model(model):
    x, t = _series(2), 73 * 7 + 40
    x[t, 1] += 4.0
    x[2, 3] += 3.0
    steps = np.array([t, 2, N - 1])
    target = np.full(3, _threshold(model))
    config = CounterfactualConfig(iterations=80)
    first, second = (attribute_counterfactual(model, x, steps, target, config) for _ in range(2))
    for name in ("change", "segment", "score", "reached"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    looped = attribute_counterfactual_looped(model, x, steps, target, config)
    np.testing.assert_allclose(looped.segment, first.segment, atol=1e-3)
    np.testing.assert_array_equal(looped.reached, first.reached)
    w = model.config.window
    assert not first.segment[1, : w - 1 - 2].any() and not first.segment[2, w:].any()  # nothing outside the series
    untouched = attribute_counterfactual(model, x, steps, target, CounterfactualConfig(iterations=0))
    np.testing.assert_allclose(untouched.score, model.decision_function(x)[steps], rtol=1e-9)
    assert untouched.change.max() == 0.0 and not untouched.reached[0]
    with pytest.raises(ValueError, match="one value per step"):
        attribute_counterfactual(model, x, steps, target[:2])


def test_counterfactual_stacks_give_the_same_result_and_leave_the_model_trainable(model):
    x, t = _series(2), 73 * 7 + 40
    x[t, 1] += 4.0
    steps = np.array([t, t + 1, 2, 300, N - 1])
    target = np.full(len(steps), _threshold(model))
    config = CounterfactualConfig(iterations=15)
    together = attribute_counterfactual(model, x, steps, target, config)
    for stack in (1, 2):
        # the stack is a speed setting: float32 rounding in the backward pass, no more
        apart = attribute_counterfactual(model, x, steps, target, config, stack=stack)
        np.testing.assert_allclose(apart.segment, together.segment, atol=1e-6)
        np.testing.assert_allclose(apart.score, together.score, rtol=1e-5)
        np.testing.assert_allclose(apart.original, together.original, rtol=1e-6)
        np.testing.assert_array_equal(apart.reached, together.reached)
        again = attribute_counterfactual(model, x, steps, target, config, stack=stack)
        np.testing.assert_array_equal(again.segment, apart.segment)
    assert all(p.requires_grad for p in model.net_.parameters())
    with pytest.raises(ValueError, match="stack must be a positive"):
        attribute_counterfactual(model, x, steps, target, config, stack=0)


def test_candidate_drivers_are_the_event_types_drivers_under_the_data_sets_names():
    assert set(candidate_drivers("era5")) == {"t2m", "d2m", "strd", "ssrd", "tcc", "u10", "sshf", "tp", "fal"}
    assert candidate_drivers("gemb", ("melt", "shf", "albedo", "t2m", "netSW", "sshf")) == ("shf", "albedo", "t2m")


def test_candidate_driver_check_skips_response_variables_and_counts_when_they_lead():
    names = ("t2m", "d2m", "strd", "tcc", "ssrd", "melt", "netSW", "albedo")
    order = {1: ["melt", "t2m", "tcc"], 2: ["tcc", "netSW", "ssrd"], 3: ["netSW", "melt", "albedo"]}
    ranking = pd.DataFrame(
        [{"event_id": e, "feature": f, "rank": r + 1} for e, fs in order.items() for r, f in enumerate(fs)]
    )
    events = pd.DataFrame({"event_id": [1, 2, 3], "reference_ids": ["10", "11", "12"]})
    truth = pd.DataFrame(
        {
            "event_id": [10, 11, 12],
            "type": ["warm_advection", "clear_sky", "dark_surface"],
            "drivers": ["t2m;d2m;strd", "ssrd;tcc", "fal"],
        }
    )
    check = candidate_driver_check(ranking, events, truth, names, "gemb", k=2).set_index("event_id")
    assert check["top1"].tolist() == ["t2m", "tcc", "albedo"]  # melt and netSW respond: not candidates
    assert check["top1_is_driver"].tolist() == [True, True, True]
    assert check["response_first"].tolist() == [True, False, True]
    assert check["driver_rank"].tolist() == [2, 1, 3] and check.loc[1, "top2"] == "t2m;tcc"
    acc = candidate_driver_accuracy(check.reset_index(), k=2).set_index("type")
    assert acc.loc["all", "n_events"] == 3 and acc.loc["all", "response_first_share"] == pytest.approx(2 / 3)
    assert acc.loc["clear_sky", "response_first_share"] == 0.0 and acc.loc["all", "top2_accuracy"] == 1.0
    era5 = candidate_driver_check(ranking, events, truth, names, "era5", k=1).set_index("event_id")
    assert era5.loc[3, "top1"] == "" and not era5.loc[3, "top1_is_driver"]  # albedo is not ERA5's fal


def test_the_variants_use_the_models_standardized_score(model):
    import copy

    from clvlib.method.model import error_scale

    scaled = copy.copy(model)
    scaled.error_scale_ = error_scale(model.feature_errors(_series()[: 73 * 6]))
    assert not np.allclose(scaled.error_scale_, 1.0)
    x, t = _planted_pair(), 450
    base = baseline_values(x, _time(), "median")
    steps, groups = np.array([t, N - 1]), [[0, 1], [2, 3, 4]]
    np.testing.assert_allclose(
        attribute_groups(scaled, x, steps, base, groups),
        attribute_looped(scaled, x, steps, base, groups=groups),
        atol=1e-5,
    )
    target = np.full(2, float(np.quantile(scaled.decision_function(_series(2)), 0.9)))
    result = attribute_counterfactual(scaled, x, steps, target, CounterfactualConfig(iterations=40))
    np.testing.assert_allclose(result.original, scaled.decision_function(x)[steps], rtol=1e-9)
    changed, w = x.copy(), model.config.window
    changed[t - w + 1 : t + w] += result.segment[0]
    assert (
        scaled.decision_function(changed)[t] == pytest.approx(result.score[0], rel=1e-9)
        and result.score[0] < result.original[0]
    )


def test_the_variants_and_the_counterfactual_use_the_models_gaussian_score(model):
    gaussian = model.with_score("gaussian", _series()[: 73 * 6])
    x, t = _planted_pair(), 450
    base = baseline_values(x, _time(), "median")
    steps, groups = np.array([t, 3, N - 1]), [[0, 1], [2, 3, 4]]
    np.testing.assert_allclose(
        attribute(gaussian, x, steps, base, chunk=50), attribute_looped(gaussian, x, steps, base), atol=1e-5
    )
    np.testing.assert_allclose(
        attribute_groups(gaussian, x, steps, base, groups),
        attribute_looped(gaussian, x, steps, base, groups=groups),
        atol=1e-5,
    )
    target = np.full(3, float(np.quantile(gaussian.decision_function(_series(2)), 0.9)))
    result = attribute_counterfactual(gaussian, x, steps, target, CounterfactualConfig(iterations=40))
    np.testing.assert_allclose(result.original, gaussian.decision_function(x)[steps], rtol=1e-9)
    changed, w = x.copy(), model.config.window
    changed[t - w + 1 : t + w] += result.segment[0]
    assert gaussian.decision_function(changed)[t] == pytest.approx(result.score[0], rel=1e-9)
    assert result.score[0] < result.original[0]


def test_event_counterfactuals_replace_each_feature_over_the_windows_of_the_event(model):
    x, time = _series(2), _time()
    base = baseline_values(x, time, "median")
    w = model.config.window
    view, scores = event_counterfactuals(
        model, x, time, (time[300], time[302]), ["b", "a"], ["a", "b", "c", "d", "e"], base
    )
    assert view == slice(292, 311) and list(scores) == ["b", "a"]
    changed = x.copy()
    changed[300 - w + 1 : 302 + w, 1] = base[300 - w + 1 : 302 + w, 1]
    np.testing.assert_allclose(scores["b"], model.decision_function(changed)[view], rtol=1e-12)
    edge, _ = event_counterfactuals(model, x, time, (time[2], time[2]), ["a"], ["a", "b", "c", "d", "e"], base)
    assert edge == slice(0, 11)
