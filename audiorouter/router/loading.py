"""A saved router of either back-end, from a checkpoint or policy folder.

    router = load_router("runs/quickstart/checkpoints/iter-40")
    decisions = router.route_items(items, cache_dir)      # both back-ends
    decisions = router.route_clips(waveforms, questions, choices, ids)

``policy.json`` names the back-end ("lm"; the MLP router's files predate the field).
"""

from __future__ import annotations

import json
from pathlib import Path

from audiorouter.config import RouterConfig
from audiorouter.router.lm_policy import BACKEND as LM_BACKEND
from audiorouter.router.lm_policy import PROMPTED, LMRouterPolicy, PromptedRouter
from audiorouter.router.policy import RouterPolicy, policy_dir

Router = RouterPolicy | LMRouterPolicy | PromptedRouter  # each has route_items(items, cache_dir)


def load_router(path: str | Path) -> Router:
    """The router saved at ``path`` (a checkpoint folder holding ``policy/``, or the policy folder)."""
    folder = policy_dir(path)
    backend = json.loads((folder / "policy.json").read_text()).get("backend", "mlp")
    return LMRouterPolicy.load(folder) if backend == LM_BACKEND else RouterPolicy.load(folder)


def prompted_lines(router: RouterConfig, policy: Router) -> dict[str, PromptedRouter]:
    """The prompted LM router (``router``'s LM settings, a new adapter) to report beside
    ``policy``: nothing for an LM router, which reports its own prompted self."""
    if PROMPTED in policy.training_free_lines():  # an LM router, here or on its actor
        return {}
    return {PROMPTED: PromptedRouter(LMRouterPolicy.build(router, policy.actions))}
