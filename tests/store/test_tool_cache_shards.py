"""Tool-cache shards: export only what no shard holds, import only what the cache lacks
(a result computed here stays), refuse a damaged shard before touching the cache, seed a
study's cache from the configured folder, and the CLI around them."""

from __future__ import annotations

import gzip
import json

import pytest

from audiorouter.cli.main import main
from audiorouter.config import ConfigError, load_config
from audiorouter.contracts import ToolResult
from audiorouter.store import ToolCache, seed_tool_cache
from audiorouter.store.shards import ShardError, shard_paths
from audiorouter.store.tool_cache_shards import export_new, import_shards


def result(tool: str, value: float) -> ToolResult:
    return ToolResult(tool, "1", True, f"{tool} says {value}", {"value": value, "track": [value, None]}, None, 3.5)


def filled(directory, clips, value: float = 1.0) -> ToolCache:
    cache = ToolCache(directory)
    cache.put_many([((clip, tool, "1"), result(tool, value)) for clip in clips for tool in ("pitch", "tempo")])
    return cache


def test_export_writes_only_new_results_and_import_restores_them(tmp_path):
    shards = tmp_path / "shards"
    cache = filled(tmp_path / "a", ["c1", "c2"])
    first, rows = export_new(cache, shards)
    assert first.name == "part-0000.jsonl.gz" and rows == 4
    assert export_new(cache, shards) == (None, 0)  # nothing new: no empty shard
    cache.put_many([(("c3", "pitch", "1"), result("pitch", 3.0))])
    second, rows = export_new(cache, shards)
    assert second.name == "part-0001.jsonl.gz" and rows == 1
    assert [p.name for p in shard_paths(shards)] == ["part-0000.jsonl.gz", "part-0001.jsonl.gz"]

    fresh = filled(tmp_path / "b", ["c1"], value=9.0)  # results it has are kept as they are
    assert import_shards(fresh, shards) == 3
    got = fresh.get_many([("c1", "pitch", "1"), ("c2", "tempo", "1"), ("c3", "pitch", "1")])
    assert got[("c1", "pitch", "1")] == result("pitch", 9.0)
    assert got[("c2", "tempo", "1")] == result("tempo", 1.0)
    assert got[("c3", "pitch", "1")] == result("pitch", 3.0)
    assert import_shards(fresh, shards) == 0 and fresh.count() == 5


@pytest.mark.parametrize("row, problem", [
    ({"clip": "c", "tool": "pitch"}, "line 2: expected an object with exactly"),
    ({"clip": 1, "tool": "pitch", "version": "1", "result": {}}, "line 2: clip, tool and version must be non-empty strings"),
    ({"clip": "c", "tool": "pitch", "version": "1", "result": {"x": 1}}, "line 2: result is not a tool result"),
    ({"clip": "c", "tool": "tempo", "version": "1", "result": json.loads(json.dumps(result("pitch", 1.0).__dict__))},
     "line 2: result is not an ok result of tempo version 1"),
])
def test_a_damaged_shard_is_named_and_the_cache_is_left_alone(tmp_path, row, problem):
    shards = tmp_path / "shards"
    export_new(filled(tmp_path / "a", ["c1"]), shards)
    good = gzip.open(shards / "part-0000.jsonl.gz", "rt").read().splitlines()[0]
    bad = shards / "part-0001.jsonl.gz"
    with gzip.open(bad, "wt") as out:
        out.write(good + "\n" + json.dumps(row) + "\n")
    cache = ToolCache(tmp_path / "b")
    with pytest.raises(ShardError, match=problem) as raised:
        import_shards(cache, shards)
    assert str(bad) in str(raised.value) and "tool cache shard" in str(raised.value)
    assert cache.count() == 0  # every shard is checked before any result goes in


def test_seeds_go_into_the_configured_cache_and_need_a_cache_file(tmp_path):
    shards = tmp_path / "shards"
    export_new(filled(tmp_path / "a", ["c1"]), shards)
    config = load_config(None, [f"tools.cache_dir={tmp_path / 'b'}", f"tools.cache_seeds={shards}"])
    assert seed_tool_cache(config.tools) == 2
    assert seed_tool_cache(config.tools) == 0
    assert seed_tool_cache(load_config(None, [f"tools.cache_dir={tmp_path / 'c'}"]).tools) == 0  # no seeds
    with pytest.raises(ConfigError, match="cache_seeds needs a file to put them in"):
        load_config(None, ["tools.cache_dir=", f"tools.cache_seeds={shards}"])


def test_cli_exports_and_imports(tmp_path, capsys):
    filled(tmp_path / "a", ["c1"])
    shards = tmp_path / "shards"
    assert main(["store", "export-tool-cache", str(shards), "--set", f"tools.cache_dir={tmp_path / 'a'}"]) == 0
    assert "2 new rows written to" in capsys.readouterr().out
    assert main(["store", "import-tool-cache", str(shards), "--set", f"tools.cache_dir={tmp_path / 'b'}"]) == 0
    assert "2 rows added" in capsys.readouterr().out
    (shards / "part-0000.jsonl.gz").write_bytes(b"\x1f\x8b broken")
    assert main(["store", "import-tool-cache", str(shards), "--set", f"tools.cache_dir={tmp_path / 'c'}"]) == 2
    assert "tool cache shard" in capsys.readouterr().err
