"""The evidence source's local memo: outcomes already asked are not asked again, and
the eval's predictions read their chosen answers from it (reasoner calls isolated)."""

from __future__ import annotations

from audiorouter.config import ReasonerConfig, ToolsConfig
from audiorouter.contracts import ReasonerOutcome
from audiorouter.outcomes.pipeline import PipelineOutcomeSource, PipelineSourceSpec


def counting_source(local_memo: bool) -> tuple[PipelineOutcomeSource, list]:
    spec = PipelineSourceSpec("unused", ("test",), ("a", "b"), ToolsConfig(), ReasonerConfig(), use_actors=False,
                              local_memo=local_memo)
    source, asked = PipelineOutcomeSource(spec), []
    source.request = lambda item_id, subset: (item_id, subset)

    def ask(requests):  # the answer is choice 1 exactly when the pitch tool was used
        asked.extend(requests)
        return [ReasonerOutcome(i, int("pitch" in s), [0.0, 1.0], "pitch" in s, "", 0.0) for i, s in requests]

    source.ask = ask
    return source, asked


def test_answers_of_pairs_already_asked_cost_no_call():
    source, asked = counting_source(local_memo=True)
    source.outcomes(["a", "b"], [("pitch",), ("tempo",)])
    calls = len(asked)
    assert source.answers(["a", "b"], [("pitch",), ("tempo",)]) == [(1, True), (0, False)]
    assert len(asked) == calls
    assert source.answers(["a"], [("loudness",)]) == [(0, False)] and len(asked) == calls + 1  # a new pair is asked


def test_without_the_local_memo_answers_are_asked_again():
    source, asked = counting_source(local_memo=False)
    source.outcomes(["a"], [("pitch",)])
    calls = len(asked)
    assert source.answers(["a"], [("pitch",)]) == [(1, True)] and len(asked) == calls + 1


def test_tool_times_come_from_the_results_already_run():
    from audiorouter.contracts import ToolResult
    from audiorouter.outcomes.pipeline import LoadedItem

    spec = PipelineSourceSpec("unused", ("test",), ("a",), ToolsConfig(), ReasonerConfig(), use_actors=False)
    source, runs = PipelineOutcomeSource(spec), []
    source.items = lambda: {"a": LoadedItem(None, 16_000, "q?", ["x", "y"], "x")}

    class Runner:
        def run(self, waveform, sample_rate, tools):
            runs.append(list(tools))
            return [ToolResult(t, "1", True, "s", elapsed_ms=10.0 * (k + 1)) for k, t in enumerate(tools)]

    source.runner = Runner
    source.request("a", ("pitch", "tempo"))  # what an outcome asks runs these two tools
    assert source.tool_ms(["a"], ["pitch", "tempo"]).tolist() == [[10.0, 20.0]]
    assert runs == [["pitch", "tempo"]]  # no second run
    assert source.tool_ms(["a"], ["loudness", "pitch"]).tolist() == [[10.0, 10.0]]
    assert runs[-1] == ["loudness"]  # only the tool never run


def test_a_tool_crashing_in_a_rollout_worker_is_an_error_result_and_is_reported():
    """Rollout workers run tools missing from the cache in place (ToolRunner): a segfault
    becomes error evidence, the tool is disabled, and the source reports it."""
    from pathlib import Path

    from audiorouter.outcomes.pipeline import LoadedItem
    from audiorouter.tools.probe_signals import SR, pure_tone

    doubles = str(Path(__file__).resolve().parents[1] / "tool_execution" / "tool_doubles.py")
    tools = ToolsConfig(cache_dir="", plugins=[doubles], max_crashes=1)
    spec = PipelineSourceSpec("unused", ("test",), ("a",), tools, ReasonerConfig(), use_actors=False,
                              disabled_tools={"sound_tags": "crashed 3 times; last: ..."})
    source = PipelineOutcomeSource(spec)
    source.items = lambda: {"a": LoadedItem(pure_tone(), SR, "q?", ["x", "y"], "x")}
    crashed, loudness = source.tool_results("a", ["segfault", "loudness"])
    assert "SIGSEGV" in crashed.error and loudness.ok
    assert set(source.disabled_tools()) == {"segfault", "sound_tags"}
    assert source.stats()["tools_disabled"] == 2 and source.stats()["tool_crashes"] == 1
    source.runner().close()


def test_it_counts_the_distinct_requests_and_tool_runs_it_caused():
    """The study's calls axis: a request asked again (the local memo off) costs a run that
    starts with an empty memo nothing more, nor does a tool result run again."""
    from audiorouter.contracts import ToolResult
    from audiorouter.outcomes.pipeline import LoadedItem

    spec = PipelineSourceSpec("unused", ("test",), ("a", "b"), ToolsConfig(), ReasonerConfig(), use_actors=False,
                              local_memo=False)
    source = PipelineOutcomeSource(spec)
    source.items = lambda: {i: LoadedItem(None, 16_000, "q?", ["x", "y"], "x") for i in ("a", "b")}

    class Runner:
        def run(self, waveform, sample_rate, tools):
            return [ToolResult(t, "1", True, "s", elapsed_ms=1.0) for t in tools]

    class Reasoner:
        def answer(self, requests):
            return [ReasonerOutcome(r.item_id, 0, [1.0, 0.0], True, "", 0.0) for r in requests]

    source.runner, source._reasoner = Runner, Reasoner()
    source.outcomes(["a", "b"], [("pitch",), ("pitch", "tempo")])  # and each item without evidence
    source.outcomes(["a"], [("pitch",)])
    stats = source.stats()
    assert stats["reasoner_requests"] == 6 and stats["distinct_requests"] == 4
    assert stats["distinct_tool_runs"] == 3
