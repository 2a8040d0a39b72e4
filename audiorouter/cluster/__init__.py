"""Ray cluster concerns: placement of roles, joining or starting Ray (``session``), a local
multi-node cluster for tests and benchmarks. Imports nothing of the package but ``config``.
"""
