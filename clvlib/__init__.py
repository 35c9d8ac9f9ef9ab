"""clvlib: the library behind the notebooks of the Arctic melt anomaly attribution companion.

A map of the package (the paper's method apart from what surrounds it):

- :mod:`clvlib.method`: the paper's method, stage by stage: preprocessing, correlation clustering,
  the Cluster-LSTM-VAE, threshold and detection, evaluation and baselines, attribution, the
  surrogate checks.
- :mod:`clvlib.io`: input loaders (ERA5, GEMB, MEaSUREs), the study region, the canonical contract
  of ``make run``, source selection and downloads.
- :mod:`clvlib.synthetic`: the embedded default data set with known truth.
- :mod:`clvlib.publish`: tables and figures, their registry, the paper's claims and the report.
- :mod:`clvlib.pipeline`: the stage table, the notebook runner, ``make``'s dependencies and the
  command-line jobs (``make run``, ``make seeds``, ``make select``).
- :mod:`clvlib.testing`: helpers for the tests and benchmarks only.
- At the top: :mod:`clvlib.config` (frozen settings), :mod:`clvlib.variables` (the variable
  catalogue), :mod:`clvlib.files` (atomic writes and checksums), :mod:`clvlib.errors` (every error
  class, under one base :class:`clvlib.errors.ClvlibError`) and :mod:`clvlib.availability` (the "not
  available on this data" result that every layer may return).

Import modules, not the package: ``from clvlib.method import detection``. This file and the
subpackages' ``__init__`` files import nothing, so that ``make`` reruns only the notebooks that
import a changed module.
"""
