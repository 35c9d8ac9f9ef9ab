"""The Cluster-LSTM-VAE: every step scored, deterministic, save/load, a planted anomaly stands out,
batched encoders equal to the looped reference."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import clvlib.method.model
from clvlib.errors import InputDataError, ModelFileError
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.method.network import CLVNet
from clvlib.testing.model_reference import (
    LoopedClusterLSTMVAE,
    LoopedCLVNet,
    to_batched_state,
    to_looped_state,
)

FAST = CLVConfig(window=15, epochs=25, batch_size=32, learning_rate=3e-3, patience=25)


def _series(seed: int = 0, n: int = 600) -> np.ndarray:
    """Two groups of correlated features with smooth seasonal-like signals and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a, b = np.sin(2 * np.pi * t / 73), np.cos(2 * np.pi * t / 37)
    x = np.stack([a, 0.8 * a, -a, b, 0.5 * b], axis=1) + 0.1 * rng.normal(size=(n, 5))
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    return ClusterLSTMVAE([[0, 1, 2], [3, 4]], FAST, random_state=0, progress=False).fit(_series())


def test_training_reduces_the_loss(fitted):
    h = fitted.history_
    assert len(h) >= 5 and h["val_loss"].min() < 0.5 * h["val_loss"].iloc[0]


def test_multi_tensor_adam_and_clipping_give_the_weights_of_the_per_parameter_loop(monkeypatch):
    """fit uses foreach (multi-tensor) Adam and gradient clipping for speed: the weights are bit-identical."""
    config = CLVConfig(window=15, epochs=2, batch_size=32, learning_rate=3e-3, patience=3)
    fast = ClusterLSTMVAE([[0, 1, 2], [3, 4]], config, random_state=0, progress=False).fit(_series(n=300))
    adam, clip = torch.optim.Adam, torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.optim, "Adam", lambda params, **kw: adam(params, **{**kw, "foreach": False}))
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda p, norm, **kw: clip(p, norm, foreach=False))
    loop = ClusterLSTMVAE([[0, 1, 2], [3, 4]], config, random_state=0, progress=False).fit(_series(n=300))
    fast_state, loop_state = fast.net_.state_dict(), loop.net_.state_dict()
    assert fast_state.keys() == loop_state.keys()
    assert all(torch.equal(fast_state[k], loop_state[k]) for k in fast_state)
    start = ClusterLSTMVAE([[0, 1, 2], [3, 4]], config, random_state=0, progress=False)
    start.build_network(5)  # the same seeded initial weights: training moved them
    assert not torch.equal(fast_state["decoder.out.weight"], start.net_.state_dict()["decoder.out.weight"])


def test_every_step_scored_including_the_last_window(fitted):
    x = _series(1, 200)
    errors = fitted.feature_errors(x)
    assert errors.shape == x.shape and np.isfinite(errors).all()
    assert fitted.decision_function(x).shape == (200,)


def test_same_input_scores_identically(fitted):
    x = _series(2, 200)
    np.testing.assert_array_equal(fitted.decision_function(x), fitted.decision_function(x))


def test_save_and_load_give_identical_scores(fitted, tmp_path):
    fitted.save(tmp_path)
    loaded = ClusterLSTMVAE.load(tmp_path)
    x = _series(3, 200)
    np.testing.assert_array_equal(fitted.decision_function(x), loaded.decision_function(x))


def test_planted_anomaly_scores_highest_in_its_feature(fitted):
    x = _series(4, 300)
    x[150:153, 3] += 4.0
    errors = fitted.feature_errors(x)
    score = errors.mean(axis=1)
    assert score[150:153].min() > np.quantile(np.delete(score, range(140, 165)), 0.99)
    assert errors[150:153].mean(axis=0).argmax() == 3


def test_same_seed_same_model():
    x = _series(5, 200)
    cfg = CLVConfig(epochs=2, batch_size=32)
    a = ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=7, progress=False).fit(x)
    b = ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=7, progress=False).fit(x)
    np.testing.assert_array_equal(a.decision_function(x), b.decision_function(x))


CLUSTERS = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10], [11, 12, 13], [14, 15], [16]]


def _pair(dtype: torch.dtype = torch.float64) -> tuple[CLVNet, LoopedCLVNet]:
    """A looped reference network and the batched one holding the same weights (dropout off)."""
    torch.manual_seed(3)
    cfg = CLVConfig(dropout=0.0)
    looped = LoopedCLVNet(CLUSTERS, 17, cfg).to(dtype)
    batched = CLVNet(CLUSTERS, 17, cfg).to(dtype)
    batched.load_state_dict(to_batched_state(looped.state_dict(), len(CLUSTERS)))
    return batched, looped


