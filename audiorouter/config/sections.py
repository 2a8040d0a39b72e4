"""The configuration sections of each role (the study's is in ``study``).

Plain dataclasses with defaults and a ``validate`` that checks ranges and choices. Names
that a registry owns (reasoner back-ends, rewards, learning algorithms) are checked by
the layer that owns the registry (``reasoner.registry``, ``rl.registry``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A configuration problem; the message names the key and what is allowed."""


@dataclass
class SynthConfig:
    """The built-in perception suite (see audiorouter.data.synth)."""

    n: int = 1200  # items in all splits together
    seed: int = 0
    families: list[str] = field(default_factory=list)  # empty: every available family
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    shard_size: int = 256  # items per Parquet file
    workers: int = 2  # generator processes (1 = in this process)

    def validate(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"data.synth.workers must be >= 1, got {self.workers}")
        if self.n < 1:
            raise ConfigError(f"data.synth.n must be >= 1, got {self.n}")
        for name in ("validation_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"data.synth.{name} must be in [0, 1), got {value}")
        if self.validation_fraction + self.test_fraction >= 1.0:
            raise ConfigError("data.synth.validation_fraction + test_fraction must be < 1")
        if self.shard_size < 1:
            raise ConfigError(f"data.synth.shard_size must be >= 1, got {self.shard_size}")


@dataclass
class ImportConfig:
    """Importing local copies of public benchmarks (MMAU, MMAR)."""

    max_duration_s: float = 600.0  # longer clips are rejected as absurd
    split: str = "test"  # the split imported records are written to

    def validate(self) -> None:
        if self.max_duration_s <= 0:
            raise ConfigError(f"data.imports.max_duration_s must be > 0, got {self.max_duration_s}")


@dataclass
class DataConfig:
    dir: str = "data/perception"  # where the dataset lives (Parquet shards per split)
    synth: SynthConfig = field(default_factory=SynthConfig)
    imports: ImportConfig = field(default_factory=ImportConfig)

    def validate(self) -> None:
        self.synth.validate()
        self.imports.validate()


RESERVED_RESOURCES = {"CPU", "GPU", "memory", "object_store_memory"}  # each has its own knob


def resources_problem(key: str, resources: dict[str, float]) -> str | None:
    """Why ``resources`` (a custom-resources knob named ``key``, see cluster.placement)
    cannot be passed to Ray, or None."""
    for name, amount in resources.items():
        if name in RESERVED_RESOURCES or name.lower() in {"cpu", "gpu"}:
            return f"{key}: {name!r} has its own setting; list custom resources only (node-group markers)"
        if not name or not amount > 0:
            return f"{key}: every custom resource needs a name and an amount > 0, got {name!r}: {amount}"
    return None


def _check_resources(key: str, resources: dict[str, float]) -> None:
    if problem := resources_problem(key, resources):
        raise ConfigError(problem)


def _check_store(section: str, name: str, store: str, path_name: str, path: str) -> None:
    if store not in ("sqlite", "service"):
        raise ConfigError(f"{section}.{name} must be 'sqlite' or 'service', got {store!r}")
    if store == "service" and path and not Path(path).is_absolute():
        # a relative path would land in each job's temporary working directory on the head
        raise ConfigError(f"{section}.{path_name} must be an absolute path on the head node when "
                          f"{section}.{name} is 'service', got {path!r}")


def _check_seeds(section: str, seeds_name: str, seeds: str, store_name: str, store: str, path_name: str,
                 path: str) -> None:
    """Shards (store.shards) are put into the store's own file before work starts."""
    if seeds and not (path and store == "sqlite"):
        raise ConfigError(f"{section}.{seeds_name} needs a file to put them in: set {section}.{path_name} "
                          f"with {section}.{store_name}: sqlite")


@dataclass
class ToolsConfig:
    """Audio tools (see audiorouter.tools): which run, where, and their limits."""

    enabled: list[str] = field(default_factory=list)  # empty: every available tool
    plugins: list[str] = field(default_factory=list)  # modules or .py files registering more tools (every process)
    cache_dir: str = "runs/tool_cache"  # content-addressed results; "" disables the cache
    # "sqlite": every process opens cache_dir's file (one machine); "service": one actor on the
    # head node owns it for the whole cluster (cache_dir then an absolute path on the head)
    cache_store: str = "sqlite"
    # a folder of tool-cache shards (store.tool_cache_shards) put into the cache before a
    # study starts: results earlier machines computed, kept in the repository; "" for none
    cache_seeds: str = ""
    timeout_s: float = 60.0  # per tool call; a slower call becomes an error result
    max_duration_s: float = 120.0  # clips longer than this are cut or refused
    long_clips: str = "truncate"  # "truncate" (analyse the first max_duration_s) or "error"
    # the language spoken in the clips when it is known (ISO 639-1, e.g. "en"): speech
    # recognition then skips its language-detection pass; "" detects it per clip
    speech_language: str = ""
    num_actors: int = 2  # tool-executor actors (and batch workers)
    actor_num_cpus: float = 1.0  # CPU share of each actor (fractions allowed)
    actor_resources: dict[str, float] = field(default_factory=dict)  # custom resources per CPU actor (cluster/placement.py)
    gpu_actors: int = 0  # extra actors for tools that use a GPU (0: they run on CPU actors)
    gpu_per_actor: float = 1.0  # GPU share of each GPU actor
    batch_size: int = 8  # clips a pass over many items hands the tool-executor pool at a time
    max_crashes: int = 3  # crashes of one tool (segfault, OOM kill) before it is disabled for the run

    def validate(self) -> None:
        if self.long_clips not in ("truncate", "error"):
            raise ConfigError(f"tools.long_clips must be 'truncate' or 'error', got {self.long_clips!r}")
        if self.speech_language and not re.fullmatch(r"[a-z]{2,3}", self.speech_language):
            raise ConfigError(f"tools.speech_language must be a language code such as 'en' (or '' to detect "
                              f"it), got {self.speech_language!r}")
        _check_store("tools", "cache_store", self.cache_store, "cache_dir", self.cache_dir)
        _check_seeds("tools", "cache_seeds", self.cache_seeds, "cache_store", self.cache_store, "cache_dir", self.cache_dir)
        _check_resources("tools.actor_resources", self.actor_resources)
        for name in ("timeout_s", "max_duration_s", "actor_num_cpus", "gpu_per_actor"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"tools.{name} must be > 0, got {getattr(self, name)}")
        for name in ("num_actors", "batch_size", "max_crashes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"tools.{name} must be >= 1, got {getattr(self, name)}")
        if self.gpu_actors < 0:
            raise ConfigError(f"tools.gpu_actors must be >= 0, got {self.gpu_actors}")


MODEL_BACKENDS = ("cascade", "lalm")  # the built-in back-ends that load reasoner.model
LM_SCORES = ("sum", "mean")  # router.lm_score: how a subset's reply log-probabilities become its score


@dataclass
class ReasonerConfig:
    """The frozen reasoner (see audiorouter.reasoner): back-end, model, answering, hosting."""

    backend: str = "reference"  # "reference" (CPU default), "cascade" or "lalm"
    model: str = ""  # cascade/lalm: local path, hub id, a .gguf file, or a packaged preset (reasoner/packaged.py)
    answer_mode: str = "score"  # "score" (choice log-likelihoods) or "generate" (parse the text)
    # "letter" (each choice's letter), "text" (each choice's text, mean log-prob), "letter_text"
    # ("B. 65 BPM", as the model writes it) or "auto" (the packaged model's measured best, else letter)
    score_target: str = "auto"
    # "content_free" subtracts each choice's score under the prompt with its content replaced by
    # "N/A" (the model's prior for that letter or text), "none", or "auto" (as for score_target)
    calibration: str = "auto"
    max_new_tokens: int = 16  # generate mode
    evidence_token_budget: int = 256  # evidence block size; overflow is cut with a marker
    batch_size: int = 16  # sequences per model forward
    reuse_prefix: bool = True  # cascade: spans prompts share (system turn, question, leading evidence) run once
    dtype: str = "auto"  # "auto" (bf16 on GPU and on CPUs with bf16), "bfloat16", "float16", "float32"
    device: str = "auto"  # "auto" (cuda when available), "cpu" or "cuda[:N]"
    # CPU threads a model back-end computes with (torch intra-op threads of its process);
    # 0: as started (Ray gives an actor one thread per whole CPU of its share)
    threads: int = 0
    max_prompt_tokens: int = 0  # longer prompts are refused per request; 0: the model's context
    memo_path: str = "runs/reasoner_memo.sqlite"  # outcomes shared across runs; "" disables it
    memo_store: str = "sqlite"  # as tools.cache_store: "sqlite" (one machine) or "service" (a cluster)
    # a folder of memo shards (store.memo_shards) put into the memo before a study starts: the
    # outcomes earlier machines computed, kept in the repository; "" for none
    memo_seeds: str = ""
    num_actors: int = 1  # reasoner actors / Serve replicas
    # how rollouts and evaluation reach it (when run.use_actors): named "actors" or the Serve
    # application "serve" (batches requests from every rollout worker together)
    hosting: str = "actors"
    actor_num_cpus: float = 1.0
    actor_num_gpus: float = 0.0  # e.g. 1 for lalm on a GPU
    actor_resources: dict[str, float] = field(default_factory=dict)  # custom resources per actor (cluster/placement.py)
    max_restarts: int = 3  # a dead actor is restarted this often
    serve_max_batch_size: int = 16  # Serve: requests gathered into one answer() call
    serve_batch_wait_s: float = 0.01

    def validate(self) -> None:
        # the back-end's name is checked by its registry (reasoner.registry.check_backend)
        if not self.backend:
            raise ConfigError("reasoner.backend must not be empty")
        if self.backend in MODEL_BACKENDS and not self.model:
            raise ConfigError(f"reasoner.model must be set for the {self.backend!r} back-end")
        choices = {"answer_mode": ("score", "generate"), "hosting": ("actors", "serve"), "score_target": ("auto", "letter", "text", "letter_text"),
                   "calibration": ("auto", "none", "content_free"),
                   "dtype": ("auto", "bfloat16", "float16", "float32")}
        for name, valid in choices.items():
            if getattr(self, name) not in valid:
                raise ConfigError(f"reasoner.{name} must be one of {', '.join(valid)}, got {getattr(self, name)!r}")
        _check_store("reasoner", "memo_store", self.memo_store, "memo_path", self.memo_path)
        _check_seeds("reasoner", "memo_seeds", self.memo_seeds, "memo_store", self.memo_store, "memo_path", self.memo_path)
        _check_resources("reasoner.actor_resources", self.actor_resources)
        for name in ("max_new_tokens", "evidence_token_budget", "batch_size", "num_actors", "serve_max_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"reasoner.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_prompt_tokens", "threads", "actor_num_cpus", "actor_num_gpus", "max_restarts", "serve_batch_wait_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"reasoner.{name} must be >= 0, got {getattr(self, name)}")


@dataclass
class RouterConfig:
    """The router policy (see audiorouter.router): action space, features, network."""

    action_space: str = "subsets"  # "subsets" (one choice among tool subsets) or "per_tool" (on/off each)
    max_tools_per_call: int = 2  # subsets: most tools in one subset; 0: no cap
    hidden_sizes: list[int] = field(default_factory=lambda: [64])
    n_mels: int = 32  # audio features: log-mel mean, std and |delta| per band
    feature_cache_dir: str = "runs/features"  # one vector per item and content hash; "" disables it
    # "mlp": the net above over the features; "lm": a causal LM that reads the question, the
    # choices and the tools' descriptions and scores each subset's text (router/lm_policy.py);
    # the names are rl.registry's (checked there)
    backend: str = "mlp"
    lm_model: str = "qwen2.5-coder-0.5b"  # lm: a packaged preset, a local transformers folder or a .gguf
    lm_temperature: float = 1.0  # lm: pi(s|x) = softmax(log p(text of s | prompt) / temperature)
    # lm: a subset's score: "sum", its reply's log-probability, or "mean", per reply token. A
    # summed score favours short replies ("tools: none") by their length alone
    lm_score: str = "sum"
    lm_describe_audio: bool = True  # lm: the prompt holds the coarse clip description the cascade reads
    # lm: most subsets one decision scores. Each is a continuation of ~4-10 tokens run after the
    # prompt, so 128 subsets cost about three prompts' worth of tokens per decision; beyond that
    # the subsets, not the question, decide what routing costs (10 tools, 2 per call: 56)
    max_subsets_lm: int = 128
    lm_dtype: str = "auto"  # lm: as reasoner.dtype ("auto": bf16 on GPU and on CPUs with bf16)
    lm_device: str = "auto"  # lm: "auto" (cuda when the training process has one), "cpu" or "cuda[:N]"
    # lm: > 0 trains the router LM on a Ray actor of its own with this many GPUs (a cluster's
    # driver often has none); 0: in the training process (rl/lm_trainer_actor.py)
    num_gpus: float = 0.0
    lora_rank: int = 8  # lm: the LoRA adapter RL trains (the LM itself stays frozen)
    lora_alpha: float = 16.0
    # lm: the adapter's Adam step size (train.lr is the MLP's, a fresh small net); 1e-4 is
    # LoRA's usual range, not tuned here
    lm_lr: float = 1e-4
    # lm: reasoning before routing. The LM first writes a rationale of at most this many tokens,
    # then the subsets are scored after it; the policy's log-probability includes the rationale's
    # tokens, so the learner trains both (router/lm_rationale.py). 0: route from the prompt alone
    rationale_tokens: int = 0

    def validate(self) -> None:
        if self.num_gpus < 0:
            raise ConfigError(f"router.num_gpus must be >= 0, got {self.num_gpus}")
        if self.lm_score not in LM_SCORES:
            raise ConfigError(f"router.lm_score must be one of {', '.join(LM_SCORES)}, got {self.lm_score!r}")
        if self.rationale_tokens < 0:
            raise ConfigError(f"router.rationale_tokens must be >= 0, got {self.rationale_tokens}")
        if self.backend == "lm" and not self.lm_model:
            raise ConfigError("router.lm_model is empty: name the router LM (a packaged preset, folder or .gguf)")
        if self.lm_temperature <= 0 or self.max_subsets_lm < 1:
            raise ConfigError(f"router.lm_temperature must be > 0 and router.max_subsets_lm >= 1, got "
                              f"{self.lm_temperature}, {self.max_subsets_lm}")
        if self.lora_rank < 1 or self.lora_alpha <= 0 or self.lm_lr <= 0:
            raise ConfigError(f"router.lora_rank must be >= 1, router.lora_alpha and router.lm_lr > 0, got "
                              f"{self.lora_rank}, {self.lora_alpha}, {self.lm_lr}")
        if self.action_space not in ("subsets", "per_tool"):
            raise ConfigError(f"router.action_space must be 'subsets' or 'per_tool', got {self.action_space!r}")
        if self.max_tools_per_call < 0:
            raise ConfigError(f"router.max_tools_per_call must be >= 0, got {self.max_tools_per_call}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ConfigError(f"router.hidden_sizes must be positive layer widths, got {self.hidden_sizes}")
        if self.n_mels < 1:
            raise ConfigError(f"router.n_mels must be >= 1, got {self.n_mels}")


@dataclass
class TrainConfig:
    """Router training (see audiorouter.rl): algorithm, reward, rollouts, optimisation."""

    algorithm: str = "ppo"  # "ppo" or "group_relative"
    train_size: int = 120  # unique training items (the data-efficiency axis)
    iterations: int = 40
    reward: str = "relative"  # "relative" (with - without evidence) or "absolute" (with)
    tool_cost_weight: float = 0.0  # reward -= weight * mean latency (s) of each tool called
    group_size: int = 4  # group_relative: routing samples of one item per group
    num_env_runners: int = 1  # rollout workers (0: sample in the driver)
    num_envs_per_env_runner: int = 16  # sub-envs per worker, scored by one batched call
    cpus_per_env_runner: float = 1.0  # CPU share of each rollout worker (fractions allowed)
    env_runner_resources: dict[str, float] = field(default_factory=dict)  # custom resources per rollout worker
    train_batch_size: int = 128  # episodes per iteration
    minibatch_size: int = 64
    num_epochs: int = 4
    lr: float = 3e-3
    entropy_coeff: float = 0.01
    clip_param: float = 0.2
    # RLlib discards a rollout worker's samples when sample() takes longer than this: with a
    # language-model reasoner one step's batched call takes tens of seconds on CPU
    sample_timeout_s: float = 1800.0
    restart_delay_s: float = 5.0  # a dead rollout worker (or its node) is replaced after this wait
    num_learners: int = 0  # 0: learn in the driver; >= 1: learner actors
    num_gpus_per_learner: float = 0.0
    learner_resources: dict[str, float] = field(default_factory=dict)  # custom resources per learner actor
    seed: int = 0

    def validate(self) -> None:
        # algorithm and reward names are checked by their registries (rl.registry.check_train)
        for name in ("train_size", "iterations", "group_size", "num_envs_per_env_runner",
                     "train_batch_size", "minibatch_size", "num_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("tool_cost_weight", "num_env_runners", "entropy_coeff", "num_learners", "num_gpus_per_learner"):
            if getattr(self, name) < 0:
                raise ConfigError(f"train.{name} must be >= 0, got {getattr(self, name)}")
        if self.sample_timeout_s <= 0 or self.restart_delay_s < 0:
            raise ConfigError(f"train.sample_timeout_s must be > 0 and train.restart_delay_s >= 0, got "
                              f"{self.sample_timeout_s}, {self.restart_delay_s}")
        if self.cpus_per_env_runner <= 0:
            raise ConfigError(f"train.cpus_per_env_runner must be > 0, got {self.cpus_per_env_runner}")
        if self.lr <= 0 or not 0 < self.clip_param < 1:
            raise ConfigError(f"train.lr must be > 0 and train.clip_param in (0, 1), got {self.lr}, {self.clip_param}")
        _check_resources("train.env_runner_resources", self.env_runner_resources)
        _check_resources("train.learner_resources", self.learner_resources)
        self._validate_batching()

    def _validate_batching(self) -> None:
        if self.algorithm == "group_relative" and self.group_size < 2:
            raise ConfigError("train.group_size must be >= 2 for group_relative")
        if self.algorithm == "group_relative" and self.num_learners > 1:
            raise ConfigError("train.num_learners must be <= 1 for group_relative (RLlib would split groups)")
        group = self.group_size if self.algorithm == "group_relative" else 1
        if self.num_envs_per_env_runner % group:
            raise ConfigError(f"train.num_envs_per_env_runner ({self.num_envs_per_env_runner}) "
                              f"must be a multiple of train.group_size ({self.group_size})")
        step = max(1, self.num_env_runners) * self.num_envs_per_env_runner
        if self.train_batch_size % step:
            raise ConfigError(f"train.train_batch_size ({self.train_batch_size}) must be a multiple of "
                              f"num_env_runners * num_envs_per_env_runner ({step})")
        if self.train_batch_size % max(1, self.num_learners):
            raise ConfigError("train.train_batch_size must be a multiple of train.num_learners")
        if self.minibatch_size > self.train_batch_size // max(1, self.num_learners):
            raise ConfigError("train.minibatch_size must be <= train_batch_size per learner")


@dataclass
class TrackingConfig:
    """MLflow tracking (see audiorouter.tracking), from the driver only."""

    tracking_uri: str = "runs/mlflow.db"  # a path means a sqlite store; or any MLflow URI
    artifact_dir: str = "runs/mlartifacts"  # artifacts of new experiments
    experiment: str = "audiorouter"

    def validate(self) -> None:
        if not self.experiment:
            raise ConfigError("tracking.experiment must not be empty")


@dataclass
class RunConfig:
    """One training run: where it writes, how often it checkpoints, what it evaluates."""

    name: str = "quickstart"
    out_dir: str = "runs"  # the run writes to out_dir/name
    checkpoint_every: int = 5  # iterations between checkpoints (the last one is always saved)
    eval_split: str = "test"
    eval_limit: int = 0  # evaluate on the first N items of the split; 0: all
    # the evaluation also reports the prompted LM router (router.lm_model and its settings, no
    # adapter) beside no tools, all tools and the best single tool; an LM router always does.
    # router.lm_model may name the cascade reasoner's own model: the reasoner routing for itself
    prompted_router: bool = False
    prepare_tools: bool = True  # run every tool on the train and eval items before training
    use_actors: bool = True  # reasoner on named Ray actors (False: in each rollout worker)
    local_memo: bool = True  # rollout workers remember outcomes they have seen

    def validate(self) -> None:
        if not self.name or "/" in self.name:
            raise ConfigError(f"run.name must be a plain folder name, got {self.name!r}")
        if self.checkpoint_every < 1:
            raise ConfigError(f"run.checkpoint_every must be >= 1, got {self.checkpoint_every}")
        if self.eval_limit < 0:
            raise ConfigError(f"run.eval_limit must be >= 0, got {self.eval_limit}")


@dataclass
class ServeConfig:
    """The online application (``audiorouter serve``, see audiorouter.serving)."""

    host: str = "127.0.0.1"  # bind address; "0.0.0.0" serves other machines
    port: int = 8000
    max_upload_mb: float = 16.0  # larger request bodies get 413
    num_cpus: float = 1.0  # CPUs of the ingress replica (router + tools)
    # admission: answers in progress at once, and waiting beyond those; more get 503 with
    # Retry-After, so memory (each holds at most its upload and the analysed window) and
    # latency stay bounded under any load
    max_ongoing_requests: int = 32  # >= reasoner.serve_max_batch_size, or batches stay small
    max_queued_requests: int = 64
    # the bodies of all admitted requests (answering and waiting) together, by their
    # Content-Length: one that would pass it gets the 503 before its body is read
    max_bodies_mb: float = 256.0
    retry_after_s: float = 2.0

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"serve.port must be in 1..65535, got {self.port}")
        for name in ("max_upload_mb", "num_cpus", "max_ongoing_requests", "max_queued_requests", "max_bodies_mb"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"serve.{name} must be > 0, got {getattr(self, name)}")
        if self.max_bodies_mb < self.max_upload_mb:
            raise ConfigError(f"serve.max_bodies_mb ({self.max_bodies_mb:g}) must be >= serve.max_upload_mb "
                              f"({self.max_upload_mb:g}), or the largest upload could never be admitted")
        if self.retry_after_s < 0:
            raise ConfigError(f"serve.retry_after_s must be >= 0, got {self.retry_after_s}")
