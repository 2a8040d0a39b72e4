"""Tool passes over a small dataset on the tool-executor pool (``tools run`` and the
driver's ``prepare_evidence``), and the ``tools`` CLI."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import ray

from audiorouter.cli.main import main
from audiorouter.config import ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA, AudioQAItem
from audiorouter.data.items import iter_items, write_items
from audiorouter.data.synth import generate_family_items
from audiorouter.tool_execution.batch import run_batch
from audiorouter.tool_execution.item_evidence import prepare_evidence, read_evidence

TOOLS = ["onsets", "segments"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    items = generate_family_items("event_count", 4, 5) + generate_family_items("duration", 3, 5)
    broken = AudioQAItem(id="broken-1", question="?", choices=["a", "b"], answer="a", task="event_count",
                         category="sound", sub_category="x", difficulty="easy", source="test", audio=b"not audio")
    write_items(items[:5], root, "train", shard_size=3)
    write_items(items[5:] + [broken], root, "test")
    return root, {i.id: i for i in items}


def test_batch_writes_evidence_and_reruns_from_the_cache(ray_session, dataset, tmp_path):
    root, items = dataset
    config = ToolsConfig(cache_dir=str(tmp_path / "cache"), batch_size=2)
    out = tmp_path / "evidence.parquet"
    first = run_batch(root, out, TOOLS, config, workers=2)
    table = pq.read_table(out)
    assert table.schema.equals(EVIDENCE_SCHEMA)
    assert (first.items, first.rows, first.cached) == (8, 16, 0)
    rows = [(item, r) for item, results in read_evidence(out).items() for r in results]
    assert {(item, r.tool) for item, r in rows} == {(i, t) for i in [*items, "broken-1"] for t in TOOLS}
    broken = [r for item, r in rows if item == "broken-1"]
    assert all(not r.ok and r.error.startswith("bad clip: unreadable audio") for r in broken)
    for item_id, result in rows:
        if result.tool == "onsets" and item_id.startswith("event_count"):
            assert result.data["count"] == items[item_id].meta["count"]
    assert first.failed == 2 and first.ok == 14

    second = run_batch(root, out, TOOLS, config, workers=1)
    assert second.cached == 14, "every good result comes from the cache"
    again = [(item, r.summary) for item, results in read_evidence(out).items() for r in results]
    assert again == [(i, r.summary) for i, r in rows]


def test_cli_tools_run_and_list(ray_session, dataset, tmp_path, capsys):
    root, _ = dataset
    out = tmp_path / "cli.parquet"
    code = main(["--set", f"tools.cache_dir={tmp_path / 'cache'}", "tools", "run", "--data", str(root),
                 "--tools", "segments", "--split", "test", "--out", str(out), "--workers", "1"])
    assert code == 0 and "wrote 3 results for 3 items" in capsys.readouterr().out
    assert ray.is_initialized(), "the CLI leaves a Ray session it did not start alone"
    assert pq.read_table(out).num_rows == 3
    assert main(["tools", "list"]) == 0
    listing = capsys.readouterr().out
    assert "pitch" in listing and "fault_hang" not in listing
    assert main(["tools", "run", "--data", str(root), "--tools", "nope"]) == 2


def test_the_pool_pass_over_items_reads_the_same_cache_and_reports_bad_clips(ray_session, dataset, tmp_path):
    """prepare_evidence (the driver's and the study's tool pass) runs on the same pool pass
    as run_batch: a bad clip is an error per tool, the rest is computed once."""
    root, items = dataset
    chosen = list(iter_items(root, "test"))
    config = ToolsConfig(cache_dir=str(tmp_path / "cache"), num_actors=1, actor_num_cpus=0.5)
    done = prepare_evidence(config, chosen, TOOLS, root)
    assert done.requested == len(chosen) * len(TOOLS) and len(done.results) == done.requested
    by_item = dict(zip([i.id for i in chosen for _ in TOOLS], done.results, strict=True))
    assert not by_item["broken-1"].ok and by_item["broken-1"].error.startswith("bad clip: unreadable audio")
    assert sum(r.ok for r in done.results) == done.requested - len(TOOLS) and done.started_actors
    rerun = prepare_evidence(config, chosen, TOOLS, root)
    assert rerun.computed == 0 and not rerun.started_actors, "a pass the cache answers starts no tool actor"
    assert [(r.tool, r.ok, r.summary) for r in rerun.results] == [(r.tool, r.ok, r.summary) for r in done.results]
    again = run_batch(root, tmp_path / "e.parquet", TOOLS, config, splits=["test"], workers=1)
    assert again.cached == again.ok == done.requested - len(TOOLS), "the dataset pass reads what the items pass wrote"
