"""The study's items: a generated pool, nested training sets per seed, one test split.

    data = ensure_study_data(config.study, workers=2, train_items=512, pool_items=128)  # made when missing
    ids = data.training_ids(size=64, seed=3)            # the first 64 of seed 3's order

Per family the generator makes enough training items for the largest training size
(``train_items``, drawn round-robin over families; the method registry works it out from
the config: ``study.methods.max_train_size``, ``router_pool_size``), plus ``validation_per_family`` and
``test_per_family`` items from other generator seeds. Each seed orders the training
items once and every training set is a prefix of that order, so sets are nested
(the 16-item set contains the 8-item set). The order has two stages: the split
``pool`` (the first ``router_pool`` training items by generator index) comes first,
shuffled per family and drawn round-robin over families, then the split ``train`` (the
rest) the same way. Router sizes stay inside the pool, so tools only ever run on the
pool and the test split, and router trials read those splits only.

A grid that grows later (a larger ``internalise_sizes`` or ``method_sizes``) does not
regenerate anything: the missing training items (the next generator indices) are made
as a new split, ``train-2``, ``train-3``, ..., appended to the order as one more stage.
Every earlier item and the first items of every seed's order stay as they were, so
results computed before (kept trials, the memo) still hold; the manifest records each
appended split with its fingerprint (the dataset's lineage, ``study.lineage``).

With ``study.seed_pools`` each seed's router methods draw from a pool of their own
instead: pool items made for them as appended splits of kind "seed-pools" (``SEED_POOLS``,
their own generator seed), family index i going to seed i mod seeds; ``router_orders``
holds each seed's nested order over its pool, and ``training_ids(..., pool=True)`` reads it.
A larger ``router_pool`` later grows the shared pool into the training items: the next
generator indices of split ``train``, recorded as a "pool-growth" extension (no item is
made); the routers' orders are then the pool's order as a study made with that pool from
the start would have it, so every router trial trains again (its training digest says so),
while the heads' orders and kept results stay.

``load_items`` reads items by id, with or without their audio: internalisation trials
need every training item's question, choices and answer but never the audio (its
features are computed once); router trials need neither. Reading without the audio
column keeps 8192 items at a few MB.

Imports: config, contracts, data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from audiorouter.config import StudyConfig
from audiorouter.config.study import OOD_SPLITS
from audiorouter.contracts import ITEM_SCHEMA, AudioQAItem
from audiorouter.data.items import ShardWriter, read_table, split_files
from audiorouter.data.synth import generate_items, resolve_families
from audiorouter.data.synth.base import get_family
from audiorouter.data.synth.reworded import reword
from audiorouter.data.synth.staleness import stale_suite_reason
from audiorouter.data.synth.voices import voices_unavailable_reason
from audiorouter.state_files import read_json_file, write_text_atomic

log = logging.getLogger(__name__)
MANIFEST = "study_items.json"
TRAINING_SPLITS = ("pool", "train")  # then the appended ones, in the manifest's "extensions"
SEED_POOLS = "seed-pools"  # the kind (and split name) of appended pool items for study.seed_pools
SEED_POOL_GENERATOR = 90  # their generator seed: study.synth_seed + 90, apart from every other split's
POOL_GROWTH = "pool-growth"  # the kind of a manifest record: the shared pool grown into the training items
NO_AUDIO = [name for name in ITEM_SCHEMA.names if name != "audio"]
OOD_TRANSFORMS = {"reworded": reword}  # out-of-distribution split -> (item, generator seed) -> its item
OOD_VOICES = {"instruments": "soundfont"}  # out-of-distribution split -> what its items are played on


@dataclass
class StudyData:
    data_dir: Path
    families: list[str]
    orders: dict[int, list[str]]  # seed -> every training id, in that seed's nested order
    validation_ids: list[str]
    test_ids: list[str]
    tasks: dict[str, str]  # item id -> family, every split
    # sha256 over every generated item's id, answer and audio bytes, then one per appended split
    lineage: list[str]
    router_pool: int
    ood_ids: dict[str, list[str]] = field(default_factory=dict)  # out-of-distribution split -> its ids
    training_splits: tuple[str, ...] = TRAINING_SPLITS  # the stages of the nested orders, in order
    manifest: dict = field(default_factory=dict)  # how the items were made (plan, appended splits)
    # seed -> the router methods' nested order: the first router_pool items of ``orders``, or
    # with study.seed_pools the seed's own pool (``seed_pool_orders``)
    router_orders: dict[int, list[str]] = field(default_factory=dict)
    pool_splits: tuple[str, ...] = ("pool",)  # the splits that hold the router pools

    @property
    def eval_splits(self) -> dict[str, list[str]]:
        """Every split each trial is scored on: the test split first, then the OOD splits."""
        return {"test": self.test_ids, **self.ood_ids}

    def training_ids(self, size: int, seed: int, pool: bool = False) -> list[str]:
        """The first ``size`` items of seed ``seed``'s order; ``pool``: of its router order
        (the methods that train inside the router pool)."""
        order = (self.router_orders if pool else self.orders)[seed]
        if size > len(order):
            where = "router pool" if pool else "training items of the study"
            raise ValueError(f"training size {size} exceeds the {len(order)} {where}")
        return order[:size]

    def training_union(self, size: int, pool: bool = False) -> list[str]:
        """Every item of some seed's first ``size`` training items (``pool``: of its router
        order), e.g. what the tool pass covers for the methods that read their tool outputs."""
        orders = self.router_orders if pool else self.orders
        return sorted({i for order in orders.values() for i in order[:size]})


def plan(study: StudyConfig, families: list[str], train_items: int, pool_items: int) -> dict:
    """What the generator makes, per split: (generator seed, first index, end index) per family,
    for a largest training set of ``train_items`` whose first ``pool_items`` are the router pool."""
    per_family = math.ceil(train_items / len(families))
    pool = min(per_family, math.ceil(pool_items / len(families)))
    seed = study.synth_seed
    splits = {"pool": [seed, 0, pool], "train": [seed, pool, per_family],
              "validation": [seed + 1, 0, study.validation_per_family], "test": [seed + 2, 0, study.test_per_family]}
    voiced: dict[str, dict] = {}
    for k, name in enumerate(study.ood_splits):  # items of their own seeds, transformed (OOD_TRANSFORMS)
        if name in OOD_VOICES:  # played on other voices (OOD_VOICES), by the families that can be
            played = voiced_split(name, families)
            if not played:
                continue
            voiced[name] = played
        splits[name] = [seed + 3 + k, 0, study.ood_per_family]
    return {"families": families, "splits": splits} | ({"voiced": voiced} if voiced else {})


def voiced_split(name: str, families: list[str]) -> dict | None:
    """{"voices", "families"} of an OOD split played on other voices; None (with a
    message) when this machine cannot play them or no study family can be."""
    voices = OOD_VOICES[name]
    reason = voices_unavailable_reason(voices)
    playable = [f for f in families if get_family(f).real_instruments]
    if reason or not playable:
        log.warning("study split %r left out: %s", name,
                    reason or f"none of the study's families ({', '.join(families)}) can be played on {voices} voices")
        return None
    if left := [f for f in families if f not in playable]:
        log.warning("study split %r has no items of %s (they cannot be played on %s voices)",
                    name, ", ".join(left), voices)
    return {"voices": voices, "families": playable}


def ensure_study_data(study: StudyConfig, workers: int = 2, progress: bool = True, recorded: dict | None = None,
                      *, train_items: int, pool_items: int, seed_pool_items: int = 0) -> StudyData:
    """The study's items, generated where ``study.data_dir`` lacks them. ``recorded`` is
    the manifest of the items kept results were computed on (``kept_results``): items
    generated afresh follow it (its plan, then each appended split in turn), so every
    machine makes the same items in the same nested orders, with the same lineage. With
    study.seed_pools, ``seed_pool_items`` per seed are appended as seed-pool splits."""
    families = resolve_families(study.families or None)
    wanted = plan(study, families, train_items, pool_items)
    root = Path(study.data_dir)
    manifest_path = root / MANIFEST
    if manifest_path.exists():
        manifest = read_json_file(manifest_path, "study's item manifest",
                                  "Restore it, or set study.data_dir to a new folder (the items are generated again)")
        if reason := stale_suite_reason(root, "test"):
            raise ValueError(reason)
    else:
        manifest = generate_as_recorded(root, wanted, recorded, workers, progress)
    if more := training_items_missing(root, manifest, wanted):
        manifest = append_training_split(root, manifest, more, workers, progress)
    if more := pool_growth_missing(root, manifest, wanted):
        manifest = grow_pool(root, manifest, more)
    if study.seed_pools and (more := seed_pool_items_missing(manifest, study, len(families), seed_pool_items)):
        manifest = append_training_split(root, manifest, more, workers, progress, SEED_POOLS)
    return load_study_data(root, manifest, study)


def generate_as_recorded(root: Path, wanted: dict, recorded: dict | None, workers: int, progress: bool) -> dict:
    """Generate the items of ``wanted`` into the empty ``root``, the way ``recorded`` made
    them when its plan differs from ``wanted`` at most in how many training items and how
    large a router pool it holds (both grow by appending)."""
    if any(root.glob("*/part-*.parquet")):
        raise ValueError(f"{root} already holds items but no {MANIFEST}: remove it or choose another study.data_dir")
    follow = recorded is not None and _appendable(recorded["plan"]) == _appendable(wanted)
    first = recorded["plan"] if follow else wanted
    manifest = {"plan": first, "fingerprint": generate(root, first["splits"], first, workers, progress)}
    write_text_atomic(root / MANIFEST, json.dumps(manifest, indent=1))
    for extension in recorded.get("extensions", []) if follow else []:
        if extension.get("kind") == POOL_GROWTH:
            manifest = grow_pool(root, manifest, extension["range"])
        else:
            manifest = append_training_split(root, manifest, extension["range"], workers, progress,
                                             extension.get("kind", "train"))
    if follow and manifest != recorded:
        log.warning("the study's items made again differ from those the kept results were computed on "
                    "(the generator changed?): those results are run again")
    return manifest


def training_items_missing(root: Path, manifest: dict, wanted: dict) -> list[int] | None:
    """(generator seed, first index, end index) per family of the training items ``wanted``
    needs beyond those ``manifest`` holds; None when it holds enough. Any other difference
    between the plans is refused: those items cannot be appended."""
    held = manifest["plan"]
    if _appendable(held) != _appendable(wanted):
        raise ValueError(f"{root} holds the items of another study plan ({held}); "
                         f"this config needs {wanted}: set study.data_dir to a new folder")
    seed, _, end = wanted["splits"]["train"]
    extensions = appended(manifest)
    have = extensions[-1]["range"][2] if extensions else held["splits"]["train"][2]
    return [seed, have, end] if end > have else None


def seed_pool_items_missing(manifest: dict, study: StudyConfig, families: int, pool_items: int) -> list[int] | None:
    """(generator seed, first index, end index) per family of the pool items study.seed_pools
    needs beyond those made for it: ``pool_items`` per seed, family index i going to seed
    i mod study.seeds (``seed_pool_orders``); None when they are there."""
    end = study.seeds * math.ceil(pool_items / families)
    made = appended(manifest, SEED_POOLS)
    have = made[-1]["range"][2] if made else 0
    return [study.synth_seed + SEED_POOL_GENERATOR, have, end] if end > have else None


def appended(manifest: dict, kind: str = "train") -> list[dict]:
    """The manifest's appended splits of one kind: training items ("train") or seed pools."""
    return [e for e in manifest.get("extensions", []) if e.get("kind", "train") == kind]


