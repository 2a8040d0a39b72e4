"""The ``audiorouter`` command line, one module per command group; the top layer, it may
import every role (inside handlers, so ``--help`` never loads torch or Ray).
"""
