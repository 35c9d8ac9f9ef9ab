"""Publishing the paper: tables and figures, their registry, the claims and the report.

- :mod:`~clvlib.publish.registry`, :mod:`~clvlib.publish.outputs`: every table and figure saved with
  one style, a stable name and its provenance (``paper/manifest.json``).
- :mod:`~clvlib.publish.plots`, :mod:`~clvlib.publish.detector_plots`,
  :mod:`~clvlib.publish.attribution_plots`: the figures.
- :mod:`~clvlib.publish.compare`: the two data sets' built tables side by side (notebook 07).
- :mod:`~clvlib.publish.claims`: the paper's claims evaluated on the built tables (``make verify``).
- :mod:`~clvlib.publish.report`: ``paper/report.html``.

This file imports nothing (see :mod:`clvlib.method`).
"""
