"""One parser for every benchmark layout: a layout names the keys that differ."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Layout:
    """How one benchmark's JSON records map onto an AudioQAItem."""

    source: str  # "mmau", "mmar": AudioQAItem.source and meta["benchmark"]
    audio_key: str  # the record's audio path, relative to the audio root
    task_key: str  # the record's field used as AudioQAItem.task
    difficulty_key: str | None  # None: the layout has no difficulty ("unknown")

    @property
    def required_keys(self) -> tuple[str, ...]:
        return ("id", self.audio_key, "question", "choices", "answer", self.task_key, "category")

    def parse(self, record: dict, audio_root: Path) -> Candidate:
        """The candidate item of one record; RecordError when it is malformed."""
        require_keys(record, self.required_keys)
        choices = choices_field(record)
        difficulty = text_field(record, self.difficulty_key, default="unknown") if self.difficulty_key else "unknown"
        item = AudioQAItem(
            id=text_field(record, "id"),
            question=text_field(record, "question"),
            choices=choices,
            answer=answer_field(record, choices),
            task=text_field(record, self.task_key),
            category=text_field(record, "category"),
            sub_category=text_field(record, "sub-category", default=""),
            difficulty=difficulty,
            source=self.source,
            meta={"benchmark": self.source, "original": record},
        )
        return Candidate(item.id, item, audio_root / text_field(record, self.audio_key))

    def import_json(self, json_path: str | Path, audio_root: str | Path, out_dir: str | Path,
                    config: ImportConfig | None = None) -> ImportReport:
        """Import a local copy: the JSON list of records and the folder its paths start from."""
        records = load_json_records(json_path)
        root = existing_dir(audio_root)
        candidates = parse_all(records, lambda record: self.parse(record, root))
        return import_records(candidates, out_dir, config or ImportConfig(), self.source)
