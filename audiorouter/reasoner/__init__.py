"""The frozen reasoner: one interface, back-ends chosen by config, memoised outcomes.

    reasoner = build_reasoner(config.reasoner)
    outcomes = reasoner.answer(requests)  # list[ReasonerRequest] -> list[ReasonerOutcome]

Back-ends register by name (``registry``): ``reference`` (CPU default, reference/),
``cascade`` (text LM + coarse audio description, cascade.py), ``lalm`` (audio-language
models, lalm.py). Evidence is rendered in one place (evidence.py). Hosting on Ray:
actor.py (actors) and serve.py (a Serve deployment), chosen in hosting.py.
Imports ``store``, ``config``, ``validation``, ``packaged_files`` and ``contracts``.
"""

from audiorouter.reasoner.base import Answer, Reasoner, build_backend
from audiorouter.reasoner.evidence import count_tokens, evidence_fingerprint, render_evidence
from audiorouter.reasoner.memo import MemoisedReasoner, build_reasoner
from audiorouter.reasoner.registry import (
    REASONERS,
    check_backend,
    known_backends,
    reasoner_class,
    register_reasoner,
)

__all__ = [
    "REASONERS", "Answer", "MemoisedReasoner", "Reasoner",
    "build_backend", "build_reasoner", "check_backend", "count_tokens", "evidence_fingerprint", "known_backends",
    "reasoner_class", "register_reasoner", "render_evidence",
]
