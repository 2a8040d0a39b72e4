"""Test doubles for users' tests and the project's own: ``standin`` (tools + reasoner) and
``synthetic_models`` (tiny random checkpoints built from configs). Never imported by the
library itself; it may import any layer.
"""