def _appendable(wanted: dict) -> dict:
    """The plan without what can grow by appending: the training and pool items' extents."""
    splits = dict(wanted["splits"], train=wanted["splits"]["train"][:1], pool=wanted["splits"]["pool"][:1])
    return dict(wanted, splits=splits)


def pool_growth_missing(root: Path, manifest: dict, wanted: dict) -> list[int] | None:
    """(generator seed, first index, end index) per family by which the shared router pool
    must grow into the training items for ``wanted``; None when it is large enough. A
    smaller pool than the one held is refused: its routers' orders would change."""
    seed, _, end = wanted["splits"]["pool"]
    have = pool_end(manifest)
    if end < have:
        raise ValueError(f"{root} holds a router pool of {have} items per family; this config's study.router_pool "
                         f"asks for {end}: a pool only grows (set study.router_pool to at least {have} per family, "
                         "or study.data_dir to a new folder)")
    return [seed, have, end] if end > have else None


def pool_end(manifest: dict) -> int:
    """The shared router pool's end generator index per family: the plan's, or its last growth's."""
    grown = appended(manifest, POOL_GROWTH)
    return grown[-1]["range"][2] if grown else manifest["plan"]["splits"]["pool"][2]


def grow_pool(root: Path, manifest: dict, extent: list[int]) -> dict:
    """Record that the shared pool takes the training items of generator indices ``extent``
    (made already: the training items start where the pool ends); the new manifest."""
    log.info("the study's router pool grows to %d items per family: the training items of generator indices "
             "%d..%d join it (nothing is generated; every router trial trains again on the larger pool's "
             "order)", extent[2], extent[1], extent[2] - 1)
    manifest = dict(manifest, extensions=[*manifest.get("extensions", []), {"kind": POOL_GROWTH, "range": extent}])
    write_text_atomic(root / MANIFEST, json.dumps(manifest, indent=1))
    return manifest


