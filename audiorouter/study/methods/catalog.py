"""The study's methods as the harness sees them: the registry (``register_method``,
``get_method``, ``method_names``) of each method's entry and traits, the training sizes
those traits give a config, and ``check_study``. Light: config and registry only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audiorouter.config import Config, ConfigError, ReasonerConfig, StudyConfig
from audiorouter.registry import Registry

if TYPE_CHECKING:
    from audiorouter.study.context import StudyContext, TrialSpec

Scored = tuple[dict[str, list[bool]], dict]  # {split: correct per item}, what the method reports
TrainAndScore = Callable[["TrialSpec", "StudyContext", Path], Scored]


@dataclass(frozen=True)
class MethodInfo:
    """A study method: its entry and what the harness prepares for it."""

    name: str
    train_and_score: TrainAndScore
    grid: str = "router"  # its sizes unless study.method_sizes names it: router_sizes or internalise_sizes
    reference: bool = False  # an RL router: study.reference_method may name it (the ratios' denominator)
    pool: bool = False  # reads the reasoner's answers on its training items: trains inside the router pool
    tools: bool = False  # reads tool outputs of its training items (the study's tool pass covers them)
    tool_fields: bool = False  # reads every tool's parsed output, of the validation items too
    head_inputs: bool = False  # reads the item features head_inputs.prepare_internalisation makes
    reasoner_scores: bool = False  # reads the reasoner's no-evidence choice scores of its items
    untrained_point: bool = True  # its N=0 trial (False: that point is a constant line)
    config_problem: Callable[[Config], str | None] | None = None  # why it cannot run with that config
    note: str = ""  # what every report table says beside its name (e.g. a label rule)

    def __post_init__(self) -> None:
        if self.grid not in ("router", "internalise"):
            raise ValueError(f"study method {self.name}: grid must be 'router' or 'internalise', got {self.grid!r}")


METHODS: Registry[MethodInfo] = Registry("study method", error=ConfigError)


def register_method(name: str, **traits) -> Callable[[TrainAndScore], TrainAndScore]:
    """Decorator: ``train_and_score`` of the method ``name``, with its traits (``MethodInfo``)."""

    def add(train_and_score: TrainAndScore) -> TrainAndScore:
        METHODS.register(name)(MethodInfo(name, train_and_score, **traits))
        return train_and_score

    return add


def get_method(name: str) -> MethodInfo:
    return METHODS.get(name)


def method_names() -> list[str]:
    return METHODS.names()


LORA_BACKENDS = ("lalm", "cascade")  # the back-ends internalise-lalm puts an adapter on


def lora_reasoner_problem(reasoner: ReasonerConfig) -> str | None:
    """Why ``internalise-lalm`` cannot fine-tune ``reasoner``, or None: it adapts a model
    back-end's text model and learns and scores the form that back-end scores."""
    if reasoner.backend not in LORA_BACKENDS:
        return ("internalise-lalm fine-tunes a model reasoner (the lalm or cascade back-end), but "
                f"reasoner.backend is {reasoner.backend!r} (set reasoner.backend and reasoner.model)")
    if reasoner.answer_mode != "score":
        return f"internalise-lalm scores choices: reasoner.answer_mode must be 'score', got {reasoner.answer_mode!r}"
    return None


def lora_config_problem(config: Config) -> str | None:
    return lora_reasoner_problem(config.reasoner)


def lm_router_problem(config: Config) -> str | None:
    """Why ``router-lm`` cannot train with ``config``, or None: it learns group-relatively
    (whatever train.algorithm says for the other routers), so its groups need two samples."""
    if config.train.group_size < 2:
        return f"router-lm learns group-relatively: train.group_size must be >= 2, got {config.train.group_size}"
    if not config.router.lm_model:
        return "router-lm needs router.lm_model (a packaged preset, a local folder or a .gguf)"
    return None


def training_cost(reasoner_calls: float, tool_runs: float) -> dict[str, int]:
    """A trial's ``info["training_cost"]``, the study's calls axis: the reasoner requests its
    training caused (distinct (item, evidence) pairs: what they cost with an empty memo;
    the study's shared memo may have answered some) and the tool results it read
    (distinct (item, tool) pairs)."""
    return {"reasoner_calls": int(reasoner_calls), "tool_runs": int(tool_runs)}


def source_training_cost(stats: dict[str, float]) -> dict[str, int]:
    """``training_cost`` from an outcome source's counters (``PipelineOutcomeSource.stats``)."""
    return training_cost(stats.get("distinct_requests", 0), stats.get("distinct_tool_runs", 0))


# ------------------------------------------------------------------ sizes and checks


def sizes_for(study: StudyConfig, method: str) -> list[int]:
    """The training sizes of ``method``: its own (study.method_sizes), else its grid's list."""
    if method in study.method_sizes:
        return sorted(study.method_sizes[method])
    return sorted(study.internalise_sizes if get_method(method).grid == "internalise" else study.router_sizes)


def max_router_size(study: StudyConfig) -> int:
    """The largest training set of a method that trains inside the router pool."""
    return max([*study.router_sizes, *(max(sizes_for(study, m)) for m in study.methods if get_method(m).pool)])


def router_pool_size(study: StudyConfig) -> int:
    return study.router_pool or 2 * max_router_size(study)


def seed_pool_size(study: StudyConfig) -> int:
    """Items in each seed's own router pool with study.seed_pools (0 without): the largest
    router size (no other seed draws from it; router_pool sizes the shared pool only)."""
    return max_router_size(study) if study.seed_pools else 0


def max_tool_training_size(study: StudyConfig, pool: bool) -> int:
    """The largest training set of a method that reads tool outputs of its items (0: none),
    among those that train inside the router pool (``pool``) or the others."""
    return max([max(sizes_for(study, m)) for m in study.methods if get_method(m).tools and get_method(m).pool == pool],
               default=0)


def max_train_size(study: StudyConfig) -> int:
    return max(max(sizes_for(study, m)) for m in study.methods)


def data_sizes(study: StudyConfig) -> dict[str, int]:
    """What the study's items must hold: the largest training set and, first in it, the
    router pool, and each seed's own pool (``ensure_study_data(study, ..., **data_sizes(study))``,
    study.dataset)."""
    return {"train_items": max_train_size(study), "pool_items": router_pool_size(study),
            "seed_pool_items": seed_pool_size(study)}


def check_study(config: Config) -> None:
    """ConfigError naming the valid ones when study.methods names an unknown method; then
    what the methods' traits ask of the config (the router pool, the reference method, the
    reasoner). A driver calls it before any work starts: the config does not know this registry."""
    study = config.study
    if unknown := [m for m in study.methods if m not in METHODS]:
        raise ConfigError(f"study.methods: unknown {unknown}; valid: {', '.join(method_names())}")
    if study.router_pool and study.router_pool < max_router_size(study):
        pooled = [m for m in method_names() if get_method(m).pool]
        raise ConfigError(f"study.router_pool ({study.router_pool}) must be >= the largest training size of the "
                          f"methods that train inside it ({', '.join(pooled)}): {max_router_size(study)}")
    routers = [m for m in method_names() if get_method(m).reference]
    if study.reference_method not in routers:
        raise ConfigError(f"study.reference_method {study.reference_method!r} must be an RL router method "
                          f"({', '.join(routers)})")
    for method in study.methods:
        check = get_method(method).config_problem
        if check and (problem := check(config)):
            raise ConfigError(f"study.methods: {problem}")
