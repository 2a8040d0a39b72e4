"""The inputs of the internalisation heads (methods/internalise.py), prepared once by the
driver for every study item before the sweep.

``prepare_internalisation``: every study item's features (``features.HEAD_SPEC``,
through the feature cache) into one file (``FEATURES_FILE``, ``ItemFeatures.save``), and,
when ``internalise-reasoner`` runs, the frozen reasoner's no-evidence choice scores of
the items it reads (``SCORES_FILE``), asked through the outcome pipeline (the hosted
reasoner, memoised like every outcome); a rerun computes only what the files lack.
``internalise-lalm`` alone needs neither. ``load_prepared``: what a trial reads back.

Imports: features, data, study.context (its outcome source), study.methods (its method table).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tqdm import tqdm

from audiorouter.contracts import AudioQAItem
from audiorouter.data.items import iter_items, split_files
from audiorouter.features import HEAD_SPEC, ItemFeatures, featurize
from audiorouter.state_files import write_text_atomic
from audiorouter.study.context import StudyContext
from audiorouter.study.methods.catalog import get_method, sizes_for

log = logging.getLogger(__name__)

FEATURES_FILE = "item_features.npz"  # in the study folder: ItemFeatures (HEAD_SPEC) of every study item
SCORES_FILE = "reasoner_scores.json"  # item id -> the reasoner's no-evidence choice scores
CHUNK = 512  # items decoded at once while preparing


def study_splits(ctx: StudyContext) -> tuple[str, ...]:
    return tuple(s for s in (*ctx.data.training_splits, "validation", "test", *ctx.data.ood_ids)
                 if split_files(ctx.data.data_dir, s))


def prepare_internalisation(ctx: StudyContext) -> None:
    """Every study item's features into ``FEATURES_FILE`` and, when internalise-reasoner
    runs, the reasoner's no-evidence scores of the items it reads into ``SCORES_FILE``.
    What the files hold already is kept: a grid that grew (training items appended,
    ``study.dataset``) costs only its new items."""
    folder = Path(ctx.study_dir)
    if not any(get_method(m).head_inputs for m in ctx.config.study.methods):  # lalm alone needs none
        return
    wants_scores = any(get_method(m).reasoner_scores for m in ctx.config.study.methods)
    held = ItemFeatures.load(folder / FEATURES_FILE) if (folder / FEATURES_FILE).exists() else None
    have = set(held.item_ids) if held else set()
    scores = json.loads((folder / SCORES_FILE).read_text()) if wants_scores and (folder / SCORES_FILE).exists() else {}
    need_features = {i for i in ctx.data.tasks if i not in have}
    need_scores = {i for i in reasoner_scored_ids(ctx) if i not in scores} if wants_scores else set()
    if not need_features and not need_scores:
        return
    parts = [held] if held else []
    wanted = need_features | need_scores
    source = ctx.outcome_source([], study_splits(ctx))  # handed each chunk's items (use_items)

    def prepare(chunk: list[AudioQAItem]) -> None:
        if new := [item for item in chunk if item.id in need_features]:
            parts.append(featurize(new, HEAD_SPEC, ctx.config.router.feature_cache_dir or None))
        if asked := [item for item in chunk if item.id in need_scores]:
            source.use_items(asked)
            ids = [item.id for item in asked]
            scores.update(zip(ids, source.no_evidence_scores(ids), strict=True))
        bar.update(len(chunk))

    with tqdm(total=len(wanted), desc="item features", unit="item") as bar:
        for split in study_splits(ctx):
            chunk = []
            for item in iter_items(ctx.data.data_dir, split):
                if item.id in wanted:
                    chunk.append(item)
                if len(chunk) == CHUNK:
                    prepare(chunk)
                    chunk = []
            if chunk:
                prepare(chunk)
    features = ItemFeatures.concat(parts)
    log.info("item features of %d items (%d new): %s", len(features.item_ids), len(need_features), features.cost)
    features.save(folder / FEATURES_FILE)
    if wants_scores:
        write_text_atomic(folder / SCORES_FILE, json.dumps(scores))


def reasoner_scored_ids(ctx: StudyContext) -> set[str]:
    """The items internalise-reasoner reads the reasoner's no-evidence scores of: its
    training items at its largest size (every seed), the validation and evaluation splits."""
    data, study = ctx.data, ctx.config.study
    largest = max(max(sizes_for(study, m)) for m in study.methods if get_method(m).reasoner_scores)
    return {*data.training_union(largest), *data.validation_ids, *(i for ids in data.eval_splits.values() for i in ids)}


def load_prepared(ctx: StudyContext, scores: bool) -> tuple[ItemFeatures, dict[str, list[float]] | None]:
    """What ``prepare_internalisation`` wrote: the features, and the reasoner's scores if asked."""
    study_dir = Path(ctx.study_dir)
    return ItemFeatures.load(study_dir / FEATURES_FILE), json.loads((study_dir / SCORES_FILE).read_text()) if scores else None
