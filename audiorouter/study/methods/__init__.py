"""The study's methods: what one trial trains and how it is scored, one module per family.

* ``router`` -- RL routers from outcome rewards (``router-ppo``, ``router-group-relative``),
  and the test-split scoring every router shares;
* ``supervised_router`` -- the router net trained by cross-entropy on oracle labels;
* ``internalise`` -- the internalisation heads (``internalise-pretrained``, ``-scratch``,
  ``-reasoner``, ``-no-audio``) and ``tools-supervised`` (the head over every tool's
  output, ``tool_features``), with ``head_features`` the inputs they read;
* ``lora`` -- ``internalise-lalm``: a LoRA adapter on the lalm or cascade reasoner;
* ``threads`` -- one CPU thread for a block of torch work (shared by the methods).

Each method module has ``train_and_score(spec, ctx, folder) -> ({split: correct per
item} for every evaluation split (the test split and the out-of-distribution ones), info)``; ``MODULES`` says which module runs a method. The harness (study/) calls them
through ``train_and_score`` below; methods import the harness's context and dataset,
never trials, sweep, runner or analysis.

Imports: config, contracts, data, outcomes, rl, router, reasoner, tools, study.context,
study.dataset, study.results.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from audiorouter.config.study import (
    INTERNALISE_METHODS,
    LALM_METHOD,
    ROUTER_METHODS,
    SUPERVISED_ROUTER,
    TOOLS_SUPERVISED,
)
from audiorouter.study.context import StudyContext, TrialSpec

MODULES = {  # method -> the module in this package that trains and scores it
    **dict.fromkeys(ROUTER_METHODS, "router"),
    SUPERVISED_ROUTER: "supervised_router",
    **{m: "internalise" for m in INTERNALISE_METHODS if m != LALM_METHOD},
    TOOLS_SUPERVISED: "internalise",  # the same head, over tool outputs instead of audio
    LALM_METHOD: "lora",
}


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """Per evaluation split and item: correct or not, and what the method reports about itself. The
    method's module is imported here, so a trial loads only what its method needs."""
    if spec.method not in MODULES:
        raise ValueError(f"trial {spec.key}: unknown method {spec.method!r}")
    module = importlib.import_module(f"{__name__}.{MODULES[spec.method]}")
    return module.train_and_score(spec, ctx, folder)
