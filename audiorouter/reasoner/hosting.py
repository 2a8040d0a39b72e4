"""Hosting the reasoner for rollouts and evaluation: named actors or the Serve application.

    hosted = host_reasoner(config.reasoner)        # what reasoner.hosting says, on Ray
    outcomes = answer_hosted(config.reasoner, requests)   # from any process of the cluster
    hosted.stop()

``actors``: ``reasoner.num_actors`` named actors ("reasoner-0", ...); each call is split
into contiguous batches spread over them (``actor.answer_with_actors``). ``serve``: the
Serve application "reasoner" (``serve.py``); each call is split into chunks of
``serve_max_batch_size`` sent as one ``answer_many`` call each, and Serve's batching
also joins requests of different rollout workers that arrive together. Both answer
through the memo, and Ray (actors) or Serve (replicas) replaces what dies; a call that
fails meanwhile raises here and the caller retries it (answering is idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ray
from ray import serve

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerOutcome, ReasonerRequest
from audiorouter.reasoner.actor import answer_with_actors, reasoner_actors, start_reasoner_actors
from audiorouter.reasoner.serve import APP_NAME, deploy_reasoner


@dataclass
class HostedReasoner:
    """Keeps what ``host_reasoner`` started alive (actor handles) until ``stop``."""

    hosting: str
    handles: list = field(default_factory=list)
    app: Any = None

    def stats(self) -> dict[str, int] | None:
        """Requests the hosted reasoner got and how many its model answered (the rest came
        from the memo), summed over the actors; None under Serve, whose replicas a caller
        cannot address one by one (the memo's rows still count the model's answers)."""
        if self.hosting != "actors":
            return None
        counts = ray.get([handle.stats.remote() for handle in self.handles])
        return {key: sum(c[key] for c in counts) for key in ("requested", "answered_by_model")}

    def stop(self) -> None:
        if self.hosting == "serve" and self.app is not None:
            serve.delete(APP_NAME)
        self.handles, self.app = [], None  # named actors end with their last handle


def host_reasoner(config: ReasonerConfig) -> HostedReasoner:
    if config.hosting == "serve":
        return HostedReasoner("serve", app=deploy_reasoner(config))
    return HostedReasoner("actors", handles=start_reasoner_actors(config))


def answer_hosted(config: ReasonerConfig, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
    """Outcomes, in order, from the hosted reasoner; raises when it cannot be reached."""
    if config.hosting == "serve":
        handle = serve.get_app_handle(APP_NAME)
        size = config.serve_max_batch_size  # a full batch per call, spread over the replicas
        responses = [handle.answer_many.remote(requests[i : i + size]) for i in range(0, len(requests), size)]
        return [outcome for response in responses for outcome in response.result()]
    return answer_with_actors(reasoner_actors(config.num_actors), requests, config.batch_size * 4)
