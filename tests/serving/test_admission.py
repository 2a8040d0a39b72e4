"""Admission by count and by declared bytes (``serving.admission``), without Ray; the app
over HTTP is ``test_app.py``."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from audiorouter.serving.admission import Admission, budget_bytes, retry_after, serve_limits


def test_a_request_is_refused_when_its_declared_bytes_would_pass_the_budget():
    admission = Admission(slots=2, waiting=8, budget_bytes=1000)
    assert admission.enter(600) and admission.enter(400)  # exactly the budget
    assert not admission.enter(1)  # one byte over it, with 8 places free
    admission.leave(400)
    assert not admission.enter(401) and admission.enter(400)
    assert (admission.admitted, admission.held_bytes) == (2, 1000)


def test_a_request_is_refused_when_every_place_is_taken():
    admission = Admission(slots=1, waiting=2, budget_bytes=10**9)
    assert all(admission.enter(10) for _ in range(3))
    assert not admission.enter(0)  # even an empty body: no place left
    admission.leave(10)
    assert admission.enter(10) and (admission.admitted, admission.held_bytes) == (3, 30)


def test_slots_bound_the_requests_that_work_at_once():
    admission = Admission(slots=2, waiting=4, budget_bytes=100)
    working, most = 0, 0

    async def one() -> None:
        nonlocal working, most
        async with admission.slots:
            working += 1
            most = max(most, working)
            await asyncio.sleep(0)
            working -= 1

    async def run() -> None:
        await asyncio.gather(*(one() for _ in range(6)))

    asyncio.run(run())
    assert most == 2


def test_serve_limits_sit_above_the_admission_and_retry_after_rounds_up():
    config = SimpleNamespace(max_ongoing_requests=8, max_queued_requests=16, max_bodies_mb=1.5, retry_after_s=2.1)
    assert serve_limits(config) == (48, 24)
    assert budget_bytes(config) == 1_572_864
    assert retry_after(config) == "3"


def test_nonsense_limits_are_refused():
    with pytest.raises(ValueError, match="slots >= 1"):
        Admission(slots=0, waiting=1, budget_bytes=1)
