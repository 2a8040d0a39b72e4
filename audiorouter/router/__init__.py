"""The router policy: frozen item features, action spaces over tool subsets, the torch net."""

from audiorouter.router.actions import ActionSpace
from audiorouter.router.features import FeatureSpec, ItemFeatures, featurize
from audiorouter.router.policy import RouterNet, RouterPolicy

__all__ = ["ActionSpace", "FeatureSpec", "ItemFeatures", "RouterNet", "RouterPolicy", "featurize"]
