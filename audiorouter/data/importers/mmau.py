"""MMAU (Sakshi et al., 2024): a JSON list of records, ``audio_id`` relative to the audio root.

    [{"id": "...", "audio_id": "./test-mini-audios/....wav", "question": "...",
      "choices": [...], "answer": "...", "dataset": "...", "task": "sound",
      "split": "test-mini", "category": "...", "sub-category": null, "difficulty": "easy"}]
"""

from __future__ import annotations

from pathlib import Path

from audiorouter.config import ImportConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.data.importers.common import (
    Candidate,
    ImportReport,
    answer_field,
    choices_field,
    existing_dir,
    import_records,
    load_json_records,
    parse_all,
    require_keys,
    text_field,
)

SOURCE = "mmau"
REQUIRED_KEYS = ("id", "audio_id", "question", "choices", "answer", "task", "category")


def import_mmau(
    json_path: str | Path, audio_root: str | Path, out_dir: str | Path, config: ImportConfig | None = None
) -> ImportReport:
    """Import a local MMAU copy (e.g. ``mmau-test-mini.json`` and its audio folder)."""
    records = load_json_records(json_path)
    root = existing_dir(audio_root)
    candidates = parse_all(records, lambda record: parse_mmau_record(record, root))
    return import_records(candidates, out_dir, config or ImportConfig(), SOURCE)


def parse_mmau_record(record: dict, audio_root: Path) -> Candidate:
    """The candidate item of one MMAU record; RecordError when it is malformed."""
    require_keys(record, REQUIRED_KEYS)
    choices = choices_field(record)
    item = AudioQAItem(
        id=text_field(record, "id"),
        question=text_field(record, "question"),
        choices=choices,
        answer=answer_field(record, choices),
        task=text_field(record, "task"),
        category=text_field(record, "category"),
        sub_category=text_field(record, "sub-category", default=""),
        difficulty=text_field(record, "difficulty", default="unknown"),
        source=SOURCE,
        meta={"benchmark": SOURCE, "original": record},
    )
    return Candidate(item.id, item, audio_root / text_field(record, "audio_id"))
