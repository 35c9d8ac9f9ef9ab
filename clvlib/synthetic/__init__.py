"""The embedded default: a synthetic southwest-Greenland climate whose truth is known.

- :mod:`~clvlib.synthetic.events`: the event types and kinds, the two worlds, the drivers each moved.
- :mod:`~clvlib.synthetic.generator`: the ERA5-like and GEMB-like data sets with injected events.
- :mod:`~clvlib.synthetic.snowpack`, :mod:`~clvlib.synthetic.physics`: the surface energy balance
  and the physical relations behind them.
- :mod:`~clvlib.synthetic.rawdata`: the data written to ``data/raw/synthetic`` with a checksum
  manifest, and read back.

This file imports nothing (see :mod:`clvlib.method`).
"""
