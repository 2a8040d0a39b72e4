"""Outcomes: is the frozen reasoner right on this item with this evidence?

The one answer every learner and evaluation needs, below rl/, evaluation/ and the
study, which all ask through an ``OutcomeSource``:

* ``base``: ``Outcome`` and the ``OutcomeSource`` interface;
* ``pipeline``: ``PipelineOutcomeSource``, the real path (tool cache -> evidence ->
  reasoner actors or a local reasoner -> outcome, memoised);
* ``table``: ``OutcomeTable``, every (item, subset) outcome a set of policies needs;
* ``state_check``: the memo, tool cache and MLflow store checked before a job starts.

A deterministic stand-in for tools + reasoner, for tests, is ``testing.standin``.
Imports ``reasoner``, ``tools``, ``store``, ``data``, ``tracking``, ``config`` and ``contracts``.
"""
