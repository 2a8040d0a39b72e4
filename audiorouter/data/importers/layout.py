"""One parser for every benchmark layout: a layout names the keys that differ."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audiorouter.config import ImportConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.data.importers.common import (
    Candidate,
    ImportReport,
    check_output_dir,
    existing_dir,
    import_records,
    input_format,
    load_json_records,
    normalise_choices,
    normalise_lists,
    parse_all,
    require_keys,
    text_field,
)
from audiorouter.validation import check_qa, inside_root


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

    @property
    def text_keys(self) -> tuple[str, ...]:
        """The record's text fields; one given as a list of strings is normalised."""
        optional = ("sub-category",) + ((self.difficulty_key,) if self.difficulty_key else ())
        return ("id", self.audio_key, "question", "answer", self.task_key, "category", *optional)

    def parse(self, original: dict, audio_root: Path, file_format: str = "json") -> Candidate:
        """The candidate item of one record; RecordError, or ValidationError from the shared
        checks (``validation.check_qa``, an audio path outside the root), when it is malformed.

        ``meta`` keeps the record unchanged (``original``, written back by evaluation),
        the format of its file (``input_format``: "json" or "jsonl") and the original
        value of every field that was normalised (``normalised``: a text field given as
        a list, e.g. {"category": ["Reasoning"]}; choices with blank entries or repeats)."""
        require_keys(original, self.required_keys)
        record, normalised = normalise_lists(original, self.text_keys)
        record, changed_choices = normalise_choices(record)
        normalised |= changed_choices
        check_qa(record["question"], record["choices"], record["answer"], answer_required=True)
        choices = list(record["choices"])
        difficulty = text_field(record, self.difficulty_key, default="unknown") if self.difficulty_key else "unknown"
        item = AudioQAItem(
            id=text_field(record, "id"),
            question=record["question"],
            choices=choices,
            answer=record["answer"],
            task=text_field(record, self.task_key),
            category=text_field(record, "category"),
            sub_category=text_field(record, "sub-category", default=""),
            difficulty=difficulty,
            source=self.source,
            meta={"benchmark": self.source, "original": original, "input_format": file_format,
                  **({"normalised": normalised} if normalised else {})},
        )
        return Candidate(item.id, item, inside_root(audio_root, text_field(record, self.audio_key)))

    def import_json(self, json_path: str | Path, audio_root: str | Path, out_dir: str | Path,
                    config: ImportConfig | None = None) -> ImportReport:
        """Import a local copy: the records (a JSON list in a ``.json`` file, or JSON lines
        in a ``.jsonl`` one) and the folder their audio paths start from."""
        check_output_dir(out_dir)
        records = load_json_records(json_path)
        root = existing_dir(audio_root)
        fmt = input_format(json_path)
        candidates = parse_all(records, lambda record: self.parse(record, root, fmt))
        return import_records(candidates, out_dir, config or ImportConfig(), self.source)
