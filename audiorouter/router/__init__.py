"""The router policy: frozen item features (``features``), action spaces over tool
subsets (``actions``) and the torch network with its save/load (``policy``).

Imports ``data`` and ``contracts`` only.
"""

from audiorouter.router.actions import ActionSpace
from audiorouter.router.features import FeatureSpec, ItemFeatures, featurize
from audiorouter.router.policy import RouterNet, RouterPolicy

__all__ = ["ActionSpace", "FeatureSpec", "ItemFeatures", "RouterNet", "RouterPolicy", "featurize"]
