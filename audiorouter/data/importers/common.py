"""The importer core shared by every benchmark layout.

A benchmark module maps each raw JSON record onto a ``Candidate`` (an item whose audio
is still a file on disk). ``import_records`` reads, checks and re-encodes the audio
(16 kHz mono FLAC), writes the items to ``OUT/<split>/part-*.parquet`` and logs every
record it cannot use, with the reason, to ``OUT/rejects.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from audiorouter.config import ImportConfig
from audiorouter.contracts import SAMPLE_RATE, AudioQAItem
from audiorouter.data.audio_io import AudioError, encode_flac, read_clip
from audiorouter.data.items import REJECTS_FILE, RejectLog, ShardWriter, read_rejects
from audiorouter.validation import (
    MAX_JSON_DEPTH,
    ValidationError,
    check_audio,
    file_problem,
    json_depth,
    json_list_items,
    loads_json,
)


class RecordError(ValueError):
    """A benchmark record that cannot be used; the message says why."""


class NothingValidError(ValueError):
    """Every record of an import was rejected."""


@dataclass
class Candidate:
    """One benchmark record mapped onto an item whose audio is still a file.

    ``problem`` says why the record itself is malformed; ``item`` is then None.
    """

    record_id: str
    item: AudioQAItem | None
    audio_file: Path | None
    problem: str | None = None


@dataclass
class ImportReport:
    """What one import wrote and what it rejected."""

    source: str
    imported: int
    rejected: int
    out_dir: Path
    split: str
    rejects_path: Path

    def render(self) -> str:
        total = self.imported + self.rejected
        text = f"Imported {self.imported} of {total} {self.source} records into {self.out_dir / self.split}"
        if not self.rejected:
            return text + "; none was rejected."
        return text + f"; {self.rejected} rejected, one line each with the reason in {self.rejects_path}."


# ----------------------------------------------------------------------- reading


@dataclass(frozen=True)
class BadLine:
    """A line of a JSON-lines file that is not a JSON object; it becomes one reject."""

    line: int  # 1-based
    problem: str

    @property
    def record_id(self) -> str:
        return f"line {self.line}"


@dataclass(frozen=True)
class BadRecord:
    """An element of a JSON list that cannot be read (nested too deep); one reject."""

    record_id: str  # "record[i]"
    problem: str


def input_format(json_path: str | Path) -> str:
    """"jsonl" for a ``.jsonl`` file (one JSON object per line), else "json" (a JSON list)."""
    return "jsonl" if Path(json_path).suffix.lower() == ".jsonl" else "json"


def load_json_records(json_path: str | Path) -> list[Any]:
    """The records of a benchmark file: a non-empty JSON list (``.json``) or JSON lines
    (``.jsonl``, e.g. MMAR-meta.jsonl). In JSON lines, blank lines are skipped and a line
    that is not a JSON object is kept as a ``BadLine``, rejected later by its line number,
    so one bad line costs one record, not the import."""
    path = Path(json_path)
    if problem := file_problem(path, "benchmark"):
        raise (FileNotFoundError if "not found" in problem else ValueError)(problem)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text: {exc}") from exc
    if input_format(path) == "jsonl":
        return _json_lines(path, text)
    if json_depth(text) > MAX_JSON_DEPTH + 1:  # the list adds one level
        return _deep_list(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "; one JSON object per line is read from a .jsonl file" if exc.msg == "Extra data" else ""
        raise ValueError(f"{path} is not valid JSON: {exc}{hint}") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path} must hold a JSON list of records, got a JSON {type(data).__name__}")
    if not data:
        raise ValueError(f"{path} holds an empty list: no records to import")
    return data


def _json_lines(path: Path, text: str) -> list[Any]:
    if text.lstrip().startswith("["):
        raise ValueError(f"{path} holds a JSON list, not one JSON object per line: name it .json")
    records: list[Any] = []
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): U+2028 may sit in text
        if not line.strip():
            continue
        try:
            record = loads_json(line, f"line {number}")
        except json.JSONDecodeError as exc:
            records.append(BadLine(number, f"line {number} is not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        except ValidationError as exc:  # nested too deep
            records.append(BadLine(number, str(exc)))
            continue
        if not isinstance(record, dict):
            record = BadLine(number, f"line {number} is not a JSON object (got {type(record).__name__})")
        records.append(record)
    if not records:
        raise ValueError(f"{path} holds no JSON lines: no records to import")
    return records


def _deep_list(path: Path, text: str) -> list[Any]:
    """A JSON list some of whose records nest deeper than the limit: each element parsed
    on its own, a too-deep one kept as a ``BadRecord`` (one reject, not the import)."""
    items = json_list_items(text)
    if items is None:
        raise ValueError(f"{path} must hold a JSON list of records (and it nests over {MAX_JSON_DEPTH} deep)")
    records: list[Any] = []
    for index, item in enumerate(items):
        try:
            records.append(loads_json(item, f"record[{index}]"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: record[{index}]: {exc}") from exc
        except ValidationError as exc:
            records.append(BadRecord(f"record[{index}]", str(exc)))
    return records


def check_output_dir(out_dir: str | Path) -> None:
    """ValueError unless ``out_dir`` is a folder or can become one (checked before any work)."""
    out = Path(out_dir)
    for path in (out, *out.parents):
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise ValueError(f"the output folder {str(out)!r} cannot be made: {str(path)!r} exists and is not a folder")
            return


def existing_dir(audio_root: str | Path) -> Path:
    root = Path(audio_root)
    if not root.is_dir():
        raise FileNotFoundError(f"audio root folder not found: {root}")
    return root


def parse_all(records: Sequence[Any], parse: Callable[[dict], Candidate]) -> list[Candidate]:
    """Candidates for every record; a malformed one carries its ``problem``."""
    candidates = []
    for index, record in enumerate(records):
        if isinstance(record, (BadLine, BadRecord)):
            candidates.append(Candidate(record.record_id, None, None, record.problem))
            continue
        if not isinstance(record, dict):
            problem = f"record is not a JSON object (got {type(record).__name__})"
            candidates.append(Candidate(f"record[{index}]", None, None, problem))
            continue
        try:
            candidates.append(parse(record))
        except (RecordError, ValidationError) as exc:  # ValidationError: validation.check_qa, paths
            candidates.append(Candidate(_display_id(record, index), None, None, str(exc)))
    return candidates


def _display_id(record: dict, index: int) -> str:
    value = record.get("id")
    return value if isinstance(value, str) and value else f"record[{index}]"


# ------------------------------------------------------------------ field checks


def require_keys(record: dict, keys: Sequence[str]) -> None:
    missing = [key for key in keys if key not in record]
    if missing:
        raise RecordError(f"missing required key(s): {', '.join(repr(k) for k in missing)}")


def text_field(record: dict, key: str, default: str | None = None) -> str:
    """A non-empty string value; ``default`` stands in for a missing, null or empty one."""
    value = record.get(key)
    if value in (None, "") and default is not None:
        return default
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{key!r} must be a non-empty string, got {value!r}")
    return value


LIST_JOINER = " + "  # a text field listing several values, e.g. ["Reasoning", "Counting"]


def normalise_lists(record: dict, keys: Sequence[str]) -> tuple[dict, dict]:
    """A copy of ``record`` in which each of ``keys`` that holds a non-empty list of
    strings holds one string (a one-element list: its element, as MMAU test-mini's
    ``"category": ["Reasoning"]``; several: joined with " + ", a group of its own), and
    the original values of the keys changed. Other values are left to the field checks."""
    fixed, originals = dict(record), {}
    for key in keys:
        value = record.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            fixed[key] = LIST_JOINER.join(value)
            originals[key] = value
    return fixed, originals


def normalise_choices(record: dict) -> tuple[dict, dict]:
    """A copy of ``record`` whose choices drop blank entries (four real MMAR records end
    with ``""``) and repeats up to case and surrounding spaces (the first is kept; the
    answer follows it), and the original values of what changed. Either quirk would make
    the item unanswerable for the reasoner; the benchmarks' own scoring (lower-cased word
    tokens) cannot tell such choices apart either. Anything else is left to the checks."""
    choices, answer = record.get("choices"), record.get("answer")
    if not (isinstance(choices, list) and all(isinstance(c, str) for c in choices) and isinstance(answer, str)):
        return record, {}
    kept: dict[str, str] = {}
    for choice in choices:
        folded = choice.strip().casefold()
        if folded and folded not in kept:
            kept[folded] = choice
    fixed_answer = kept.get(answer.strip().casefold(), answer) if answer not in kept.values() else answer
    if list(kept.values()) == choices and fixed_answer == answer:
        return record, {}
    originals = {"choices": choices} | ({"answer": answer} if fixed_answer != answer else {})
    return record | {"choices": list(kept.values()), "answer": fixed_answer}, originals


# ----------------------------------------------------------------------- writing


def import_records(
    records: Sequence[Candidate], out_dir: str | Path, config: ImportConfig, source: str
) -> ImportReport:
    """Write the usable candidates as one split; log the others to ``rejects.jsonl``.

    Raises NothingValidError when every record was rejected.
    """
    out_dir = Path(out_dir)
    _forget_previous_rejects(out_dir, source)
    writer = ShardWriter(out_dir, config.split)
    rejects = RejectLog(out_dir)
    seen_ids: set[str] = set()
    for record in tqdm(records, desc=f"importing {source}", unit="record", disable=None):
        try:
            writer.add(_accept(record, seen_ids, config))
        except (RecordError, AudioError) as exc:
            rejects.add(record.record_id, str(exc), source)
    writer.close()
    if writer.count == 0:
        raise NothingValidError(
            f"no valid records: all {rejects.count} were rejected, see {rejects.path}"
        )
    return ImportReport(source, writer.count, rejects.count, out_dir, config.split, rejects.path)


def _accept(record: Candidate, seen_ids: set[str], config: ImportConfig) -> AudioQAItem:
    """The finished item of a candidate, or RecordError / AudioError saying why not."""
    if record.record_id in seen_ids:
        raise RecordError(f"duplicate id {record.record_id!r} (its first occurrence was kept)")
    seen_ids.add(record.record_id)
    if record.problem is not None:
        raise RecordError(record.problem)
    waveform = load_clip(record.audio_file, config.max_duration_s)
    return replace(
        record.item,
        audio=encode_flac(waveform),
        sample_rate=SAMPLE_RATE,
        duration_s=waveform.size / SAMPLE_RATE,
    )


def load_clip(path: Path, max_duration_s: float) -> np.ndarray:
    """A 16 kHz mono waveform of an audio file, checked (``validation.check_audio``, the
    reasoner's check); AudioError when unusable or longer than ``max_duration_s``. At
    most that much is decoded (``read_clip``), whatever the file would decode to."""
    waveform = read_clip(path, max_duration_s, longer="error").waveform
    check_audio(waveform, SAMPLE_RATE)
    return waveform


def _forget_previous_rejects(out_dir: Path, source: str) -> None:
    """A re-import replaces this source's reject lines; other sources' lines stay."""
    path = out_dir / REJECTS_FILE
    if path.exists():
        kept = [line for line in read_rejects(out_dir) if line.get("source") != source]
        path.write_text("".join(json.dumps(line) + "\n" for line in kept))
