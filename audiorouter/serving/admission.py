"""Admission to the answering ingress: by count and by bytes, decided before a body is read.

    admission = Admission(slots=32, waiting=64, budget_bytes=256 * 2**20)
    if not admission.enter(declared):        # Content-Length of the request
        ...                                  # 503 with Retry-After, the body unread
    try:
        async with admission.slots:          # at most `slots` requests do work at once
            ...                              # read the body, decode, route, tools, reason
    finally:
        admission.leave(declared)

Why here and not in Serve's queue: Serve's HTTP proxy reads a request's whole body as
soon as it accepts the request, and a request waiting in Serve's own queue keeps that
body in the proxy, whatever its size, for as long as it waits. So the ingress takes
every request Serve hands it (``serve_limits`` sizes Serve's limits above ours) and
decides here, on the declared length alone: a request that would put the declared
bodies of all admitted requests over ``budget_bytes``, or that finds ``slots +
waiting`` requests already admitted, is refused at once, and the proxy stops reading
its body when the refusal is sent. Every body held for longer than that belongs to an
admitted request, so the bytes held for answering and waiting requests together are at
most ``budget_bytes``.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any


class Admission:
    """Counts of the requests admitted and the bytes their bodies declare; one event
    loop (the replica's) calls it, so plain counters suffice."""

    def __init__(self, slots: int, waiting: int, budget_bytes: int) -> None:
        if slots < 1 or waiting < 0 or budget_bytes < 1:
            raise ValueError(f"admission needs slots >= 1, waiting >= 0, a budget >= 1 byte; "
                             f"got {slots}, {waiting}, {budget_bytes}")
        self.capacity = slots + waiting
        self.budget_bytes = int(budget_bytes)
        self.admitted = 0
        self.held_bytes = 0
        self.slots = asyncio.Semaphore(slots)  # bound to the loop that first waits on it

    def enter(self, declared_bytes: int) -> bool:
        """Admit a request whose body declares ``declared_bytes``, or refuse it (False)."""
        if self.admitted >= self.capacity or self.held_bytes + declared_bytes > self.budget_bytes:
            return False
        self.admitted += 1
        self.held_bytes += declared_bytes
        return True

    def leave(self, declared_bytes: int) -> None:
        self.admitted -= 1
        self.held_bytes -= declared_bytes


def serve_limits(serve_config: Any) -> tuple[int, int]:
    """(max_ongoing_requests, max_queued_requests) for Serve itself: twice what the
    ingress admits may be inside it at once (the rest are being refused), and as many
    again in Serve's queue for a burst, so that Serve hands requests on instead of
    holding their bodies, and its own 503 answers only a burst beyond all of that."""
    admitted = serve_config.max_ongoing_requests + serve_config.max_queued_requests
    return 2 * admitted, admitted


def budget_bytes(serve_config: Any) -> int:
    return int(serve_config.max_bodies_mb * 1024 * 1024)


def retry_after(serve_config: Any) -> str:
    """The Retry-After value (whole seconds, rounded up), as Serve writes its own."""
    return str(max(0, math.ceil(serve_config.retry_after_s)))
