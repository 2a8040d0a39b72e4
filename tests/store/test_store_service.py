"""The cluster store: one named actor per store, batched, shared by every process, and
nothing it acknowledged is lost when it restarts."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import ray

from audiorouter.config import ReasonerConfig, ToolsConfig
from audiorouter.contracts import ReasonerOutcome, ReasonerRequest, ToolResult
from audiorouter.reasoner.memo import MemoisedReasoner, build_reasoner
from audiorouter.store import open_outcome_memo, open_tool_cache
from audiorouter.store.client import RemoteStore, ServiceOutcomeMemo, ServiceToolCache
from audiorouter.store.outcome_memo import OutcomeMemo
from audiorouter.store.service import KINDS, NAMESPACE, service_name, start_service, stop_service
from audiorouter.store.tool_cache import ToolCache


@pytest.fixture(autouse=True)
def services(ray_session):
    yield
    for kind in KINDS:
        stop_service(kind)


def tone() -> np.ndarray:
    t = np.arange(16000) / 16000
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def request(item_id: str, evidence: list | None = None) -> ReasonerRequest:
    return ReasonerRequest(item_id, tone(), 16000, "Which note is played?", ["A4", "C5", "E5", "G4"], "A4",
                           list(evidence or []))


def pitch_result() -> ToolResult:
    return ToolResult(tool="pitch", version="1", ok=True, summary="median pitch A4 (440.0 Hz)")


def outcome(item: str, correct: bool = True) -> ReasonerOutcome:
    return ReasonerOutcome(item, 1, [0.0, 1.0], correct, "B", 1.0)


def test_factories_choose_the_store_by_config(tmp_path):
    local = ReasonerConfig(memo_path=str(tmp_path / "m.sqlite"))
    assert isinstance(open_outcome_memo(local), OutcomeMemo)
    assert isinstance(open_tool_cache(ToolsConfig(cache_dir=str(tmp_path / "t"))), ToolCache)
    remote = ReasonerConfig(memo_path=str(tmp_path / "m.sqlite"), memo_store="service")
    assert isinstance(open_outcome_memo(remote), ServiceOutcomeMemo)
    cache = open_tool_cache(ToolsConfig(cache_dir=str(tmp_path / "t"), cache_store="service"))
    assert isinstance(cache, ServiceToolCache)
    assert open_outcome_memo(ReasonerConfig(memo_path="", memo_store="service")) is None


@ray.remote
def read_in_another_process(path: str, keys: list) -> dict:
    return ServiceOutcomeMemo(path).get_many(keys)


def test_outcomes_are_shared_by_every_process_and_kept_in_the_head_file(tmp_path):
    path = str(tmp_path / "memo.sqlite")
    memo = ServiceOutcomeMemo(path)
    keys = [("ref", f"item-{i}", "none") for i in range(5)]
    memo.put_many([(k, outcome(k[1])) for k in keys])
    elsewhere = ray.get(read_in_another_process.remote(path, keys + [("ref", "unknown", "none")]))
    assert elsewhere == {k: outcome(k[1]) for k in keys}
    assert len(memo) == 5
    assert len(OutcomeMemo(path)) == 5  # the service's file is the single-machine format
    info = ray.get(ray.get_actor(service_name("outcomes"), namespace=NAMESPACE).info.remote())
    assert info["node_id"] == ray.get_runtime_context().get_node_id()  # the head (the only node here)
    assert info["calls"]["entries_written"] == 5


def test_the_local_cache_saves_round_trips_and_stays_bounded(tmp_path):
    store = RemoteStore("outcomes", str(tmp_path / "memo.sqlite"), local_entries=3)
    entries = [(("ref", f"i{i}", "none"), outcome(f"i{i}")) for i in range(5)]
    store.put_many(entries)
    assert len(store._local) == 3  # the most recent three
    found = store.get_many([k for k, _ in entries])
    assert found == dict(entries)
    assert store.counts["local_hits"] == 3 and store.counts["remote_hits"] == 2 and store.counts["misses"] == 0
    store.get_many([("ref", "i4", "none")])
    assert store.counts["local_hits"] == 4
    assert len(store._local) == 3


def test_a_running_service_with_another_file_is_refused(tmp_path):
    start_service("outcomes", str(tmp_path / "a.sqlite"))
    with pytest.raises(ValueError, match="a.sqlite"):
        start_service("outcomes", str(tmp_path / "b.sqlite"))
    with pytest.raises(ValueError, match="absolute"):
        start_service("outcomes", "runs/memo.sqlite")


def test_no_acknowledged_outcome_is_lost_when_the_service_restarts(tmp_path):
    path = str(tmp_path / "memo.sqlite")
    acknowledged: list[tuple] = []
    errors: list[BaseException] = []

    def writer() -> None:
        memo = ServiceOutcomeMemo(path)
        try:
            for batch in range(40):
                keys = [("ref", f"b{batch}-{i}", "none") for i in range(25)]
                memo.put_many([(k, outcome(k[1])) for k in keys])
                acknowledged.extend(keys)  # put_many returned: the service committed them
                time.sleep(0.02)
        except BaseException as exc:  # the test fails on it below
            errors.append(exc)

    start_service("outcomes", path)
    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 200:
        time.sleep(0.01)
    handle = ray.get_actor(service_name("outcomes"), namespace=NAMESPACE)
    pid_before = ray.get(handle.info.remote())["pid"]
    ray.kill(handle, no_restart=False)  # Ray restarts it; the writer's calls are retried
    thread.join(timeout=120)
    assert not thread.is_alive() and not errors
    assert ray.get(handle.info.remote())["pid"] != pid_before  # it really restarted
    assert len(acknowledged) == 1000
    assert set(ServiceOutcomeMemo(path).get_many(acknowledged)) == set(acknowledged)


def test_a_stopped_service_is_started_again_and_finds_its_file(tmp_path):
    path = str(tmp_path / "memo.sqlite")
    memo = ServiceOutcomeMemo(path)
    memo.put_many([(("ref", "kept", "none"), outcome("kept"))])
    assert stop_service("outcomes")
    fresh = ServiceOutcomeMemo(path)
    assert fresh.get_many([("ref", "kept", "none")]) == {("ref", "kept", "none"): outcome("kept")}
    assert memo.get_many([("ref", "kept", "none")])  # the old client looks the new one up (local hit here)
    assert len(memo) == 1  # ... and a call that must reach the service works too


@ray.remote
def answer_in_another_process(config: ReasonerConfig, requests) -> dict:
    reasoner = build_reasoner(config)
    reasoner.answer(requests)
    return reasoner.stats()


def test_a_memoised_reasoner_on_the_service_never_recomputes_an_outcome(tmp_path):
    config = ReasonerConfig(memo_path=str(tmp_path / "memo.sqlite"), memo_store="service")
    config.validate()
    requests = [request("i1"), request("i1", evidence=[pitch_result()]), request("i2")]
    reasoner = build_reasoner(config)
    assert isinstance(reasoner, MemoisedReasoner)
    first = reasoner.answer(requests)
    assert reasoner.stats() == {"requested": 3, "answered_by_model": 3}
    assert ray.get(answer_in_another_process.remote(config, requests)) == {"requested": 3, "answered_by_model": 0}
    assert build_reasoner(config).answer(requests) == first


def test_tool_results_through_the_service(tmp_path):
    from audiorouter.tool_execution.runner import ToolRunner

    tools = ToolsConfig(cache_dir=str(tmp_path / "tools"), cache_store="service", enabled=["loudness"])
    tools.validate()
    runner = ToolRunner.from_config(tools)
    wave = tone()
    try:
        first = runner.run_with_cache_flags(wave, 16000, ["loudness", "no-such-tool"])
        again = runner.run_with_cache_flags(wave, 16000, ["loudness"])
    finally:
        runner.close()
    assert first[0][0].ok and not first[0][1] and not first[1][0].ok
    assert again == [(first[0][0], True)]
    assert ToolCache(tools.cache_dir).count() == 1  # failures are not stored, as in the local file
    cache = ServiceToolCache(tools.cache_dir)
    cache.put("clip", ToolResult("pitch", "1", False, error="timeout"))
    assert cache.count() == 1


def test_the_store_command_shows_and_stops_the_services(tmp_path, capsys):
    import json

    from audiorouter.cli.main import main

    ServiceOutcomeMemo(str(tmp_path / "memo.sqlite")).put_many([(("ref", "x", "none"), outcome("x"))])
    assert main(["store", "info"]) == 0
    shown = {row["kind"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert shown["outcomes"]["running"] and shown["outcomes"]["rows"] == 1
    assert shown["outcomes"]["path"] == str(tmp_path / "memo.sqlite")
    assert not shown["tool_results"]["running"]
    assert main(["store", "stop"]) == 0
    assert capsys.readouterr().out.splitlines() == ["outcomes: stopped", "tool_results: not running"]
