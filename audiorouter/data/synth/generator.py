"""Deterministic generation of the perception suite and its train/validation/test split.

Every item has its own random stream, seeded by (suite seed, family, index), so an item
is the same whichever order, process or subset generates it. Families take turns, so
each split has a balanced mix; within a family a seeded permutation assigns splits,
and every item belongs to exactly one split.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from audiorouter.config import ConfigError, SynthConfig
from audiorouter.contracts import SAMPLE_RATE, SPLITS, AudioQAItem
from audiorouter.data.audio_io import encode_flac
from audiorouter.data.items import ShardWriter
from audiorouter.data.synth.base import LEVELS, SynthClip, family_names, get_family, played_on
from audiorouter.data.synth.voices import VOICES

log = logging.getLogger(__name__)
SOURCE = "audiorouter-synth"
VOICE_SUFFIX = {"synthetic": "", "soundfont": "-gm"}  # item ids: what the clip was played on


def resolve_families(requested: list[str] | None = None) -> list[str]:
    """The families to generate: all available ones when none are named.

    Unknown names are an error; named-but-unavailable families (e.g. speech without a
    synthesiser) are an error too; unavailable ones are skipped with a message when
    the default set is used.
    """
    names = list(requested) if requested else family_names()
    usable = []
    for name in names:
        reason = get_family(name).unavailable_reason()  # an unknown name: ConfigError naming the valid ones
        if reason is None:
            usable.append(name)
        elif requested:
            raise ConfigError(f"task family {name!r} cannot be generated here: {reason}")
        else:
            log.warning("skipping task family %s: %s", name, reason)
    return usable


def content_digest(clip: SynthClip) -> str:
    """Eight hex digits of the question, choices, answer and truth: part of the item id so
    that outcomes memoised for an older generator's item never answer a newer one."""
    text = json.dumps([clip.question, clip.choices, clip.answer, clip.meta], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def make_item(family: str, index: int, seed: int, difficulty: str | None = None,
              voices: str = "synthetic") -> AudioQAItem:
    """Item ``index`` of ``family`` for suite ``seed`` (always the same item), its sounds
    played on ``voices`` (``voices.VOICES``: "synthetic" or "soundfont")."""
    rng = np.random.default_rng([seed, zlib.crc32(family.encode()), index])
    level = difficulty or LEVELS[index % len(LEVELS)]  # balanced levels within a family
    player = VOICES[voices]()
    clip = played_on(get_family(family), player).make(rng, level)
    if described := player.describe():
        clip.meta["played_on"] = described
    if clip.answer not in clip.choices:
        raise AssertionError(f"{family}: answer {clip.answer!r} not in {clip.choices}")
    if not np.all(np.isfinite(clip.waveform)):
        raise AssertionError(f"{family}: non-finite samples")
    return AudioQAItem(
        id=f"{family}-s{seed}-{index:06d}-{content_digest(clip)}{VOICE_SUFFIX[voices]}",
        question=clip.question,
        choices=clip.choices,
        answer=clip.answer,
        task=family,
        category=get_family(family).category,
        sub_category=clip.sub_category,
        difficulty=level,
        source=SOURCE,
        sample_rate=SAMPLE_RATE,
        duration_s=round(clip.waveform.size / SAMPLE_RATE, 4),
        audio=encode_flac(clip.waveform),
        meta=clip.meta,
    )


def generate_family_items(family: str, n: int, seed: int, difficulty: str | None = None) -> list[AudioQAItem]:
    """The first ``n`` items of one family (handy for tests and tool accuracy checks)."""
    resolve_families([family])
    return [make_item(family, i, seed, difficulty) for i in range(n)]


def plan_splits(cfg: SynthConfig, families: list[str]) -> list[tuple[str, int, str]]:
    """``(family, index, split)`` for every item of the suite, families interleaved."""
    per_family = {f: len(range(i, cfg.n, len(families))) for i, f in enumerate(families)}
    split_of: dict[tuple[str, int], str] = {}
    for family, count in per_family.items():
        order = np.random.default_rng([cfg.seed, zlib.crc32(family.encode()), 2**31]).permutation(count)
        n_test = int(round(count * cfg.test_fraction))
        n_val = int(round(count * cfg.validation_fraction))
        for rank, index in enumerate(order):
            split = "test" if rank < n_test else "validation" if rank < n_test + n_val else "train"
            split_of[(family, int(index))] = split
    plan = []
    for position in range(cfg.n):
        family = families[position % len(families)]
        index = position // len(families)
        plan.append((family, index, split_of[(family, index)]))
    return plan


@dataclass
class SynthReport:
    out_dir: Path
    families: list[str]
    counts: dict[str, int]  # split -> items
    audio_bytes: int

    def render(self) -> str:
        splits = ", ".join(f"{s} {n}" for s, n in self.counts.items())
        return f"wrote {sum(self.counts.values())} items ({splits}) of {len(self.families)} task families to {self.out_dir}"


def synthesize_dataset(cfg: SynthConfig, out_dir: str | Path, progress: bool = True) -> SynthReport:
    """Generate the suite described by ``cfg`` into sharded Parquet under ``out_dir``."""
    families = resolve_families(cfg.families)
    if not families:
        raise ConfigError("no task family can be generated on this machine")
    plan = plan_splits(cfg, families)
    writers = {split: ShardWriter(out_dir, split, cfg.shard_size) for split in SPLITS}
    audio_bytes = 0
    items = generate_items([(family, index, cfg.seed) for family, index, _ in plan], cfg.workers)
    for (_, _, split), item in tqdm(zip(plan, items, strict=True), total=len(plan), desc="synth", unit="item",
                                    disable=not progress):
        audio_bytes += len(item.audio or b"")
        writers[split].add(item)
    for writer in writers.values():
        writer.close()
    return SynthReport(Path(out_dir), families, {s: w.count for s, w in writers.items()}, audio_bytes)


def generate_items(tasks: list[tuple], workers: int) -> Iterator[AudioQAItem]:
    """``make_item(*task)`` for each task (family, index, seed[, difficulty, voices]), in
    order, over ``workers`` processes."""
    with _item_maker(workers) as make:
        yield from make(_make_planned, tasks)


def _make_planned(task: tuple) -> AudioQAItem:
    return make_item(*task)


@contextmanager
def _item_maker(workers: int):
    """``map`` in this process, or an ordered map over a pool of spawned processes
    (spawn, not fork: the caller may hold threads, e.g. a Ray driver)."""
    if workers == 1:
        yield map
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield lambda fn, tasks: pool.map(fn, tasks, chunksize=16)
