"""Outcome memoisation: the reasoner is frozen, so each question is answered once.

``store.outcome_memo.OutcomeMemo`` is a SQLite file mapping ``(reasoner_id, item_id,
evidence fingerprint)`` to the outcome. ``MemoisedReasoner`` wraps any back-end with the same ``answer``
signature: hits come from the file, only misses reach the model, and new outcomes
are stored. Error outcomes are never stored (a failure may be transient), and neither
are requests without a known item id. SQLite's WAL journal does not work on a network
file system: on a cluster set ``reasoner.memo_store`` to "service" and one actor on the
head node keeps this file for every node (``audiorouter.store``).

``build_reasoner(config)`` is what every caller uses: the configured back-end, memoised
(in the file or the cluster's service) unless ``reasoner.memo_path`` is "".
"""

from __future__ import annotations

import logging

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerOutcome, ReasonerRequest
from audiorouter.reasoner.base import Reasoner, build_backend, request_problem
from audiorouter.reasoner.evidence import evidence_fingerprint, render_evidence
from audiorouter.store import open_outcome_memo
from audiorouter.store.outcome_memo import MemoKey, OutcomeMemo

log = logging.getLogger(__name__)

class MemoisedReasoner:
    """A back-end behind the memo; same ``answer`` and ``reasoner_id`` as the back-end."""

    def __init__(self, backend: Reasoner, memo: OutcomeMemo) -> None:
        self.backend = backend
        self.memo = memo
        self.counts = {"requested": 0, "answered_by_model": 0}  # since this process started

    def stats(self) -> dict[str, int]:
        return dict(self.counts)

    @property
    def reasoner_id(self) -> str:
        return self.backend.reasoner_id

    def key(self, request: ReasonerRequest) -> MemoKey | None:
        if not isinstance(request.item_id, str) or not request.item_id or request_problem(request):
            return None  # bad requests go to the back-end, which answers them with an error
        text = render_evidence(request.evidence, self.backend.config.evidence_token_budget)
        return (self.reasoner_id, request.item_id, evidence_fingerprint(text))

    def answer(self, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
        keys = [self.key(r) for r in requests]
        known = self.memo.get_many([k for k in keys if k is not None])
        missing = [i for i, k in enumerate(keys) if k is None or k not in known]
        fresh = self.backend.answer([requests[i] for i in missing]) if missing else []
        self.counts["requested"] += len(requests)
        self.counts["answered_by_model"] += len(missing)
        by_index = dict(zip(missing, fresh, strict=True))
        new_entries = {keys[i]: o for i, o in by_index.items() if keys[i] is not None and o.error is None}
        if new_entries:
            self.memo.put_many(list(new_entries.items()))
        log.debug("reasoner memo: %d hits, %d asked", len(requests) - len(missing), len(missing))
        return [by_index[i] if i in by_index else known[keys[i]] for i in range(len(requests))]


def build_reasoner(config: ReasonerConfig) -> Reasoner | MemoisedReasoner:
    """The configured back-end, memoised unless ``config.memo_path`` is empty."""
    backend = build_backend(config)
    memo = open_outcome_memo(config)
    return backend if memo is None else MemoisedReasoner(backend, memo)