def append_training_split(root: Path, manifest: dict, extent: list[int], workers: int, progress: bool,
                          kind: str = "train") -> dict:
    """Generate the items of ``extent`` as the next appended split of ``kind`` (training
    items, or pool items for study.seed_pools); the manifest that records it (written last:
    an interrupted append is made again from scratch)."""
    extensions = manifest.get("extensions", [])
    count = len(appended(manifest, kind))
    split = f"train-{count + 2}" if kind == "train" else f"{SEED_POOLS}-{count + 1}"
    shutil.rmtree(root / split, ignore_errors=True)  # what an interrupted append left
    per_family = extent[2] - extent[1]
    log.info("the study needs more %s items: %d per family (generator seed %d, indices %d..%d) appended as the "
             "split %r; the items made before stay as they are", "training" if kind == "train" else "seed-pool",
             per_family, extent[0], extent[1], extent[2] - 1, split)
    fingerprint = generate(root, {split: extent}, manifest["plan"], workers, progress)
    record = {"split": split, "range": extent, "fingerprint": fingerprint} | ({} if kind == "train" else {"kind": kind})
    manifest = dict(manifest, extensions=[*extensions, record])
    write_text_atomic(root / MANIFEST, json.dumps(manifest, indent=1))
    return manifest


def generate(root: Path, splits: dict[str, list[int]], wanted: dict, workers: int, progress: bool) -> str:
    """Write the items of ``splits`` (split -> generator seed, first and end index per
    family) of the plan ``wanted`` as Parquet under ``root``; returns their fingerprint."""
    digest = hashlib.sha256()
    for split, (seed, start, end) in splits.items():
        voiced = wanted.get("voiced", {}).get(split, {"voices": "synthetic", "families": wanted["families"]})
        tasks = [(f, i, seed, None, voiced["voices"]) for i in range(start, end) for f in voiced["families"]]
        writer = ShardWriter(root, split, 256)
        transform = OOD_TRANSFORMS.get(split, lambda item, _: item)
        for item in tqdm(generate_items(tasks, workers), total=len(tasks), desc=f"study items ({split})",
                         unit="item", disable=not progress):
            item = transform(item, seed)
            digest.update(f"{item.id}\0{item.answer}\0".encode())
            digest.update(hashlib.sha256(item.audio or b"").digest())
            writer.add(item)
        writer.close()
    return digest.hexdigest()


