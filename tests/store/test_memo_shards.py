"""Memo shards: export only what no shard holds, import only what the memo lacks, refuse
a damaged shard by file and line before touching the memo, and the CLI around them."""

from __future__ import annotations

import gzip
import json

import pytest

from audiorouter.cli.main import main
from audiorouter.config import ConfigError, load_config
from audiorouter.contracts import ReasonerOutcome
from audiorouter.store import OutcomeMemo, seed_outcome_memo
from audiorouter.store.memo_shards import export_new, import_shards
from audiorouter.store.shards import ShardError, shard_paths


def outcome(item: str, chosen: int = 1) -> ReasonerOutcome:
    return ReasonerOutcome(item, chosen, [0.0, 1.0], chosen == 1, f"prompt of {item}", 12.5)


def filled(path, items) -> OutcomeMemo:
    memo = OutcomeMemo(path)
    memo.put_many([(("cascade:m", item, "fp-" + item), outcome(item)) for item in items])
    return memo


def test_export_writes_only_new_rows_and_import_restores_them(tmp_path):
    shards = tmp_path / "shards"
    memo = filled(tmp_path / "a.sqlite", ["i1", "i2"])
    first, rows = export_new(memo, shards)
    assert first.name == "part-0000.jsonl.gz" and rows == 2
    assert export_new(memo, shards) == (None, 0)  # nothing new: no empty shard
    memo.put_many([(("cascade:m", "i3", "fp-i3"), outcome("i3", 0))])
    second, rows = export_new(memo, shards)
    assert second.name == "part-0001.jsonl.gz" and rows == 1
    assert [p.name for p in shard_paths(shards)] == ["part-0000.jsonl.gz", "part-0001.jsonl.gz"]

    fresh = filled(tmp_path / "b.sqlite", ["i1"])
    fresh.put_many([(("cascade:m", "i1", "fp-i1"), outcome("i1", 0))])  # a row it has is kept as it is
    assert import_shards(fresh, shards) == 2
    got = fresh.get_many([("cascade:m", "i1", "fp-i1"), ("cascade:m", "i3", "fp-i3"), ("cascade:m", "i2", "fp-i2")])
    assert got[("cascade:m", "i1", "fp-i1")].chosen_index == 0
    assert got[("cascade:m", "i3", "fp-i3")] == outcome("i3", 0)
    assert got[("cascade:m", "i2", "fp-i2")] == outcome("i2")
    assert import_shards(fresh, shards) == 0 and len(fresh) == 3


@pytest.mark.parametrize("line, problem", [
    ("{not json", "line 2: not JSON"),
    (json.dumps({"reasoner_id": "r", "item_id": "i"}), "line 2: expected an object with exactly"),
    (json.dumps({"reasoner_id": "r", "item_id": 3, "evidence": "e", "outcome": {}}), "line 2: reasoner_id"),
    (json.dumps({"reasoner_id": "r", "item_id": "i", "evidence": "e", "outcome": {"x": 1}}),
     "line 2: outcome is not a reasoner outcome"),
])
def test_a_damaged_shard_is_named_and_the_memo_is_left_alone(tmp_path, line, problem):
    shards = tmp_path / "shards"
    export_new(filled(tmp_path / "a.sqlite", ["i1"]), shards)
    bad = shards / "part-0001.jsonl.gz"
    good = gzip.open(shards / "part-0000.jsonl.gz", "rt").read()
    with gzip.open(bad, "wt") as out:
        out.write(good + line + "\n")
    memo = OutcomeMemo(tmp_path / "b.sqlite")
    with pytest.raises(ShardError, match=problem) as raised:
        import_shards(memo, shards)
    assert str(bad) in str(raised.value)
    assert len(memo) == 0  # every shard is checked before any row goes in


def test_a_shard_that_is_not_gzip_is_named(tmp_path):
    (tmp_path / "part-0000.jsonl.gz").write_text("plain text")
    with pytest.raises(ShardError, match="part-0000.jsonl.gz.*cannot be read"):
        import_shards(OutcomeMemo(tmp_path / "m.sqlite"), tmp_path)


def test_seeds_go_into_the_configured_memo_and_need_a_memo_file(tmp_path):
    shards = tmp_path / "shards"
    export_new(filled(tmp_path / "a.sqlite", ["i1", "i2"]), shards)
    config = load_config(None, [f"reasoner.memo_path={tmp_path / 'b.sqlite'}", f"reasoner.memo_seeds={shards}"])
    assert seed_outcome_memo(config.reasoner) == 2
    assert seed_outcome_memo(config.reasoner) == 0
    with pytest.raises(ConfigError, match="memo_seeds needs a file"):
        load_config(None, ["reasoner.memo_path=", f"reasoner.memo_seeds={shards}"])


def test_cli_exports_and_imports(tmp_path, capsys):
    filled(tmp_path / "a.sqlite", ["i1", "i2"]).close()
    shards = tmp_path / "shards"
    assert main(["store", "export-memo", str(shards), "--set", f"reasoner.memo_path={tmp_path / 'a.sqlite'}"]) == 0
    assert "2 new rows written to" in capsys.readouterr().out
    assert main(["store", "import-memo", str(shards), "--set", f"reasoner.memo_path={tmp_path / 'b.sqlite'}"]) == 0
    assert "2 rows added" in capsys.readouterr().out
    (shards / "part-0000.jsonl.gz").write_bytes(b"\x1f\x8b broken")
    assert main(["store", "import-memo", str(shards), "--set", f"reasoner.memo_path={tmp_path / 'c.sqlite'}"]) == 2
    assert "outcome memo shard" in capsys.readouterr().err
