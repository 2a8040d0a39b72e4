"""A store's rows as append-only text shards, so computed work outlives a machine.

A study may run over several sessions on machines that keep nothing but the repository.
``write_new_rows`` writes the rows that no shard of a folder holds yet into the next
``part-NNNN.jsonl.gz`` (one JSON object per line, the fields a ``ShardFormat`` names);
``check_folder`` reads every shard of a folder, checking every value of every line
(``store.row_check``: types, finite numbers, bounded strings and rows), before a caller
puts any of them into its store with ``iter_rows`` in chunks, so an import holds one
chunk and one line (at most ``MAX_ROW_CHARS``) in memory, whatever the shard holds.
A shard with no rows (0 bytes, or a gzip header and nothing else) is damaged: an export
never writes one. Shards are never rewritten, so a repository that keeps them stores
each row once. Two stores use it: the outcome memo (``memo_shards``) and the tool cache
(``tool_cache_shards``).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from audiorouter.state_files import StateFileError
from audiorouter.store.row_check import MAX_ROW_CHARS, build_checked

SHARD_PATTERN = re.compile(r"^part-(\d{4})\.jsonl\.gz$")
MAX_KEY_CHARS = 1_024  # ids, fingerprints and hashes are tens of characters
CHUNK_ROWS = 2_000  # rows put into a store per transaction on import


class ShardError(StateFileError):
    """A shard that cannot be read: names the file, the line and the problem."""

    def __init__(self, role: str, path: Path, problem: str) -> None:
        super().__init__(f"{role} shard", path, problem,
                         "Restore it (git checkout -- <file>) or move it aside: its rows are then computed again")


@dataclass(frozen=True)
class ShardFormat:
    """One store's rows: a key of string fields and a dataclass value, one JSON object per
    line (``key_fields`` then ``value_field``); ``check(key, value)``, when given, raises
    ``ValueError`` for a well-typed value that does not belong under its key or is out of
    its range."""

    role: str  # the store, for messages: "outcome memo", "tool cache"
    key_fields: tuple[str, ...]
    value_field: str
    value_type: type
    value_noun: str  # for messages: "a reasoner outcome"
    check: Callable[[tuple[str, ...], Any], None] | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.key_fields, self.value_field)

    def encode(self, key: tuple[str, ...], value: Any) -> dict[str, Any]:
        return dict(zip(self.key_fields, key, strict=True)) | {self.value_field: asdict(value)}

    def decode(self, row: dict[str, Any]) -> tuple[tuple[str, ...], Any]:
        key = tuple(row[name] for name in self.key_fields)
        if not all(isinstance(part, str) and part for part in key):
            raise ValueError(f"{', '.join(self.key_fields[:-1])} and {self.key_fields[-1]} must be non-empty strings")
        if sum(map(len, key)) > MAX_KEY_CHARS:
            raise ValueError(f"the key is longer than {MAX_KEY_CHARS} characters")
        try:
            value = build_checked(self.value_type, row[self.value_field], self.value_field)
        except ValueError as err:
            raise ValueError(f"{self.value_field} is not {self.value_noun}: {err}") from err
        if self.check:
            self.check(key, value)
        return key, value


def shard_paths(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if SHARD_PATTERN.match(p.name))


def iter_shard(path: Path, form: ShardFormat) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The checked rows of one shard, one line at a time (a bad line raises ``ShardError``)."""
    rows = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            while line := lines.readline(MAX_ROW_CHARS + 1):
                rows += 1
                if len(line) > MAX_ROW_CHARS:  # stop reading: the rest of the line is never held
                    raise ShardError(form.role, path, f"line {rows}: longer than {MAX_ROW_CHARS} characters")
                yield _parse_row(path, form, rows, line)
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ShardError(form.role, path, f"cannot be read ({err})") from err
    if rows == 0:
        raise ShardError(form.role, path, "holds no rows (an export never writes an empty shard)")


def _parse_row(path: Path, form: ShardFormat, number: int, line: str) -> tuple[tuple[str, ...], Any]:
    where = f"line {number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise ShardError(form.role, path, f"{where}: not JSON ({err.msg})") from err
    except RecursionError as err:
        raise ShardError(form.role, path, f"{where}: nested too deeply") from err
    if not isinstance(row, dict) or set(row) != set(form.fields):
        raise ShardError(form.role, path, f"{where}: expected an object with exactly {', '.join(form.fields)}")
    try:
        return form.decode(row)
    except (ValueError, TypeError) as err:
        raise ShardError(form.role, path, f"{where}: {err}") from err


def iter_rows(folder: str | Path, form: ShardFormat) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every row of every shard in ``folder``, checked as it is read."""
    for path in shard_paths(folder):
        yield from iter_shard(path, form)


def check_folder(folder: str | Path, form: ShardFormat) -> int:
    """Read and check every row of every shard in ``folder`` without keeping them; returns
    how many there are (a bad line raises ``ShardError`` before anything is stored)."""
    return sum(1 for _ in iter_rows(folder, form))


def import_rows(folder: str | Path, form: ShardFormat,
                put_missing: Callable[[list[tuple[tuple[str, ...], Any]]], int]) -> int:
    """Check every shard of ``folder``, then hand its rows to ``put_missing`` in chunks of
    ``CHUNK_ROWS``; returns the sum of what it added."""
    check_folder(folder, form)
    added, chunk = 0, []
    for row in iter_rows(folder, form):
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            added += put_missing(chunk)
            chunk = []
    return added + (put_missing(chunk) if chunk else 0)


def write_new_rows(rows: Iterable[tuple[tuple[str, ...], Any]], folder: str | Path,
                   form: ShardFormat) -> tuple[Path | None, int]:
    """Write the rows whose key no shard in ``folder`` holds into a new shard; returns
    (its path, rows), or (None, 0) when every row is already in a shard."""
    folder = Path(folder)
    known = {key for key, _ in iter_rows(folder, form)}
    new = sorted(((key, value) for key, value in rows if key not in known), key=lambda row: row[0])
    if not new:
        return None, 0
    existing = shard_paths(folder)
    number = int(SHARD_PATTERN.match(existing[-1].name).group(1)) + 1 if existing else 0
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{number:04d}.jsonl.gz"
    partial = path.with_name(path.name + ".partial")  # a cut-off export leaves no shard behind
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        for key, value in new:
            out.write(json.dumps(form.encode(key, value), sort_keys=True) + "\n")
    partial.rename(path)
    return path, len(new)
