"""Health, readiness and statistics: a Serve application of its own, apart from the work.

``GET /healthz`` -> ``{"status": "ok"}`` while this process answers; ``GET /readyz`` ->
200 ``{"ready": true, ...}`` when the answering application is running and each of its
deployments (the ingress with the router and the tool pool, the reasoner) is healthy,
else 503 with what is not; ``GET /stats`` -> ``{"reasoner_batches": {calls, requests,
mean_size, sizes}, "admission": {admitted, capacity, held_bytes, budget_bytes}}``: the
reasoner deployment's answer() calls counted by size, and the requests the ingress has
admitted with the bytes their bodies declare.

Why apart: the answering application's replica is busy with decoding, tools and
routing, and requests wait there for a slot. A probe sent there once waited seconds
under load (p50 3.1 s at 100 concurrent requests, when Serve queued them). Here it has a
replica of its own, with no CPU reserved and nothing else to do, so a probe never waits
behind ``/v1/answer``; what it shares with the work is Serve's HTTP proxy and the CPUs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

READY_CACHE_S = 1.0  # probes at any rate cost the Serve controller one status call a second, made
# in the background: a probe gets the last answer, at most a second or two old
HEALTHY = "HEALTHY"


def readiness(app_name: str) -> tuple[bool, dict[str, Any]]:
    """(ready, details) of the Serve application ``app_name`` from the controller."""
    application = serve.status().applications.get(app_name)
    if application is None:
        return False, {"application": "NOT_STARTED", "deployments": {}}
    deployments = {name: str(getattr(d.status, "value", d.status)) for name, d in application.deployments.items()}
    status = str(getattr(application.status, "value", application.status))
    ready = status == "RUNNING" and bool(deployments) and all(s == HEALTHY for s in deployments.values())
    return ready, {"application": status, "deployments": deployments}


def batch_summary(sizes: dict[int, int]) -> dict[str, Any]:
    """``{calls, requests, mean_size, sizes: {size: calls}}`` of the reasoner's answer()
    calls (one replica's: the one Serve picked for this request)."""
    calls = sum(sizes.values())
    requests = sum(size * count for size, count in sizes.items())
    return {"calls": calls, "requests": requests, "mean_size": round(requests / calls, 3) if calls else None,
            "sizes": {str(size): count for size, count in sorted(sizes.items())}}


@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=10_000)
class StatusService:
    def __init__(self, app_name: str, ingress_deployment: str, reasoner_deployment: str) -> None:
        self.app_name = app_name
        self.ingress_deployment = ingress_deployment
        self.reasoner_deployment = reasoner_deployment
        self._ready: tuple[float, bool, dict[str, Any]] | None = None
        self._refreshing: asyncio.Task | None = None

    async def __call__(self, request: Request) -> JSONResponse:
        path = request.url.path.rstrip("/") or "/"
        if request.method != "GET":
            return JSONResponse({"error": f"use GET for {path}"}, status_code=405)
        if path.endswith("/healthz"):
            return JSONResponse({"status": "ok"})
        if path.endswith("/readyz"):
            ready, details = await self.ready()
            return JSONResponse({"ready": ready, **details}, status_code=200 if ready else 503)
        if path.endswith("/stats"):
            return JSONResponse(await self.stats())
        return JSONResponse({"error": f"no route {request.method} {request.url.path}"}, status_code=404)

    async def stats(self) -> dict[str, Any]:
        reasoner = serve.get_deployment_handle(self.reasoner_deployment, app_name=self.app_name)
        ingress = serve.get_deployment_handle(self.ingress_deployment, app_name=self.app_name)
        sizes, admission = await asyncio.gather(reasoner.batches_seen.remote(), ingress.admission_state.remote())
        return {"reasoner_batches": batch_summary(sizes), "admission": admission}

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        """The last answer of the controller; a stale one (over READY_CACHE_S old) is
        refreshed in the background, so only the first probe waits for the controller."""
        if self._ready is None:
            await self._refresh()
        elif time.monotonic() - self._ready[0] > READY_CACHE_S and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.create_task(self._refresh())
        return self._ready[1], self._ready[2]

    async def _refresh(self) -> None:
        try:
            ready, details = await asyncio.to_thread(readiness, self.app_name)
        except Exception as exc:  # the controller is unreachable: not ready, and say why
            ready, details = False, {"error": f"{type(exc).__name__}: {exc}"}
        self._ready = (time.monotonic(), ready, details)
