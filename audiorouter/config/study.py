"""The scaling study's configuration section (``study:`` in a config file): plain fields.

Which methods exist, which size grid each follows and what each needs of the rest of the
config is the method registry's (``study.methods``: ``check_study``, ``sizes_for``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audiorouter.config.sections import ConfigError, resources_problem

# out-of-distribution splits every trial is also scored on (study.dataset makes them)
OOD_SPLITS = ("reworded", "instruments")


def _powers_of_two(low: int, high: int) -> list[int]:
    return [2**k for k in range(low.bit_length() - 1, high.bit_length()) if low <= 2**k <= high]


@dataclass
class StudyConfig:
    """Which methods at which training sizes, how many seeds, on which items."""

    name: str = "study"  # outputs go to run.out_dir/NAME; the Tune experiment has the same name
    data_dir: str = "data/study"  # the study's own items (generated when missing)
    synth_seed: int = 100  # generator seed of the study's items (train; +1 validation, +2 test)
    families: list[str] = field(default_factory=list)  # empty: every family this machine can generate
    # names from the method registry (study.methods); each follows router_sizes or internalise_sizes
    methods: list[str] = field(default_factory=lambda: [
        "router-ppo", "internalise-pretrained", "internalise-scratch", "internalise-reasoner", "internalise-no-audio",
        "supervised-router", "tools-supervised"])
    router_sizes: list[int] = field(default_factory=lambda: _powers_of_two(1, 512))
    internalise_sizes: list[int] = field(default_factory=lambda: _powers_of_two(8, 32768))
    # one method's sizes instead of the list above that covers it, e.g. a head whose grid goes
    # on where the model-free heads are cheap: {internalise-pretrained: [8, 16, ..., 32768]}.
    # A grid that grows later appends training items and keeps every finished trial (study.dataset)
    method_sizes: dict[str, list[int]] = field(default_factory=dict)
    seeds: int = 5  # seeds 0 .. seeds-1; each has its own nested training sets
    test_per_family: int = 50  # the fixed test split every trial is scored on
    # out-of-distribution splits every trial is scored on too, each reported apart: "reworded"
    # (held-out question wordings and choice styles, data.synth.reworded) and "instruments"
    # (the music and sound families played on a General MIDI SoundFont in a stated room,
    # data.synth.voices; skipped with a message where FluidSynth or the SoundFont is missing)
    ood_splits: list[str] = field(default_factory=lambda: ["reworded", "instruments"])
    ood_per_family: int = 20
    # oracle routing on those splits asks the reasoner every allowed subset of every item;
    # false saves those calls (a language model's hours): their reports then have no oracle
    # line and so no gap targets, only the plateau target and configured ones
    ood_oracle: bool = True
    # the heads (internalisation, tools-supervised): early stopping and grid choice; not in their N
    validation_per_family: int = 50
    # Router training sets are drawn from the first ROUTER_POOL training items (0: twice the
    # largest router size), so the tool pass covers those items only; larger internalisation
    # sets continue the same nested order beyond them.
    router_pool: int = 0
    # true: each seed's router methods draw from a pool of their own (study.dataset: a split of
    # pool items made for this, interleaved over seeds), so the seeds' intervals include which
    # items a pool holds; false: every seed orders the same first router_pool items
    seed_pools: bool = False
    # RL budget rule: every router trial samples episodes_per_item episodes per training item
    # (iterations = ceil(episodes_per_item * size / train.train_batch_size)), at least min_iterations
    episodes_per_item: int = 32
    min_iterations: int = 4
    trial_cpus: float = 0.5  # Ray CPUs per trial (fractions let trials share a core)
    trial_gpus: float = 0.0  # GPUs per trial (on a cluster with GPU methods)
    trial_resources: dict[str, float] = field(default_factory=dict)  # custom resources per trial (cluster/placement.py)
    max_concurrent_trials: int = 0  # 0: as many as the resources allow
    # Tune runs the next trial in a finished trial's process (no process start and imports per
    # trial); each trial seeds its own RNGs and restores torch's thread count (study.methods)
    reuse_trial_actors: bool = True
    # every learned method's untrained point (N=0: the network or head as training starts it),
    # reported beside its curve; internalise-lalm's is the reasoner itself, the no-tools line
    untrained_points: bool = True
    # Targets (study.targets): the training-free line (best of no tools, all tools, best single
    # tool) plus these fractions of its gap to oracle routing, then any absolute targets, then
    # plateau_fraction of the reference router's plateau; one the line meets gets no ratio
    gap_fractions: list[float] = field(default_factory=lambda: [0.25, 0.5, 0.75])
    targets: list[float] = field(default_factory=list)
    plateau_fraction: float = 0.95
    resamples: int = 1000  # bootstrap resamples of the ratios
    reference_method: str = "router-ppo"  # the router the ratios are taken against
    # a folder that keeps finished trials' results across machines (e.g. studies/NAME in
    # the repository): written as trials finish, read when the study starts (kept_results)
    keep_dir: str = ""

    def validate(self) -> None:
        """Plain checks; the method names and what they need: ``study.methods.check_study``."""
        if not self.name or "/" in self.name:
            raise ConfigError(f"study.name must be a plain folder name, got {self.name!r}")
        if not self.methods:
            raise ConfigError("study.methods is empty: name the methods to run")
        named = {"router_sizes": self.router_sizes, "internalise_sizes": self.internalise_sizes,
                 **{f"method_sizes.{m}": sizes for m, sizes in self.method_sizes.items()}}
        for name, sizes in named.items():
            if not isinstance(sizes, list) or not sizes or min(sizes) < 1 or len(set(sizes)) != len(sizes):
                raise ConfigError(f"study.{name} must be distinct sizes >= 1, got {sizes}")
        if stray := [m for m in self.method_sizes if m not in self.methods]:
            raise ConfigError(f"study.method_sizes names methods the study does not run: {', '.join(stray)} "
                              f"(study.methods: {', '.join(self.methods)})")
        unknown = [s for s in self.ood_splits if s not in OOD_SPLITS]
        if unknown or len(set(self.ood_splits)) != len(self.ood_splits):
            raise ConfigError(f"study.ood_splits: unknown or repeated {unknown or self.ood_splits}; "
                              f"valid: {', '.join(OOD_SPLITS)}")
        for name in ("seeds", "test_per_family", "validation_per_family", "episodes_per_item", "min_iterations",
                     "resamples", "ood_per_family"):
            if getattr(self, name) < 1:
                raise ConfigError(f"study.{name} must be >= 1, got {getattr(self, name)}")
        if self.trial_cpus <= 0 or self.trial_gpus < 0 or self.max_concurrent_trials < 0:
            raise ConfigError("study.trial_cpus must be > 0, trial_gpus and max_concurrent_trials >= 0")
        if problem := resources_problem("study.trial_resources", self.trial_resources):
            raise ConfigError(problem)
        if not 0 < self.plateau_fraction <= 1 or any(not 0 < t <= 1 for t in self.targets):
            raise ConfigError("study.plateau_fraction and study.targets must lie in (0, 1]")
        if any(not 0 < f < 1 for f in self.gap_fractions) or len(set(self.gap_fractions)) != len(self.gap_fractions):
            raise ConfigError(f"study.gap_fractions must be distinct fractions in (0, 1), got {self.gap_fractions}")
        if self.reference_method not in self.methods:
            raise ConfigError(f"study.reference_method {self.reference_method!r} must be a router method "
                              f"listed in study.methods ({', '.join(self.methods)})")
