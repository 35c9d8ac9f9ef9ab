"""Helpers used only by the tests and the benchmarks.

- :mod:`~clvlib.testing.fixtures`: small files in every real input layout.
- :mod:`~clvlib.testing.model_reference`: the looped reference of the batched CLV encoders.
- :mod:`~clvlib.testing.attribution_reference`, :mod:`~clvlib.testing.snowpack_reference`: the looped
  references of the batched attributions and counterfactual, and of the snowpack column.
- :mod:`~clvlib.testing.benchmark`: timing and result rows of ``make bench``.

This file imports nothing (see :mod:`clvlib.method`).
"""
