"""A Ray Serve deployment of the reasoner that batches single requests.

    handle = deploy_reasoner(config.reasoner)                  # application "reasoner"
    outcome = handle.remote(request).result()                  # one ReasonerRequest
    handle = serve.get_app_handle("reasoner")                  # from any actor or task

    outcomes = handle.answer_many.remote(requests).result()    # a caller's batch, one call

``@serve.batch`` gathers up to ``reasoner.serve_max_batch_size`` requests (waiting at
most ``serve_batch_wait_s`` after the first) into one ``answer`` call of the hosted
reasoner (memoised, like the actors). A caller that has several requests at once (the
online ingress, a rollout worker) sends them in one ``answer_many`` call: they enter the
batch queue together, so they share ``answer`` calls however far apart single calls
would have arrived. The model runs in a worker thread so the replica keeps collecting
the next batch meanwhile. ``batches_seen`` counts the ``answer`` calls by size.
Replicas: ``reasoner.num_actors``, each with the actor CPU/GPU shares; Serve restarts
failed ones.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from ray import serve

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerOutcome, ReasonerRequest
from audiorouter.reasoner.memo import build_reasoner

APP_NAME = "reasoner"


@serve.deployment
class ReasonerDeployment:
    def __init__(self, config: ReasonerConfig) -> None:
        self.reasoner = build_reasoner(config)
        self.answer_batch.set_max_batch_size(config.serve_max_batch_size)
        self.answer_batch.set_batch_wait_timeout_s(config.serve_batch_wait_s)
        self.batch_sizes: Counter[int] = Counter()  # answer() calls by size (bounded: sizes <= the max)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.01)
    async def answer_batch(self, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
        self.batch_sizes[len(requests)] += 1
        return await asyncio.to_thread(self.reasoner.answer, list(requests))

    async def __call__(self, request: ReasonerRequest) -> ReasonerOutcome:
        return await self.answer_batch(request)

    async def answer_many(self, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
        """Outcomes in order. All enter the batch queue before its next batch is cut (the
        tasks run their first step, the enqueueing, before the batcher wakes)."""
        return list(await asyncio.gather(*(self.answer_batch(request) for request in requests)))

    def reasoner_id(self) -> str:
        return self.reasoner.reasoner_id

    def batches_seen(self) -> dict[int, int]:
        """{size: number of answer() calls of that size} since the replica started."""
        return dict(sorted(self.batch_sizes.items()))


def reasoner_deployment(config: ReasonerConfig):
    """The bound deployment with the config's replicas and resources: deploy it alone
    (``deploy_reasoner``) or bind it into another application as a child handle."""
    return ReasonerDeployment.options(
        num_replicas=config.num_actors,
        ray_actor_options={"num_cpus": config.actor_num_cpus, "num_gpus": config.actor_num_gpus,
                           "resources": dict(config.actor_resources)},
        max_ongoing_requests=max(4 * config.serve_max_batch_size, 32),
    ).bind(config)


def deploy_reasoner(config: ReasonerConfig, app_name: str = APP_NAME):
    """Run the deployment as application ``app_name`` and return its handle."""
    return serve.run(reasoner_deployment(config), name=app_name, route_prefix=None)
