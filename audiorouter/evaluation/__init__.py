"""Evaluation, the one scorer of policies and baselines (``report``, ``evaluate``), the
reasoner per evidence condition (``reasoner_eval``), statistics and plots.
Imports ``router``, ``features``, ``outcomes``, ``tools``, ``data``, ``config`` and ``contracts``.
"""