def load_study_data(root: Path, manifest: dict, study: StudyConfig) -> StudyData:
    tasks: dict[str, str] = {}
    ids: dict[str, list[str]] = {}
    training = (*TRAINING_SPLITS, *(e["split"] for e in appended(manifest)))
    pools = tuple(e["split"] for e in appended(manifest, SEED_POOLS))
    for split in (*manifest["plan"]["splits"], *training[len(TRAINING_SPLITS):], *pools):
        table = read_table(root, split, columns=["id", "task"]).to_pydict() if split_files(root, split) else {}
        tasks.update(zip(table.get("id", []), table.get("task", []), strict=True))
        ids[split] = sorted(table.get("id", []))  # zero-padded indices: sorted = generator order per family
    families = manifest["plan"]["families"]
    orders = {seed: nested_order([ids[s] for s in training], tasks, families, seed) for seed in range(study.seeds)}
    if study.seed_pools and pools:
        router_orders = seed_pool_orders([ids[s] for s in pools], tasks, families, study.seeds)
    else:  # the shared pool: the training items below its end index (the split "pool", and any growth)
        end = pool_end(manifest)
        shared = sorted(i for s in training for i in ids[s] if generator_index(i) < end)
        router_orders = {seed: nested_order([shared], tasks, families, seed) for seed in range(study.seeds)}
        pools = ("pool",) if len(shared) == len(ids["pool"]) else training
    lineage = [manifest["fingerprint"], *(e["fingerprint"] for e in manifest.get("extensions", []) if "fingerprint" in e)]
    return StudyData(root, families, orders, ids["validation"], ids["test"], tasks, lineage,
                     len(router_orders[0]) if router_orders else len(ids["pool"]), {name: ids[name] for name in OOD_SPLITS if name in ids}, training, manifest,
                     router_orders, pools)


