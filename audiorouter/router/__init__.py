"""The router policy: action spaces over tool subsets (``actions``) and the torch network
with its save/load (``policy``), reading the router's item features (``features``).

Imports ``features``, ``data`` and ``contracts``.
"""

from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy

__all__ = ["ActionSpace", "RouterNet", "RouterPolicy"]
