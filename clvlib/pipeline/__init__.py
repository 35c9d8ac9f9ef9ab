"""The build: stages, the notebook runner and the command-line jobs around the notebooks.

- :mod:`~clvlib.pipeline.raw_input`: notebook 01's input, whatever its source, as one typed object;
  :mod:`~clvlib.pipeline.stage_inputs`: the inputs of stages 04-07 (features, references) as typed objects.
- :mod:`~clvlib.pipeline.inputcheck`: ``make check``, an input loaded and preprocessed as ``make run`` would.
- :mod:`~clvlib.pipeline.stages`: the one table of stages (notebook, inputs, outputs) that the
  Makefile, the integrity check and the notebooks read.
- :mod:`~clvlib.pipeline.notebooks`, :mod:`~clvlib.pipeline.signals`: running a notebook with
  papermill, and stopping its kernel with the run.
- :mod:`~clvlib.pipeline.deps`, :mod:`~clvlib.pipeline.integrity`: what ``make`` must rerun.
- :mod:`~clvlib.pipeline.run`, :mod:`~clvlib.pipeline.seeds`, :mod:`~clvlib.pipeline.selection`:
  ``make run`` (your own data), ``make seeds`` and ``make select``.

This file imports nothing (see :mod:`clvlib.method`).
"""
