"""Per-item features, computed once and cached: the router's (question embedding and
log-mel statistics) and the internalisation heads' (those plus YAMNet embeddings, a
log-mel matrix and the choices' embeddings), described by one ``FeatureSpec`` and kept
in one cache (an ``.npz`` of named arrays per item). Imports ``tools`` (YAMNet, lazily),
``data`` and ``contracts``; used by ``router``, training, evaluation, inference, serving and the study.
"""

from audiorouter.features.compute import featurize, request_features
from audiorouter.features.item_features import ItemFeatures
from audiorouter.features.spec import HEAD_SPEC, QUESTION_DIM, FeatureSpec

__all__ = ["HEAD_SPEC", "QUESTION_DIM", "FeatureSpec", "ItemFeatures", "featurize", "request_features"]
