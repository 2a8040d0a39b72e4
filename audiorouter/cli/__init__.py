"""The ``audiorouter`` command line: one entry point (``main``), one module per command
group. The top layer: it may import every role. Commands import their role's modules
inside the handler, so ``audiorouter --help`` or ``config show`` never loads torch or Ray.
"""
