"""Hosting a reasoner in Ray actors, reachable by name from any other actor.

    handles = start_reasoner_actors(config.reasoner)           # "reasoner-0", "reasoner-1", ...
    outcomes = ray.get(handles[0].answer.remote(requests))
    handle = ray.get_actor("reasoner-0")                         # from anywhere in the cluster
    outcomes = answer_with_actors(handles, requests)             # spread over all actors

Each actor builds ``build_reasoner(config)`` (the back-end behind the memo) once. CPU
and GPU shares come from ``reasoner.actor_num_cpus``/``actor_num_gpus``; a dead actor is
restarted up to ``reasoner.max_restarts`` times and its calls retried (answering is
idempotent: the reasoner is frozen).
"""

from __future__ import annotations

import ray

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerOutcome, ReasonerRequest
from audiorouter.reasoner.memo import MemoisedReasoner, build_reasoner

ACTOR_PREFIX = "reasoner"


class ReasonerActor:
    """One reasoner in one Ray process."""

    def __init__(self, config: ReasonerConfig) -> None:
        self.reasoner = build_reasoner(config)
        self.requested = 0

    def answer(self, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
        self.requested += len(requests)
        return self.reasoner.answer(requests)

    def reasoner_id(self) -> str:
        return self.reasoner.reasoner_id

    def stats(self) -> dict[str, int]:
        """Requests this actor got and how many the model answered (the rest: the memo)."""
        if isinstance(self.reasoner, MemoisedReasoner):
            return self.reasoner.stats()
        return {"requested": self.requested, "answered_by_model": self.requested}


def actor_name(prefix: str, index: int) -> str:
    return f"{prefix}-{index}"


def start_reasoner_actors(config: ReasonerConfig, prefix: str = ACTOR_PREFIX) -> list[ray.actor.ActorHandle]:
    """Start (or reuse, when already running) ``config.num_actors`` named actors."""
    remote_class = ray.remote(ReasonerActor)
    return [
        remote_class.options(
            name=actor_name(prefix, i),
            get_if_exists=True,
            num_cpus=config.actor_num_cpus,
            num_gpus=config.actor_num_gpus,
            resources=dict(config.actor_resources),
            max_restarts=config.max_restarts,
            max_task_retries=config.max_restarts,
        ).remote(config)
        for i in range(config.num_actors)
    ]


def reasoner_actors(num_actors: int, prefix: str = ACTOR_PREFIX) -> list[ray.actor.ActorHandle]:
    """Handles of running reasoner actors, looked up by name."""
    return [ray.get_actor(actor_name(prefix, i)) for i in range(num_actors)]


def answer_with_actors(handles: list, requests: list[ReasonerRequest], batch_size: int = 64) -> list[ReasonerOutcome]:
    """Answer ``requests`` in batches spread round-robin over ``handles``, in order.

    Evidence variants of one question should sit next to each other in ``requests``:
    batches are contiguous, so they share a batch (and its prompt prefix)."""
    batches = [requests[i : i + batch_size] for i in range(0, len(requests), batch_size)]
    refs = [handles[k % len(handles)].answer.remote(batch) for k, batch in enumerate(batches)]
    return [outcome for batch in ray.get(refs) for outcome in batch]
