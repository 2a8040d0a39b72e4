"""Outcomes from the real pipeline: tool results as evidence, answers from the reasoner.

``PipelineOutcomeSource`` runs wherever outcomes are needed: in every rollout worker
(under ``rl.rewards.OutcomeRewardSource``), in evaluation and in study trials. Per call
it makes one batched reasoner call for all its (item, tool subset) pairs plus the
no-evidence baselines it has not seen yet:

* Evidence comes from the content-addressed tool cache, which the driver fills with the
  tool-executor pool before training (``tool_execution.item_evidence.prepare_evidence``); a result missing from the
  cache is computed in place by the same tool code, so nothing is ever skipped.
* Outcomes come from the named reasoner actors (``reasoner-0``, ...), which
  memoise on disk; the source also keeps the outcomes it has seen in memory
  (``local_memo``), so a repeated (item, subset) costs no call at all. A dead reasoner
  actor is restarted by Ray; calls that fail meanwhile are retried.

It pickles small (paths, ids, names) and opens everything lazily in the worker.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ray.exceptions import RayError

from audiorouter.cluster.session import start_ray
from audiorouter.config import Config, ReasonerConfig, ToolsConfig
from audiorouter.contracts import AudioQAItem, ReasonerOutcome, ReasonerRequest, ToolResult
from audiorouter.data.audio_io import decode_item_audio
from audiorouter.data.items import iter_items
from audiorouter.outcomes.base import Outcome, OutcomeSource
from audiorouter.reasoner.hosting import HostedReasoner, answer_hosted, host_reasoner
from audiorouter.reasoner.memo import build_reasoner
from audiorouter.store import open_outcome_memo, open_tool_cache
from audiorouter.tool_execution.runner import ToolRunner

log = logging.getLogger(__name__)
RETRIES = 5


@dataclass
class LoadedItem:
    waveform: object  # np.ndarray, float32 mono
    sample_rate: int
    question: str
    choices: list[str]
    answer: str


@dataclass
class PipelineSourceSpec:
    """Everything a worker needs to rebuild the source (all small and picklable)."""

    data_dir: str
    splits: tuple[str, ...]
    item_ids: tuple[str, ...]
    tools: ToolsConfig
    reasoner: ReasonerConfig
    use_actors: bool = True  # False: answer in this process (tests, quick runs)
    local_memo: bool = True
    disabled_tools: dict[str, str] = field(default_factory=dict)  # disabled before training (by the pool)
    counters: Counter = field(default_factory=Counter)

    @classmethod
    def from_config(cls, cfg: Config, data_dir: str, splits: tuple[str, ...], item_ids: Sequence[str],
                    disabled_tools: dict[str, str] | None = None, local_memo: bool | None = None):
        """The spec of a run's config: its tools, its reasoner, and how it reaches the
        reasoner (``run.use_actors``: hosted on Ray as ``reasoner.hosting`` says)."""
        return cls(str(data_dir), tuple(splits), tuple(item_ids), cfg.tools, cfg.reasoner,
                   use_actors=cfg.run.use_actors,
                   local_memo=cfg.run.local_memo if local_memo is None else local_memo,
                   disabled_tools=dict(disabled_tools or {}))


def host_configured_reasoner(cfg: Config) -> HostedReasoner | None:
    """Start the reasoner the sources of ``cfg`` ask: on Ray (joined or started), as
    ``reasoner.hosting`` says, when ``run.use_actors`` (the caller keeps the handle and
    stops it), else None (each source answers in its own process)."""
    if not cfg.run.use_actors:
        return None
    start_ray()
    return host_reasoner(cfg.reasoner)


class PipelineOutcomeSource(OutcomeSource):
    def __init__(self, spec: PipelineSourceSpec) -> None:
        self.spec = spec
        self._items: dict[str, LoadedItem] | None = None
        self._runner = None
        self._reasoner = None
        # (item, subset) -> (correct, chosen index): small, so it can cover a whole run
        self._seen: dict[tuple[str, tuple[str, ...]], tuple[bool, int]] = {}
        self._elapsed_ms: dict[tuple[str, str], float] = {}  # (item, tool) -> its result's compute time
        # distinct (item, evidence tools) requests asked: what the requests cost a run with an empty memo
        self._asked: set[tuple[str, tuple[str, ...]]] = set()
        self.counters: Counter = Counter()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_items=None, _runner=None, _reasoner=None, _seen={}, _elapsed_ms={}, _asked=set(),
                     counters=Counter())
        return state

    # ------------------------------------------------------------------ lazily opened

    def items(self) -> dict[str, LoadedItem]:
        if self._items is None:
            wanted = set(self.spec.item_ids)
            found = (item for split in self.spec.splits for item in iter_items(self.spec.data_dir, split)
                     if item.id in wanted)
            self.use_items(found)
            missing = wanted - set(self._items)
            if missing:
                raise KeyError(f"{len(missing)} training items not found under {self.spec.data_dir}: {sorted(missing)[:3]}")
        return self._items

    def use_items(self, items: Iterable[AudioQAItem]) -> None:
        """Answer about these items, already read, instead of those loaded before: a caller
        that streams a split hands the source one chunk at a time, so memory holds one chunk."""
        self._items = {}
        for item in items:
            wave, sr = decode_item_audio(item.audio, item.audio_path, self.spec.data_dir, f"item {item.id}")
            self._items[item.id] = LoadedItem(wave, sr, item.question, item.choices, item.answer)

    def runner(self):
        if self._runner is None:
            self._runner = ToolRunner.from_config(self.spec.tools)
            self._runner.health.merge(self.spec.disabled_tools)
        return self._runner

    def disabled_tools(self) -> dict[str, str]:
        disabled = dict(self.spec.disabled_tools)
        if self._runner is not None:
            disabled |= self._runner.health.disabled
        return disabled

    def check_ready(self) -> None:
        """The memo and the tool cache a worker opens (a StateFileError when damaged)."""
        for store in (open_outcome_memo(self.spec.reasoner), open_tool_cache(self.spec.tools)):
            if hasattr(store, "close"):
                store.close()

    def ask(self, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
        """The reasoner's outcomes: named actors (retried while one restarts) or local."""
        self.counters["reasoner_requests"] += len(requests)
        asked = {(r.item_id, tuple(sorted(e.tool for e in r.evidence))) for r in requests}
        self.counters["distinct_requests"] += len(asked - self._asked)
        self._asked |= asked
        if not self.spec.use_actors:
            if self._reasoner is None:
                self._reasoner = build_reasoner(self.spec.reasoner)
            return self._reasoner.answer(requests)
        hosting = self.spec.reasoner.hosting
        for attempt in range(RETRIES):
            try:
                return answer_hosted(self.spec.reasoner, requests)
            except (RayError, ValueError, KeyError) as exc:  # ValueError/KeyError: name or app not (yet) there
                log.warning("reasoner %s unavailable (%s); retry %d/%d", hosting, exc, attempt + 1, RETRIES)
                self.counters["reasoner_retries"] += 1
                time.sleep(1.0 + attempt)
        raise RuntimeError(f"reasoner {hosting} still unavailable after {RETRIES} tries")

    # ------------------------------------------------------------------ outcomes

    def outcomes(self, item_ids: list[str], subsets: list[tuple[str, ...]]) -> list[Outcome]:
        pairs = [(i, tuple(sorted(s))) for i, s in zip(item_ids, subsets, strict=True)]
        needed = {(i, ()) for i in item_ids} | set(pairs)
        todo = [p for p in sorted(needed) if not (self.spec.local_memo and p in self._seen)]
        self.counters["pairs"] += len(pairs)
        self.counters["local_memo_hits"] += len(needed) - len(todo)
        if todo:
            outcomes = self.ask([self.request(item_id, subset) for item_id, subset in todo])
            for pair, outcome in zip(todo, outcomes, strict=True):
                if outcome.error:
                    log.warning("reasoner could not answer %s with %s: %s", pair[0], pair[1], outcome.error)
                    self.counters["reasoner_errors"] += 1
                self._seen[pair] = (bool(outcome.correct), outcome.chosen_index)
        results = [Outcome(self._seen[p][0], self._seen[(p[0], ())][0]) for p in pairs]
        if not self.spec.local_memo:
            self._seen.clear()
        return results

    def answers(self, item_ids: list[str], subsets: list[tuple[str, ...]]) -> list[tuple[int, bool]]:
        """(chosen index, correct) for (item, subset) pairs; pairs ``outcomes`` already
        asked are not asked again while the local memo is on."""
        pairs = [(i, tuple(sorted(s))) for i, s in zip(item_ids, subsets, strict=True)]
        if self.spec.local_memo and all(p in self._seen for p in pairs):
            return [self._seen[p][::-1] for p in pairs]
        outcomes = self.ask([self.request(item_id, subset) for item_id, subset in pairs])
        return [(o.chosen_index, bool(o.correct)) for o in outcomes]

    def no_evidence_scores(self, item_ids: Sequence[str]) -> list[list[float]]:
        """The reasoner's score of each choice of each item without evidence (what a head
        that reads the reasoner learns from); raises naming an item it could not answer."""
        outcomes = self.ask([self.request(item_id, ()) for item_id in item_ids])
        for item_id, outcome in zip(item_ids, outcomes, strict=True):
            if outcome.error:
                raise RuntimeError(f"the reasoner could not answer item {item_id}: {outcome.error}")
        return [list(outcome.scores) for outcome in outcomes]

    def tool_ms(self, item_ids: list[str], tools: list[str]) -> np.ndarray:
        """Compute time per (item, tool), from the results this source already ran (cached
        results carry the time they took when computed); a pair never run is run now."""
        times = np.zeros((len(item_ids), len(tools)))
        for row, item_id in enumerate(item_ids):
            missing = [t for t in tools if (item_id, t) not in self._elapsed_ms]
            if missing:
                self.tool_results(item_id, missing)
            times[row] = [self._elapsed_ms[(item_id, t)] for t in tools]
        return times

    def tool_results(self, item_id: str, tools: Sequence[str]) -> list[ToolResult]:
        item = self.items()[item_id]
        results = self.runner().run(item.waveform, item.sample_rate, list(tools)) if tools else []
        self.counters["distinct_tool_runs"] += sum((item_id, r.tool) not in self._elapsed_ms for r in results)
        self._elapsed_ms.update({(item_id, r.tool): r.elapsed_ms for r in results})
        return results

    def request(self, item_id: str, subset: Sequence[str]) -> ReasonerRequest:
        item = self.items()[item_id]
        evidence = self.tool_results(item_id, subset)
        return ReasonerRequest(item_id, item.waveform, item.sample_rate, item.question, item.choices,
                               item.answer, evidence)

    def stats(self) -> dict[str, float]:
        stats = {k: float(v) for k, v in self.counters.items()}
        if self._runner is not None and self._runner.cache is not None:
            stats.update({f"tool_cache_{k}": float(v) for k, v in self._runner.cache.stats().items()})
        if self._runner is not None:
            stats["tool_crashes"] = float(sum(self._runner.health.crashes.values()))
            stats["tools_disabled"] = float(len(self._runner.health.disabled))
        return stats
