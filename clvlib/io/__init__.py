"""Input data: real sources read into the pipeline's daily conventions, with errors that say what to do.

- :mod:`~clvlib.io.era5`, :mod:`~clvlib.io.gemb`, :mod:`~clvlib.io.measures`: loaders of ERA5 (every
  CDS layout), GEMB output and the MEaSUREs melt record; :mod:`~clvlib.io.era5_files`: what a CDS
  download holds (layout, ZIPs, ERA5 and ERA5T).
- :mod:`~clvlib.io.region`: the study region and its cos(latitude)-weighted mean.
- :mod:`~clvlib.io.canonical`: the canonical netCDF contract of ``make run``.
- :mod:`~clvlib.io.sources`: which input a run reads (real files, a user's file or the synthetic default).
- :mod:`~clvlib.io.checks`: checks of input data (``make check`` itself, which preprocesses, is
  :mod:`clvlib.pipeline.inputcheck`).
- :mod:`~clvlib.io.download`, :mod:`~clvlib.io.scheduler`: ``make data`` and where dask work runs.

This file imports nothing, so that importing one loader does not import them all.
"""
