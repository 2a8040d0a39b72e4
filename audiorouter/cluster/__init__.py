"""Ray cluster concerns: where each role runs (``placement``), joining or starting a Ray
session (``session``) and a local multi-node cluster for tests and benchmarks (``local``).

Imports nothing of the package but ``config``: every role above may use it.
"""
