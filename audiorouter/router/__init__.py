"""The router policy: action spaces over tool subsets (``actions``) and two back-ends,
``router.backend``: the torch network over the router's item features (``policy``), or a
causal LM that reads the question, the choices and the tools' descriptions and scores
each subset's reply (``lm_policy``, with ``lm_prompt`` and ``lm_scoring``); ``loading``
opens a saved router of either.

Imports ``features``, ``reasoner`` (model loading, the clip description), ``tools`` (their
descriptions), ``data`` and ``contracts``.
"""

from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy

__all__ = ["ActionSpace", "RouterNet", "RouterPolicy"]
