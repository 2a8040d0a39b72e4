"""The built-in fine-grained perception suite: seeded audio questions with exact truth.
Importing this package registers every family (music and sound modules).
"""

from audiorouter.data.synth import music, sound, speech  # noqa: F401  (registers the families)
from audiorouter.data.synth.base import (
    FAMILIES,
    LEVELS,
    SynthClip,
    TaskFamily,
    family_names,
    get_family,
    register_family,
)
from audiorouter.data.synth.generator import (
    generate_family_items,
    generate_items,
    make_item,
    plan_splits,
    resolve_families,
    synthesize_dataset,
)

__all__ = [
    "FAMILIES", "LEVELS", "SynthClip", "TaskFamily", "family_names", "get_family", "register_family",
    "generate_family_items", "generate_items", "make_item", "plan_splits", "resolve_families", "synthesize_dataset",
]
