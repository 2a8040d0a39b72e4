"""Evaluation, in one place: the router against every baseline and the per-item oracle
(``evaluate``: outcome tables, oracle subsets, the reasoner's label), the reasoner alone
per family and evidence condition (``reasoner_eval``), statistics (``stats``), reports
(``report``) and plots (``plots``).

Imports ``router``, ``outcomes``, ``reasoner``, ``tools``, ``data``, ``config`` and
``contracts``; used by training, the study and the CLI.
"""
