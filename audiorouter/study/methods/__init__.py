"""The study's methods: one registry (``catalog``: entries, traits, sizes) of what each trains,
filled here, one entry per method, each importing its module (torch, RLlib) only when a
trial runs. Imports config and registry; each entry its method module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from audiorouter.study.methods.catalog import (
    Scored,
    TrainAndScore,
    check_study,
    data_sizes,
    get_method,
    lm_router_problem,
    lora_config_problem,
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


def router_entry(algorithm: str) -> TrainAndScore:
    """An RL router's entry: ``router`` trains it with the learner ``algorithm``."""

    def train(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
        from audiorouter.study.methods import router

        return router.train_and_score(spec, ctx, folder, algorithm=algorithm)

    return train


def head_entry(kind: str) -> TrainAndScore:
    """An internalisation head's entry: ``internalise`` fits the head of ``kind``."""

    def train(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
        from audiorouter.study.methods import internalise

        return internalise.train_and_score(spec, ctx, folder, kind)

    return train


register_method("router-ppo", reference=True, pool=True, tools=True)(router_entry("ppo"))
register_method("router-group-relative", reference=True, pool=True, tools=True)(router_entry("group_relative"))


# a small LM reads the question as words and scores each subset's reply; N=0 is the prompted router
@register_method("router-lm", reference=True, pool=True, tools=True, config_problem=lm_router_problem)
def router_lm_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import router_lm

    return router_lm.train_and_score(spec, ctx, folder)


register_method("internalise-pretrained", grid="internalise", head_inputs=True)(head_entry("pretrained"))
register_method("internalise-scratch", grid="internalise", head_inputs=True)(head_entry("scratch"))
register_method("internalise-reasoner", grid="internalise", head_inputs=True, reasoner_scores=True)(
    head_entry("reasoner"))
# the control: the same head without audio (what text alone teaches)
register_method("internalise-no-audio", grid="internalise", head_inputs=True)(head_entry("no-audio"))


# fine-tunes the reasoner itself; untrained, it is the reasoner: the no-tools line
@register_method("internalise-lalm", grid="internalise", untrained_point=False, config_problem=lora_config_problem)
def internalise_lalm_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import lora

    return lora.train_and_score(spec, ctx, folder)


@register_method("supervised-router", pool=True, tools=True, note="labels: cheapest right subset")
def supervised_router_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import supervised_router

    return supervised_router.train_and_score(spec, ctx, folder)


# supervised routing with the RL objective on the whole outcome table of its items
@register_method("table-router", pool=True, tools=True)
def table_router_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import table_router

    return table_router.train_and_score(spec, ctx, folder)


# no network: each task group's best subset, groups told apart by the question; N=0 is the no-tools line
@register_method("lookup-router", pool=True, tools=True, untrained_point=False)
def lookup_router_trial(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    from audiorouter.study.methods import lookup_router

    return lookup_router.train_and_score(spec, ctx, folder)


# a head over every tool's parsed output, on the router's sizes: routing vs having tools
register_method("tools-supervised", tools=True, tool_fields=True, head_inputs=True)(head_entry("tools"))