def seed_pool_orders(stages: list[list[str]], tasks: dict[str, str], families: list[str],
                     seeds: int) -> dict[int, list[str]]:
    """Each seed's router order over its own pool: of every seed-pool split (a stage), the
    items whose family generator index i has i mod ``seeds`` == seed, in ``nested_order``."""
    return {seed: nested_order([[i for i in stage if generator_index(i) % seeds == seed] for stage in stages], tasks,
                               families, seed) for seed in range(seeds)}


def generator_index(item_id: str) -> int:
    """A study item's index in its family's generator: its id is "<family>-s<seed>-<index>-<digest>"."""
    return int(re.search(r"-s\d+-(\d+)-", item_id).group(1))


def nested_order(stages: list[list[str]], tasks: dict[str, str], families: list[str], seed: int) -> list[str]:
    """Seed ``seed``'s order of the training items: each stage's items (the pool, then
    the rest, then each appended split) shuffled per family and drawn round-robin over
    families. One generator runs through the stages in turn, so appending a stage leaves
    the order of the earlier ones as it was."""
    rng = np.random.default_rng([seed, 7919])
    order: list[str] = []
    for stage in stages:
        queues = [[i for i in stage if tasks[i] == f] for f in families]
        queues = [[queue[k] for k in rng.permutation(len(queue))] for queue in queues]
        while any(queues):
            for queue in queues:
                if queue:
                    order.append(queue.pop(0))
    return order


def load_items(data_dir: str | Path, splits: Sequence[str], item_ids: Sequence[str],
               audio: bool = True) -> list[AudioQAItem]:
    """The items with ``item_ids`` from ``splits``, in the order of ``item_ids``. Read one
    shard at a time, ids first: memory follows the items asked for, not the splits (an
    appended training split holds tens of thousands of clips)."""
    wanted = set(item_ids)
    found: dict[str, AudioQAItem] = {}
    for path in [f for s in splits for f in split_files(data_dir, s)]:  # a split may be empty (no "train")
        ids = pq.read_table(path, columns=["id"]).column("id").to_pylist()
        keep = [i for i, item_id in enumerate(ids) if item_id in wanted]
        if not keep:
            continue
        table = pq.read_table(path, columns=None if audio else NO_AUDIO, schema=ITEM_SCHEMA)
        for row in table.take(pa.array(keep, type=pa.int64())).to_pylist():
            row.setdefault("audio", None)
            found[row["id"]] = AudioQAItem.from_row(row)
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise KeyError(f"{len(missing)} study items not found in {data_dir} ({', '.join(splits)}): {missing[:3]}")
    return [found[i] for i in item_ids]