def test_weight_layouts_round_trip_and_count_the_same_parameters():
    batched, looped = _pair()
    back = to_looped_state(batched.state_dict(), len(CLUSTERS))
    assert back.keys() == looped.state_dict().keys()
    assert all(torch.equal(back[k], v) for k, v in looped.state_dict().items())
    assert sum(p.numel() for p in batched.parameters()) == sum(p.numel() for p in looped.parameters())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batched_encoders_equal_the_looped_reference(mode, dtype):
    """Same weights: same reconstruction, latent, gradients and batch-norm statistics."""
    batched, looped = _pair(dtype)
    x = torch.randn(32, 15, 17, dtype=dtype, generator=torch.Generator().manual_seed(0))
    outputs, grads = [], []
    for net in (batched, looped):
        net.train(mode == "train")
        recon, mu, logvar = net(x, sample=False)
        ((recon - x) ** 2).mean().add(logvar.exp().mean()).add((mu**2).mean()).backward()
        outputs.append((recon, mu, logvar))
        grads.append({n: p.grad if p.grad is not None else torch.zeros_like(p) for n, p in net.named_parameters()})
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-10, "rtol": 1e-10}
    for ours, ref in zip(*outputs, strict=True):
        torch.testing.assert_close(ours, ref, **tol)
    state = dict(looped.state_dict(), **grads[1])
    ref_grads = to_batched_state(state, len(CLUSTERS))
    scale = max(float(g.abs().max()) for g in grads[0].values())
    for name, g in grads[0].items():  # relative to the largest gradient: float32 cancels in some near-zero ones
        torch.testing.assert_close(g, ref_grads[name], atol=tol["atol"] * scale, rtol=tol["rtol"])
    ref_state = to_batched_state(looped.state_dict(), len(CLUSTERS))
    for name, value in batched.state_dict().items():
        torch.testing.assert_close(value, ref_state[name], **tol)


def test_looped_estimator_trains_and_scores_like_the_batched_one():
    x = _series(6, 200)
    cfg = CLVConfig(epochs=1, batch_size=32, dropout=0.0)
    batched = ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=1, progress=False).fit(x)
    looped = LoopedClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=1, progress=False)
    looped.build_network(5)
    looped.net_.load_state_dict(to_looped_state(batched.net_.state_dict(), 2))
    np.testing.assert_allclose(batched.decision_function(x), looped.decision_function(x), rtol=1e-5, atol=1e-7)


def test_same_seed_gives_bit_identical_weights_and_scores():
    x = _series(7, 150)
    cfg = CLVConfig(epochs=2, batch_size=32)
    a, b = (ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=11, progress=False).fit(x) for _ in range(2))
    sa, sb = a.net_.state_dict(), b.net_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    np.testing.assert_array_equal(a.decision_function(x), b.decision_function(x))
    pd.testing.assert_frame_equal(a.history_, b.history_)


def test_save_records_the_checksum_and_leaves_no_temporary_file(fitted, tmp_path):
    fitted.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clv.json", "clv.pt", "clv.pt.sha256"]
    meta = json.loads((tmp_path / "clv.json").read_text())
    assert meta["sha256"] == hashlib.sha256((tmp_path / "clv.pt").read_bytes()).hexdigest()


