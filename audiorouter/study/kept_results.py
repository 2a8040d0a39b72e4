"""Finished trials' results kept in a folder that outlives the machine (``study.keep_dir``).

A study on this project's CPU machines runs for many hours, longer than a machine is
held; what a machine keeps is the repository. With ``study.keep_dir`` set (say
``studies/<name>``), every trial that finishes copies its ``result.json`` to
``<keep_dir>/trials/<method>/n<size>-seed<seed>/``, and a study that starts copies every
kept result its own run folder lacks into it, so Tune's new experiment finds those trials
finished. ``<keep_dir>/dataset.json`` records the lineage of the items the kept results
were computed on (``study.lineage``): they stay when the study's items continue it (the
same items, perhaps with training items appended for a larger grid), and how they were
made (the data manifest: plan, appended splits), so a machine that generates the items
afresh makes them the same way (``study.dataset.ensure_study_data``); kept results of
other items (another plan, another generator) are removed with a warning when the study
starts, and every restored result is checked against the study's splits again when it is
read (``trials.load_result``).

The language model's answers are kept beside them as memo shards (``store.memo_shards``,
``reasoner.memo_seeds``).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from audiorouter.state_files import read_json_file, write_text_atomic
from audiorouter.study.lineage import as_lineage, continues

log = logging.getLogger(__name__)
DATASET_FILE = "dataset.json"
TRIALS = "trials"
RESULT_FILE = "result.json"


def kept_dataset_record(keep_dir: str | Path) -> dict:
    """What ``DATASET_FILE`` says of the kept results' items ({} when there is none):
    "lineage", and "manifest", how they were made (``study.dataset``), so another machine
    makes the same items (records before lineages hold a "fingerprint" only)."""
    marker = Path(keep_dir) / DATASET_FILE
    return read_json_file(marker, "kept results' dataset record", "Restore it, or delete the folder "
                          f"{keep_dir} (its trials are run again)") if marker.exists() else {}


def restore_kept_results(keep_dir: str | Path, study_dir: str | Path, lineage: list[str],
                         manifest: dict | None = None) -> int:
    """Copy kept results the run folder lacks into it; returns how many were copied.
    ``manifest`` (how the study's items were made) is recorded beside the lineage."""
    keep = Path(keep_dir)
    kept = sorted((keep / TRIALS).glob(f"*/*/{RESULT_FILE}"))
    marker = keep / DATASET_FILE
    record = kept_dataset_record(keep)
    recorded = record.get("lineage", record.get("fingerprint"))  # "fingerprint": records before lineages
    if not continues(lineage, recorded):
        if kept:
            log.warning("%d kept trial results in %s were scored on other items (dataset %s, now %s): removed, "
                        "their trials run again", len(kept), keep, as_lineage(recorded), lineage)
            shutil.rmtree(keep / TRIALS)
        kept = []
    if kept and as_lineage(recorded) != lineage:
        log.info("the study's items continue those of the %d kept results in %s (training items appended): "
                 "they stay", len(kept), keep)
    now = {"lineage": lineage} | ({"manifest": manifest} if manifest else {})
    if record != now:
        keep.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marker, json.dumps(now, indent=1))
    if not kept:
        return 0
    copied = 0
    for path in kept:
        key = path.parent.relative_to(keep / TRIALS)
        target = Path(study_dir) / TRIALS / key / RESULT_FILE
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied += 1
    log.info("restored %d of %d kept trial results from %s", copied, len(kept), keep)
    return copied


def keep_result(keep_dir: str | Path, key: str, result_file: Path) -> None:
    """Copy a finished trial's result into the kept folder (atomically: a reader never
    sees half a file)."""
    write_text_atomic(Path(keep_dir) / TRIALS / key / RESULT_FILE, Path(result_file).read_text())
