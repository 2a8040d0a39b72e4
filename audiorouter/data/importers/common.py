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
from audiorouter.data.audio_io import AudioError, check_waveform, decode_audio, encode_flac, to_mono_16k
from audiorouter.data.store import REJECTS_FILE, RejectLog, ShardWriter, read_rejects


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


def load_json_records(json_path: str | Path) -> list[Any]:
    """The records of a benchmark file, which must hold a non-empty JSON list."""
    path = Path(json_path)
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path} must hold a JSON list of records, got a JSON {type(data).__name__}")
    if not data:
        raise ValueError(f"{path} holds an empty list: no records to import")
    return data


def existing_dir(audio_root: str | Path) -> Path:
    root = Path(audio_root)
    if not root.is_dir():
        raise FileNotFoundError(f"audio root folder not found: {root}")
    return root


def parse_all(records: Sequence[Any], parse: Callable[[dict], Candidate]) -> list[Candidate]:
    """Candidates for every record; a malformed one carries its ``problem``."""
    candidates = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            problem = f"record is not a JSON object (got {type(record).__name__})"
            candidates.append(Candidate(f"record[{index}]", None, None, problem))
            continue
        try:
            candidates.append(parse(record))
        except RecordError as exc:
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


def choices_field(record: dict) -> list[str]:
    choices = record["choices"]
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise RecordError(f"choices must be a list of strings, got {choices!r}")
    if len(choices) < 2:
        raise RecordError(f"choices must hold at least 2 options, got {choices!r}")
    repeated = sorted({c for c in choices if choices.count(c) > 1})
    if repeated:
        raise RecordError(f"duplicate choice(s) {', '.join(map(repr, repeated))} in {choices!r}")
    return choices


def answer_field(record: dict, choices: list[str]) -> str:
    answer = record["answer"]
    if answer not in choices:
        raise RecordError(f"answer {answer!r} is not one of the choices {choices!r}")
    return answer


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
    """A checked 16 kHz mono waveform of an audio file; AudioError when unusable."""
    waveform, sample_rate = decode_audio(path)
    check_waveform(waveform, sample_rate, max_duration_s)
    return to_mono_16k(waveform, sample_rate)


def _forget_previous_rejects(out_dir: Path, source: str) -> None:
    """A re-import replaces this source's reject lines; other sources' lines stay."""
    path = out_dir / REJECTS_FILE
    if path.exists():
        kept = [line for line in read_rejects(out_dir) if line.get("source") != source]
        path.write_text("".join(json.dumps(line) + "\n" for line in kept))
