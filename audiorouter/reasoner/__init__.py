"""The frozen reasoner: one interface, back-ends chosen by config, memoised outcomes.

    reasoner = build_reasoner(config.reasoner)
    outcomes = reasoner.answer(requests)  # list[ReasonerRequest] -> list[ReasonerOutcome]

Back-ends: ``reference`` (CPU default, reference/), ``cascade`` (text LM + coarse
audio description, cascade.py), ``lalm`` (audio-language models, lalm.py). Evidence is
rendered in one place (evidence.py). Hosting on Ray: actor.py (actors) and serve.py
(a Serve deployment).
"""

from audiorouter.reasoner.base import (
    REASONERS,
    Answer,
    Reasoner,
    build_backend,
    known_backends,
    reasoner_class,
    register_reasoner,
)
from audiorouter.reasoner.evidence import count_tokens, evidence_fingerprint, render_evidence
from audiorouter.reasoner.memo import MemoisedReasoner, OutcomeMemo, build_reasoner

__all__ = [
    "REASONERS", "Answer", "MemoisedReasoner", "OutcomeMemo", "Reasoner",
    "build_backend", "build_reasoner", "count_tokens", "evidence_fingerprint", "known_backends",
    "reasoner_class", "register_reasoner", "render_evidence",
]
