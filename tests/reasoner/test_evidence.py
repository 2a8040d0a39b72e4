from audiorouter.contracts import ToolResult
from audiorouter.reasoner.evidence import (
    HEADER,
    count_tokens,
    evidence_fingerprint,
    render_evidence,
)


def result(tool, summary="", ok=True, error=None, version="1", elapsed_ms=0.0):
    return ToolResult(tool=tool, version=version, ok=ok, summary=summary, error=error, elapsed_ms=elapsed_ms)


def test_no_evidence_renders_empty_and_fingerprints_as_none():
    assert render_evidence([], 256) == ""
    assert evidence_fingerprint("") == "none"


def test_lines_are_in_stable_tool_order_whatever_the_input_order():
    results = [result("tempo", "tempo 120 BPM"), result("loudness", "-23 LUFS"), result("pitch", "A4 (440 Hz)")]
    text = render_evidence(results, 256)
    assert text.splitlines() == [HEADER, "- loudness: -23 LUFS", "- pitch: A4 (440 Hz)", "- tempo: tempo 120 BPM"]
    assert render_evidence(list(reversed(results)), 256) == text


def test_errors_and_empty_summaries_are_rendered_as_such():
    text = render_evidence([result("onsets", ok=False, error="timed out\nafter 60 s"), result("pitch")], 256)
    assert "- onsets: ERROR: timed out after 60 s" in text
    assert "- pitch: (no summary)" in text


def test_fingerprint_ignores_timing_and_order_but_not_content():
    a = [result("pitch", "A4", elapsed_ms=3.0), result("tempo", "90 BPM")]
    b = [result("tempo", "90 BPM", elapsed_ms=99.0), result("pitch", "A4")]
    c = [result("pitch", "A5"), result("tempo", "90 BPM")]
    fp = [evidence_fingerprint(render_evidence(x, 256)) for x in (a, b, c)]
    assert fp[0] == fp[1] != fp[2]


def test_overflow_is_cut_with_a_visible_marker_within_budget():
    long = "word " * 60
    results = [result("a", "short one"), result("b", long), result("c", "never shown")]
    text = render_evidence(results, 40)
    assert count_tokens(text) <= 40
    assert "- a: short one" in text
    assert "[...]" in text  # the cut line
    assert "never shown" not in text
    assert text.splitlines()[-1] == "[evidence truncated: 2 of 3 tool results cut or left out to fit 40 tokens]"


def test_tiny_budget_leaves_lines_out_rather_than_stubs():
    text = render_evidence([result("a", "x " * 30)], 22)
    assert "[...]" not in text and text.endswith("1 of 1 tool results cut or left out to fit 22 tokens]")


def test_block_that_fits_has_no_marker():
    assert "truncated" not in render_evidence([result("a", "one two three")], 12)
