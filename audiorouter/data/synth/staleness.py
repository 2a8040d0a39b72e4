"""Is a stored built-in suite what today's generator makes?

A generated item's id is ``<family>-s<seed>-<index>-<content digest>``: the generator
makes it again from (family, seed, index) alone, so regenerating one stored item and
comparing ids says whether the folder was written by another version of the generator.
Callers check before any work, so a warm machine never trains or scores on old items
next to outcomes and results of new ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

from audiorouter.data.items import split_files
from audiorouter.data.synth.base import family_names, get_family
from audiorouter.data.synth.generator import SOURCE, make_item

GENERATED_ID = re.compile(r"(?P<family>.+)-s(?P<seed>\d+)-(?P<index>\d{6})(?:-[0-9a-f]{8})?")


def stale_suite_reason(data_dir: str | Path, split: str) -> str | None:
    """None when the first generated item of ``split`` is what the generator makes today
    (or there is nothing to check), else a sentence saying what differs."""
    files = split_files(data_dir, split)
    if not files:
        return None
    row = pq.read_table(files[0], columns=["id", "source", "difficulty"]).slice(0, 1).to_pylist()
    if not row or row[0]["source"] != SOURCE:
        return None
    stored = row[0]["id"]
    match = GENERATED_ID.fullmatch(stored)
    if match is None or match["family"] not in family_names() or get_family(match["family"]).unavailable_reason():
        return None
    now = make_item(match["family"], int(match["index"]), int(match["seed"]), row[0]["difficulty"]).id
    if now == stored:
        return None
    return (f"{data_dir} was written by another version of the item generator (its item {stored} is now {now}): "
            f"delete the folder to generate it again")
