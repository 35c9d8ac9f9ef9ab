"""The paper's method: what a reader of the paper opens.

In the order of the pipeline:

- :mod:`~clvlib.method.aggregate`, :mod:`~clvlib.method.preprocess`: daily data to 5-day features,
  gap check, IQR rule, scaling on the training years (notebook 01).
- :mod:`~clvlib.method.clustering`: correlation clusters of the features (02).
- :mod:`~clvlib.method.model`: the Cluster-LSTM-VAE estimator, its configurations and scores;
  :mod:`~clvlib.method.network`: its torch layers; :mod:`~clvlib.method.training`: the models notebook
  03 trains; :mod:`~clvlib.method.diagnosis`: does a model copy anomalies (03).
- :mod:`~clvlib.method.threshold`, :mod:`~clvlib.method.detection`, :mod:`~clvlib.method.scores`:
  dynamic threshold, flagged steps and events, the detector's output files (04).
- :mod:`~clvlib.method.evaluation`, :mod:`~clvlib.method.validation`, :mod:`~clvlib.method.baselines`,
  :mod:`~clvlib.method.trend`: detection quality against a reference and notebook 04's tables of it,
  the baselines the CLV must beat, decadal trends (04).
- :mod:`~clvlib.method.attribution`, :mod:`~clvlib.method.counterfactual`,
  :mod:`~clvlib.method.attribution_alternatives`, :mod:`~clvlib.method.attribution_truth`,
  :mod:`~clvlib.method.attribution_compare`: the paper's occlusion attribution and its rankings, the
  literal counterfactual, the Shapley and cluster-first alternatives, the checks against the injected
  drivers and the comparison of all of them (05).
- :mod:`~clvlib.method.surrogate`: XGBoost, SHAP and Random Forest checks of the attribution (06).
- :mod:`~clvlib.method.selected`: the committed choice of the ``best`` configuration.

This file imports nothing: a re-export would make every notebook depend on every module here
(``make`` reruns a notebook when a module it imports changes).
"""
