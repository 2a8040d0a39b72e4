"""MMAR (Ma et al., 2025): a JSON list of records, ``audio_path`` relative to the audio root.

    [{"id": "...", "audio_path": "./audio/....wav", "question": "...", "choices": [...],
      "answer": "...", "modality": "sound-music", "category": "Signal Layer",
      "sub-category": "...", "language": "en", "source": "...", "url": "...",
      "timestamp": "..."}]
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

SOURCE = "mmar"
REQUIRED_KEYS = ("id", "audio_path", "question", "choices", "answer", "modality", "category")


def import_mmar(
    json_path: str | Path, audio_root: str | Path, out_dir: str | Path, config: ImportConfig | None = None
) -> ImportReport:
    """Import a local MMAR copy (``MMAR-meta.json`` and the folder its paths start from)."""
    records = load_json_records(json_path)
    root = existing_dir(audio_root)
    candidates = parse_all(records, lambda record: parse_mmar_record(record, root))
    return import_records(candidates, out_dir, config or ImportConfig(), SOURCE)


def parse_mmar_record(record: dict, audio_root: Path) -> Candidate:
    """The candidate item of one MMAR record (task = modality); RecordError when malformed."""
    require_keys(record, REQUIRED_KEYS)
    choices = choices_field(record)
    item = AudioQAItem(
        id=text_field(record, "id"),
        question=text_field(record, "question"),
        choices=choices,
        answer=answer_field(record, choices),
        task=text_field(record, "modality"),
        category=text_field(record, "category"),
        sub_category=text_field(record, "sub-category", default=""),
        difficulty="unknown",
        source=SOURCE,
        meta={"benchmark": SOURCE, "original": record},
    )
    return Candidate(item.id, item, audio_root / text_field(record, "audio_path"))
