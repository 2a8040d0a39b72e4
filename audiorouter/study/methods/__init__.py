"""The study's methods: one registry (``catalog``: entries, traits, sizes) of what each trains,
filled here, one entry per method, each importing its module (torch, RLlib) only when a
trial runs. Imports config and registry; each entry its method module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from audiorouter.study.methods.catalog import (
    Scored,
    check_study,
    data_sizes,
    get_method,
    lora_reasoner_problem,
    max_router_size,
    max_tool_training_size,
    method_names,
    register_method,
    sizes_for,
)

if TYPE_CHECKING:  # annotations only: importing the registry stays light (no Ray, no torch)
    from audiorouter.study.context import StudyContext, TrialSpec

__all__ = ["check_study", "data_sizes", "get_method", "max_router_size", "max_tool_training_size", "method_names",
           "sizes_for", "train_and_score"]


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    """Per evaluation split and item: correct or not, and what the method reports about itself.
    The method's module is imported now, so a trial loads only what its method needs."""
    return get_method(spec.method).train_and_score(spec, ctx, folder)


# ------------------------------------------------------------------ the methods, in report order


@register_method("router-ppo", reference=True, pool=True, tools=True)
def router_ppo_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import router

    return router.train_and_score(spec, ctx, folder, algorithm="ppo")


@register_method("router-group-relative", reference=True, pool=True, tools=True)
def router_group_relative_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import router

    return router.train_and_score(spec, ctx, folder, algorithm="group_relative")


@register_method("internalise-pretrained", grid="internalise", head_inputs=True)
def internalise_pretrained_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    return _head(spec, ctx, folder, "pretrained")


@register_method("internalise-scratch", grid="internalise", head_inputs=True)
def internalise_scratch_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    return _head(spec, ctx, folder, "scratch")


@register_method("internalise-reasoner", grid="internalise", head_inputs=True, reasoner_scores=True)
def internalise_reasoner_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    return _head(spec, ctx, folder, "reasoner")


# the control: the same head without audio (what text alone teaches)
@register_method("internalise-no-audio", grid="internalise", head_inputs=True)
def internalise_no_audio_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    return _head(spec, ctx, folder, "no-audio")


# fine-tunes the reasoner itself; untrained, it is the reasoner: the no-tools line
@register_method("internalise-lalm", grid="internalise", untrained_point=False, reasoner_problem=lora_reasoner_problem)
def internalise_lalm_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import lora

    return lora.train_and_score(spec, ctx, folder)


@register_method("supervised-router", pool=True, tools=True)
def supervised_router_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import supervised_router

    return supervised_router.train_and_score(spec, ctx, folder)


# a head over every tool's parsed output, on the router's sizes: routing vs having tools
@register_method("tools-supervised", tools=True, tool_fields=True, head_inputs=True)
def tools_supervised_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    return _head(spec, ctx, folder, "tools")


def _head(spec: TrialSpec, ctx: StudyContext, folder: Path, kind: str) -> Scored:
    from audiorouter.study.methods import internalise

    return internalise.train_and_score(spec, ctx, folder, kind)


