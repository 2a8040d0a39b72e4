"""Outcomes: is the frozen reasoner right on this item with this evidence? The one way to
the reasoner for learners, evaluation and the study (``pipeline``, ``table``).
Imports ``reasoner``, ``tool_execution``, ``tools``, ``store``, ``data``, ``cluster``, ``tracking``, ``config``, ``contracts``.
"""
