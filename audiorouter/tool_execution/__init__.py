"""Running the analysers: in a child process per call, in place (``runner``), or on the one
Ray actor pool (``executor``) that the tool pass and ``tools run`` share.
Imports ``tools``, ``store``, ``data``, ``config`` and ``contracts``.
"""
