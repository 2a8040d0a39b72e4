"""The frozen reasoner: one interface (``base``), back-ends registered by name
(``registry``), memoised outcomes (``memo``), hosting on Ray (``hosting``).
Imports ``store``, ``config``, ``registry``, ``validation``, ``packaged_files`` and ``contracts``.
"""

from audiorouter.reasoner.base import Answer, Reasoner, build_backend
from audiorouter.reasoner.evidence import count_tokens, evidence_fingerprint, render_evidence
from audiorouter.reasoner.memo import MemoisedReasoner, build_reasoner
from audiorouter.reasoner.registry import (
    REASONERS,
    check_backend,
    get_reasoner,
    reasoner_names,
    register_reasoner,
)

__all__ = [
    "REASONERS", "Answer", "MemoisedReasoner", "Reasoner",
    "build_backend", "build_reasoner", "check_backend", "count_tokens", "evidence_fingerprint", "get_reasoner",
    "reasoner_names", "register_reasoner", "render_evidence",
]
