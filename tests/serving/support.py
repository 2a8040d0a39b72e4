"""What the serving tests share: a tiny random router over three tools, a WAV clip,
a free loopback port, a request held open half sent."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import soundfile as sf

from audiorouter.features import FeatureSpec
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy

TOOLS = ("loudness", "segments", "tempo")


def tiny_policy(directory: Path) -> Path:
    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(TOOLS, "subsets", 2)
    return RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory)


def wav_bytes(seconds: float = 1.0, sample_rate: int = 22_050, freq: float = 440.0) -> bytes:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    buf = io.BytesIO()
    sf.write(buf, (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sample_rate, format="WAV")
    return buf.getvalue()


def float_wav(samples: np.ndarray, sample_rate: int = 16_000) -> bytes:
    """A 32-bit float WAV of exactly these samples (NaN and inf included)."""
    buf = io.BytesIO()
    sf.write(buf, np.asarray(samples, dtype=np.float32), sample_rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def nan_wav(value: float = float("nan"), seconds: float = 0.3) -> bytes:
    """A float WAV of silence with ten samples set to ``value`` (NaN or inf)."""
    samples = np.zeros(int(seconds * 16_000), dtype=np.float32)
    samples[100:110] = value
    return float_wav(samples)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HeldRequest:
    """A POST whose headers (with its Content-Length) and the first ``sent`` bytes of its
    body are on the wire, the rest held back until ``finish``: the server has the request
    and cannot complete it."""

    def __init__(self, url: str, body: bytes, content_type: str, sent: int) -> None:
        parts = urlsplit(url)
        self.body, self.sent = body, sent
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.connection.putrequest("POST", parts.path)
        self.connection.putheader("Content-Type", content_type)
        self.connection.putheader("Content-Length", str(len(body)))
        self.connection.endheaders()
        self.connection.send(body[:sent])

    def send_rest(self) -> None:
        self.connection.send(self.body[self.sent:])

    def response(self) -> tuple[int, dict]:
        response = self.connection.getresponse()
        status, text = response.status, response.read()
        self.retry_after = response.getheader("Retry-After")
        self.connection.close()
        return status, json.loads(text)

    def close(self) -> None:
        self.connection.close()


@contextlib.contextmanager
def holding(requests: list[HeldRequest]) -> Iterator[list[HeldRequest]]:
    """The held requests, each closed on the way out whatever happened."""
    try:
        yield requests
    finally:
        for request in requests:
            request.close()


def complete(requests: list[HeldRequest]) -> list[tuple[int, dict]]:
    """Send every held request's rest, then read each answer."""
    for request in requests:
        request.send_rest()
    return [request.response() for request in requests]


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    """Poll ``condition`` until it holds (synchronisation, not a measurement)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.05)