def _truncate(folder):
    data = (folder / "clv.pt").read_bytes()
    (folder / "clv.pt").write_bytes(data[: len(data) // 2])


def _flip_byte(folder):
    data = bytearray((folder / "clv.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "clv.pt").write_bytes(bytes(data))


def _other_weights(folder):
    other = ClusterLSTMVAE([[0, 1, 2], [3, 4]], CLVConfig(epochs=1), random_state=99, progress=False)
    other.build_network(5)
    torch.save(other.net_.state_dict(), folder / "clv.pt")


@pytest.mark.parametrize(
    ("damage", "file", "words"),
    [
        (_truncate, "clv.pt", "sha256"),
        (_flip_byte, "clv.pt", "sha256"),
        (_other_weights, "clv.pt", "sha256"),
        (lambda f: (f / "clv.pt").unlink(), "clv.pt", "not found"),
        (lambda f: (f / "clv.json").unlink(), "clv.json", "not found"),
        (lambda f: (f / "clv.json").write_text("{"), "clv.json", "not a readable"),
    ],
)
def test_damaged_model_files_give_a_clear_error(fitted, tmp_path, damage, file, words):
    fitted.save(tmp_path)
    damage(tmp_path)
    with pytest.raises(ModelFileError, match=words) as err:
        ClusterLSTMVAE.load(tmp_path)
    assert isinstance(err.value, InputDataError)
    assert str(tmp_path / file) in str(err.value) and "03_train" in str(err.value) and "make paper" in str(err.value)


def test_a_description_without_checksum_is_refused(fitted, tmp_path):
    fitted.save(tmp_path)
    meta = json.loads((tmp_path / "clv.json").read_text())
    del meta["sha256"]
    (tmp_path / "clv.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="sha256"):
        ClusterLSTMVAE.load(tmp_path)


def test_every_torch_load_in_clvlib_uses_weights_only():
    calls = []
    for path in Path(clvlib.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "torch"
            ):
                calls.append((path.name, {k.arg: getattr(k.value, "value", None) for k in node.keywords}))
    assert calls and all(kw.get("weights_only") is True for _, kw in calls), calls


# --- the standardized score and the named configurations (issue 12) ---------------------------------


def test_standardized_score_equals_a_hand_computation_on_a_toy_series():
    x = _series(0, 300)
    config = CLVConfig(window=15, epochs=3, batch_size=32, learning_rate=3e-3, score="standardized")
    model = ClusterLSTMVAE([[0, 1, 2], [3, 4]], config, random_state=0, progress=False).fit(x)
    errors = model.feature_errors(x)
    scale = errors.mean(axis=0)  # each feature's mean squared error over the training steps
    np.testing.assert_allclose(model.error_scale_, scale, rtol=1e-12)
    y = _series(5, 120)
    by_hand = (model.feature_errors(y) / scale[None, :]).sum(axis=1) / y.shape[1]
    np.testing.assert_allclose(model.decision_function(y), by_hand, rtol=1e-12)
    # a feature reconstructed badly no longer dominates: every feature's scaled training error averages 1
    np.testing.assert_allclose((errors / model.error_scale_).mean(axis=0), np.ones(5), rtol=1e-10)


def test_paper_score_is_the_plain_mean_squared_error(fitted):
    x = _series(6, 100)
    np.testing.assert_array_equal(fitted.error_scale_, np.ones(5))
    np.testing.assert_array_equal(fitted.decision_function(x), fitted.feature_errors(x).mean(axis=1))


@pytest.mark.slow
def test_with_score_equals_training_with_that_score_and_survives_save_load(fitted, tmp_path):
    x = _series()
    direct = ClusterLSTMVAE(
        [[0, 1, 2], [3, 4]], CLVConfig(**{**FAST.__dict__, "score": "standardized"}), random_state=0, progress=False
    ).fit(x)
    twin = fitted.with_score("standardized", x)
    np.testing.assert_array_equal(twin.error_scale_, direct.error_scale_)
    y = _series(7, 150)
    np.testing.assert_array_equal(twin.decision_function(y), direct.decision_function(y))
    twin.save(tmp_path)
    loaded = ClusterLSTMVAE.load(tmp_path)
    assert loaded.config.score == "standardized"
    np.testing.assert_array_equal(loaded.decision_function(y), twin.decision_function(y))


def test_train_months_restricts_training_windows_and_needs_time():
    x = _series(0, 400)
    time = pd.date_range("2000-01-01", periods=400, freq="5D")
    config = CLVConfig(window=15, epochs=1, batch_size=32, train_months=(6, 7))
    with pytest.raises(ValueError, match="needs the start time"):
        ClusterLSTMVAE([[0, 1, 2], [3, 4]], config, random_state=0, progress=False).fit(x)
    model = ClusterLSTMVAE(
        [[0, 1, 2], [3, 4]], replace_config(config, score="standardized"), random_state=0, progress=False
    ).fit(x, time)
    scope = np.isin(time.month, (6, 7))
    np.testing.assert_allclose(model.error_scale_, model.feature_errors(x)[scope].mean(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="calendar months"):
        CLVConfig(train_months=(13,))


def test_named_configurations():
    assert CLVConfig.named("paper") == CLVConfig()
    assert CLVConfig.named("original").learning_rate == 1e-4
    assert CLVConfig.named("best", max_epochs=4).epochs == 4
    with pytest.raises(ValueError, match="unknown configuration"):
        CLVConfig.named("fastest")


def replace_config(config: CLVConfig, **changes) -> CLVConfig:
    """dataclasses.replace, named for readability in the tests above."""
    from dataclasses import replace

    return replace(config, **changes)


def test_shift_passthrough_equals_a_window_by_window_computation(fitted):
    """The batched pass-through against shifting one window at a time and reconstructing it."""
    from clvlib.method.diagnosis import shift_passthrough

    x = _series(1)
    steps = np.array([3, 100, 300, 590])  # near both ends too: the window is clipped to the record
    table = shift_passthrough(fitted, x, steps, ("a", "b", "c", "d", "e"), shift=3.0).set_index("feature")
    w = fitted.config.window
    fitted.net_.eval()
    expected = np.zeros(5)
    with torch.no_grad():
        for t in steps:
            start = min(max(t - w // 2, 0), len(x) - w)
            window = torch.from_numpy(x[start : start + w].copy())[None]
            recon = fitted.net_(window, sample=False)[0][0]
            for f in range(5):
                bumped = window.clone()
                bumped[0, t - start, f] += 3.0
                expected[f] += float(fitted.net_(bumped, sample=False)[0][0, t - start, f] - recon[t - start, f]) / 3.0
    expected /= len(steps)
    np.testing.assert_allclose(table.loc[list("abcde"), "passthrough"].to_numpy(), expected, atol=1e-5)
    assert table.loc["all", "passthrough"] == pytest.approx(expected.mean(), abs=1e-5)
    assert (table["passthrough"].abs() < 1.5).all()


def test_passthrough_table_puts_models_side_by_side(fitted):
    from clvlib.method.diagnosis import passthrough_table, shift_passthrough

    x = _series(2)
    steps = np.array([50, 200, 400])
    names = ("a", "b", "c", "d", "e")
    table = passthrough_table({"m": fitted}, x, steps, names).set_index("feature")
    assert list(table.index) == [*names, "all", "all, 3 steps"]
    three = shift_passthrough(fitted, x, steps, names, length=3).set_index("feature").loc["all", "passthrough"]
    assert table.loc["all, 3 steps", "m"] == pytest.approx(three)


# --- the gaussian score (issue 24) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def gaussian(fitted):
    return fitted.with_score("gaussian", _series())


def test_gaussian_score_equals_a_hand_computation_window_by_window(gaussian):
    from sklearn.covariance import LedoitWolf

    x, w = _series(), gaussian.config.window
    with torch.no_grad():
        windows = [torch.as_tensor(x[j : j + w][None]) for j in range(len(x) - w + 1)]
        residuals = [(v - gaussian.net_(v, sample=False)[0])[0].numpy().astype(np.float64) for v in windows]
    precision = LedoitWolf(assume_centered=True).fit(np.concatenate(residuals)).precision_
    np.testing.assert_allclose(gaussian.error_precision_, precision, rtol=1e-5)
    y = _series(8, 60)
    by_hand = np.zeros(len(y))
    with torch.no_grad():
        for t in range(len(y)):
            starts = range(max(0, t - w + 1), min(t, len(y) - w) + 1)
            scores = []
            for j in starts:
                window = torch.as_tensor(y[j : j + w][None])
                r = (window - gaussian.net_(window, sample=False)[0])[0, t - j].numpy().astype(np.float64)
                scores.append(r @ gaussian.error_precision_ @ r / len(r))
            by_hand[t] = np.mean(scores)
    np.testing.assert_allclose(gaussian.decision_function(y), by_hand, rtol=1e-5)
    np.testing.assert_allclose(gaussian.feature_contributions(y).sum(axis=1), gaussian.decision_function(y), rtol=1e-10)


def test_gaussian_score_ranks_a_broken_coupling_above_the_same_error_along_the_pattern():
    """Two features share their unpredictable part: an error against that pattern is rarer than one along it."""
    rng = np.random.default_rng(3)
    n, t = 600, 300
    x = _series(0, n).astype(np.float64)
    shared = 0.3 * rng.normal(size=n)
    x[:, 0] += shared
    x[:, 1] += shared + 0.02 * rng.normal(size=n)
    x = x.astype(np.float32)
    config = CLVConfig(window=15, epochs=10, batch_size=32, learning_rate=3e-3)
    mse = ClusterLSTMVAE([[0, 1, 2], [3, 4]], config, random_state=0, progress=False).fit(x[:t])
    gaussian = mse.with_score("gaussian", x[:t])
    along, against = x.copy(), x.copy()
    along[t, [0, 1]] += [0.6, 0.6]
    against[t, [0, 1]] += [0.6, -0.6]
    ratio = {m.config.score: m.decision_function(against)[t] / m.decision_function(along)[t] for m in (mse, gaussian)}
    assert 0.5 < ratio["mse"] < 2.0 and ratio["gaussian"] > 3.0, ratio


def test_gaussian_model_survives_save_and_load_and_refuses_a_description_without_its_precision(gaussian, tmp_path):
    y = _series(9, 80)
    gaussian.save(tmp_path)
    loaded = ClusterLSTMVAE.load(tmp_path)
    assert loaded.config.score == "gaussian"
    np.testing.assert_array_equal(loaded.decision_function(y), gaussian.decision_function(y))
    meta = json.loads((tmp_path / "clv.json").read_text())
    del meta["error_precision"]
    (tmp_path / "clv.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="error_precision"):
        ClusterLSTMVAE.load(tmp_path)
