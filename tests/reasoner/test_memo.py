"""Outcome memoisation: a second evaluation asks the model nothing."""

import multiprocessing

import pytest
from reasoner_helpers import model_config, pitch_result, request

from audiorouter.contracts import ToolResult
from audiorouter.reasoner import MemoisedReasoner, build_reasoner
from audiorouter.store.outcome_memo import OutcomeMemo


@pytest.fixture
def counted(tiny_checkpoints, tmp_path):
    """A memoised tiny cascade whose model calls are counted."""
    config = model_config("cascade", tiny_checkpoints["causal_lm"], memo_path=str(tmp_path / "memo.sqlite"))
    reasoner = build_reasoner(config)
    calls = []
    real = reasoner.backend.answer_valid
    reasoner.backend.answer_valid = lambda reqs, texts: calls.append(len(reqs)) or real(reqs, texts)
    return reasoner, calls, config


def evaluation():
    tempo = ToolResult("tempo", "1", True, "tempo 90 BPM")
    return [request("i1"), request("i1", evidence=[pitch_result()]), request("i2", evidence=[pitch_result(), tempo])]


def test_second_evaluation_makes_no_model_call(counted):
    reasoner, calls, _ = counted
    assert isinstance(reasoner, MemoisedReasoner)
    first = reasoner.answer(evaluation())
    assert calls == [3] and len(reasoner.memo) == 3
    second = reasoner.answer(evaluation())
    assert calls == [3]
    assert second == first


def test_only_misses_reach_the_model_and_evidence_order_does_not_matter(counted):
    reasoner, calls, _ = counted
    reasoner.answer(evaluation()[:2])
    tempo = ToolResult("tempo", "1", True, "tempo 90 BPM", elapsed_ms=5.0)
    reordered = request("i2", evidence=[tempo, pitch_result()])
    reasoner.answer([evaluation()[0], reordered, request("i3")])
    reasoner.answer(evaluation())
    assert calls == [2, 2]


def test_errors_are_not_memoised(counted):
    reasoner, calls, _ = counted
    bad = request("bad", choices=["x", "x"], answer=None)
    bad_evidence = request("bad-evidence", evidence=["not a ToolResult"])
    assert all(o.error for o in reasoner.answer([bad, bad_evidence])) and len(reasoner.memo) == 0


def _answer_in_child(config, queue):
    reasoner = build_reasoner(config)
    outcomes = reasoner.answer(evaluation())
    queue.put([o.chosen_index for o in outcomes])


def test_memo_is_shared_across_processes(counted):
    reasoner, calls, config = counted
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_answer_in_child, args=(config, queue))
    child.start()
    chosen = queue.get(timeout=120)
    child.join(timeout=60)
    assert [o.chosen_index for o in reasoner.answer(evaluation())] == chosen
    assert calls == []  # everything came from the file the child wrote


def test_memo_keys_include_the_reasoner_id(tmp_path):
    memo = OutcomeMemo(tmp_path / "m.sqlite")
    from audiorouter.contracts import ReasonerOutcome

    outcome = ReasonerOutcome("i", 1, [0.0, 1.0], True, "p", 2.0)
    memo.put_many([(("r1", "i", "none"), outcome)])
    assert memo.get_many([("r1", "i", "none"), ("r2", "i", "none")]) == {("r1", "i", "none"): outcome}
    assert OutcomeMemo(tmp_path / "m.sqlite").get_many([("r1", "i", "none")])[("r1", "i", "none")] == outcome
