"""Test doubles for users' tests and the project's own (as ``numpy.testing`` is):
``standin`` (a deterministic stand-in for tools + reasoner) and ``synthetic_models``
(tiny random transformers checkpoints built from configs, never downloaded).

Never imported by the library itself; it may import any layer.
"""
