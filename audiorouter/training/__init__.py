"""Training a router end to end (``driver.TrainingRun``): build, tool pass, train,
evaluate, save, with checkpoints and MLflow.

Imports every role below it (``evaluation``, ``rl``, ``router``, ``outcomes``,
``reasoner``, ``tools``, ``data``, ``cluster``, ``tracking``, ``config``); never the
study, serving or inference, its siblings.
"""
