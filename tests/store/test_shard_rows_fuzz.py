"""Shard imports check every value of every row before anything is stored (the bugs: an
outcome's ``chosen_index`` of "two" and a result's ``ok`` of "yes" were imported, a 300 MB
string inside a 0.3 MB shard was read whole and stored, a 0-byte shard passed as empty).

Hypothesis damages one field of a valid row at a time, in every field of both stores'
rows, with values of the wrong type, out of range, oversized or nested too deeply; the
only documented outcome is a ``ShardError`` naming the file and line, with the store left
empty. A valid row mutated into another valid row must import.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import tracemalloc

import pytest
from fuzz_strategies import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from audiorouter.contracts import ReasonerOutcome, ToolResult
from audiorouter.store import OutcomeMemo, ToolCache, memo_shards, tool_cache_shards
from audiorouter.store.row_check import MAX_JSON_DEPTH, MAX_ROW_CHARS, MAX_TEXT_CHARS
from audiorouter.store.shards import ShardError

OUTCOME = ReasonerOutcome("item-1", 1, [0.2, 0.7, 0.1], True, "Question: which?", 12.5)
RESULT = ToolResult("pitch", "2", True, "A4 (440.0 Hz)", {"notes": [{"t": 0.0, "hz": 440.0}]}, None, 3.5)
MEMO_ROW = {"reasoner_id": "cascade:m", "item_id": "item-1", "evidence": "fp", "outcome": dataclasses.asdict(OUTCOME)}
CACHE_ROW = {"clip": "abc123", "tool": "pitch", "version": "2", "result": dataclasses.asdict(RESULT)}

wrong_scalars = st.sampled_from(["two", "yes", "", 1.5, -3, 2**70, True, False, None, [], {}, [1], {"a": 1},
                                 float("nan"), float("inf")])


def _write(folder, rows: list[dict]) -> None:
    folder.mkdir(exist_ok=True)
    with gzip.open(folder / "part-0000.jsonl.gz", "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")


STORES = {
    "memo": (MEMO_ROW, "outcome", lambda d: OutcomeMemo(d / "memo.sqlite"), memo_shards.import_shards),
    "cache": (CACHE_ROW, "result", lambda d: ToolCache(d / "cache"), tool_cache_shards.import_shards),
}


def _import(tmp_path_factory, store: str, rows: list[dict]):
    row, _, open_store, import_shards = STORES[store]
    folder = tmp_path_factory.mktemp("shards")
    _write(folder / "in", rows)
    target = open_store(folder)
    try:
        return import_shards(target, folder / "in"), len(target)
    except ShardError as err:
        assert "part-0000.jsonl.gz" in str(err) and "line " in str(err)
        assert len(target) == 0  # checked before anything is stored
        raise


def _is_valid(store: str, field: str, value) -> bool:
    """The few substitutions that still make a valid row (a checker's job is to let them in)."""
    if store == "memo":
        ok = {"chosen_index": lambda v: type(v) is int and -1 <= v < 3,
              "correct": lambda v: v is None or type(v) is bool,
              "latency_ms": lambda v: type(v) in (int, float) and 0 <= v < float("inf"),
              "prompt": lambda v: type(v) is str, "generated": lambda v: type(v) is str,
              "item_id": lambda v: v == "item-1", "error": lambda v: v is None}
    else:
        ok = {"ok": lambda v: v is True, "summary": lambda v: type(v) is str, "error": lambda v: v is None,
              "elapsed_ms": lambda v: type(v) in (int, float) and 0 <= v < float("inf"),
              "data": lambda v: type(v) is dict and all(type(x) is not float or x == x and abs(x) != float("inf")
                                                         for x in v.values())}
    return field in ok and ok[field](value)


@pytest.mark.parametrize("store", STORES)
@FUZZ
@given(data=st.data())
def test_one_damaged_value_in_any_field_is_refused_by_file_and_line(tmp_path_factory, store, data):
    row, value_field, _, _ = STORES[store]
    field = data.draw(st.sampled_from(sorted(row[value_field])), label="field")
    value = data.draw(wrong_scalars, label="value")
    damaged = json.loads(json.dumps(row))
    damaged[value_field][field] = value
    if _is_valid(store, field, value):
        assert _import(tmp_path_factory, store, [row | {}, damaged])[0] >= 1
        return
    with pytest.raises(ShardError):
        _import(tmp_path_factory, store, [row, damaged])


@pytest.mark.parametrize("store", STORES)
@FUZZ
@given(data=st.data())
def test_damaged_keys_extra_fields_and_missing_fields_are_refused(tmp_path_factory, store, data):
    row, value_field, _, _ = STORES[store]
    damaged = json.loads(json.dumps(row))
    how = data.draw(st.sampled_from(["key", "extra", "missing", "value not an object"]), label="how")
    if how == "key":
        key = data.draw(st.sampled_from([k for k in row if k != value_field]), label="key")
        damaged[key] = data.draw(st.sampled_from(["", 7, None, ["a"], "k" * 2000]), label="key value")
    elif how == "extra":
        damaged[value_field]["surprise"] = 1
    elif how == "missing":
        required = [f.name for f in dataclasses.fields(OUTCOME if store == "memo" else RESULT)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        del damaged[value_field][data.draw(st.sampled_from(required), label="dropped")]
    else:
        damaged[value_field] = data.draw(wrong_scalars.filter(lambda v: not isinstance(v, dict)), label="value")
    with pytest.raises(ShardError):
        _import(tmp_path_factory, store, [row, damaged])


@pytest.mark.parametrize("problem, mutate", [
    ("scores", lambda r: r["outcome"].update(scores=[])),
    ("chosen_index 3", lambda r: r["outcome"].update(chosen_index=3)),
    ("chosen_index -2", lambda r: r["outcome"].update(chosen_index=-2)),
    ("item_id", lambda r: r["outcome"].update(item_id="another")),
    ("error", lambda r: r["outcome"].update(error="timed out")),
    ("negative", lambda r: r["outcome"].update(latency_ms=-1.0)),
    ("must be a number", lambda r: r["outcome"].update(scores=[0.1, "x", 0.3])),
    ("must be finite", lambda r: r["outcome"].update(scores=[0.1, float("nan"), 0.3])),
    ("characters, more than", lambda r: r["outcome"].update(prompt="p" * (MAX_TEXT_CHARS + 1))),
])
def test_memo_values_out_of_range(tmp_path_factory, problem, mutate):
    row = json.loads(json.dumps(MEMO_ROW))
    mutate(row)
    with pytest.raises(ShardError, match=problem):
        _import(tmp_path_factory, "memo", [row])


@pytest.mark.parametrize("problem, mutate", [
    ("not an ok result", lambda r: r["result"].update(ok=False)),
    ("not an ok result", lambda r: r["result"].update(tool="tempo")),
    ("must be true or false", lambda r: r["result"].update(ok="yes")),
    ("nested deeper", lambda r: r["result"].update(data=_nested(MAX_JSON_DEPTH + 2))),
    ("must be finite", lambda r: r["result"].update(data={"hz": [440.0, float("inf")]})),
    ("negative", lambda r: r["result"].update(elapsed_ms=-0.5)),
])
def test_tool_result_values_out_of_range(tmp_path_factory, problem, mutate):
    row = json.loads(json.dumps(CACHE_ROW))
    mutate(row)
    with pytest.raises(ShardError, match=problem):
        _import(tmp_path_factory, "cache", [row])


def _nested(depth: int) -> dict:
    tree: dict = {"leaf": 1}
    for _ in range(depth):
        tree = {"next": tree}
    return tree


@pytest.mark.parametrize("store", STORES)
def test_a_0_byte_or_header_only_shard_is_damaged(tmp_path, store):
    _, _, open_store, import_shards = STORES[store]
    folder = tmp_path / "in"
    folder.mkdir()
    shard = folder / "part-0000.jsonl.gz"
    for content in (b"", gzip.compress(b"")):
        shard.write_bytes(content)
        with pytest.raises(ShardError, match="part-0000.jsonl.gz.*(holds no rows|cannot be read)"):
            import_shards(open_store(tmp_path), folder)


def test_a_huge_line_in_a_small_shard_is_refused_without_reading_it_whole(tmp_path):
    """64 MB of one string compresses to ~64 KB; reading it is bounded by ``MAX_ROW_CHARS``."""
    row = json.loads(json.dumps(MEMO_ROW))
    row["outcome"]["prompt"] = "a" * (64 << 20)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "part-0000.jsonl.gz").write_bytes(gzip.compress(json.dumps(row).encode(), compresslevel=1))
    del row
    memo = OutcomeMemo(tmp_path / "memo.sqlite")
    tracemalloc.start()
    try:
        with pytest.raises(ShardError, match=f"line 1: longer than {MAX_ROW_CHARS} characters"):
            memo_shards.import_shards(memo, folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MAX_ROW_CHARS, peak  # a few copies of one bounded line, never the 64 MB
    assert len(memo) == 0


def test_many_rows_import_in_chunks_and_all_arrive(tmp_path, monkeypatch):
    from audiorouter.store import shards

    monkeypatch.setattr(shards, "CHUNK_ROWS", 7)
    rows = [{**MEMO_ROW, "item_id": f"i{n}", "outcome": {**MEMO_ROW["outcome"], "item_id": f"i{n}"}} for n in range(50)]
    _write(tmp_path / "in", rows)
    memo = OutcomeMemo(tmp_path / "memo.sqlite")
    assert memo_shards.import_shards(memo, tmp_path / "in") == 50 and len(memo) == 50
