"""The online Ray Serve application: route, run the routed tools, answer.

    app = build_app(router_dir, cfg.tools, cfg.reasoner, max_upload_bytes=16 << 20)
    serve.run(app, name="audiorouter", route_prefix="/")

``POST /v1/answer`` takes multipart form data -- ``audio`` (an encoded file),
``question`` and ``choices`` (a JSON list of strings) -- and returns JSON
``{answer, index, tools, summaries, latency_ms: {route, tools, reason, total}}``.
``GET /healthz`` returns ``{"status": "ok"}``. A bad request (no audio, unreadable
audio, an upload over ``max_upload_bytes``, missing or malformed choices or question)
gets a 4xx with ``{"error": ...}``; the replica keeps serving. Reasoner calls go to
``reasoner.serve.ReasonerDeployment``, which gathers concurrent requests into one
``answer`` call (``GET /stats`` lists the sizes of those calls).

The multipart body is parsed here with the standard library (python-multipart is not
a dependency).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from audiorouter.contracts import SAMPLE_RATE, ReasonerRequest
from audiorouter.evaluation.benchmarks import prediction_text
from audiorouter.router.features import waveform_request_features

APP_NAME = "audiorouter"
DEFAULT_MAX_UPLOAD_BYTES = 16 * 1024 * 1024


class BadRequest(Exception):
    """A client error: ``status`` (4xx) and a message for the JSON body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Part:
    name: str
    filename: str | None
    content: bytes


_NAME_RE = re.compile(rb'(?i)\bname="([^"]*)"')
_FILENAME_RE = re.compile(rb'(?i)\bfilename="([^"]*)"')


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part]:
    """Fields of a ``multipart/form-data`` body by name (the first of each name wins)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest("expected multipart/form-data", 415)
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise BadRequest("multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise BadRequest("malformed multipart body")
    fields: dict[str, Part] = {}
    for chunk in chunks[1:-1]:  # chunks[0] is the preamble, the last is "--" + epilogue
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise BadRequest("malformed multipart part (no header end)")
        content = content[:-2] if content.endswith(b"\r\n") else content
        name = _NAME_RE.search(head)
        if not name:
            continue
        filename = _FILENAME_RE.search(head)
        key = name.group(1).decode("utf-8", "replace")
        fields.setdefault(key, Part(key, filename.group(1).decode("utf-8", "replace") if filename else None, content))
    return fields


def parse_choices(text: str | None) -> list[str]:
    if text is None or not text.strip():
        raise BadRequest("missing 'choices' (a JSON list of strings)")
    try:
        choices = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"'choices' is not valid JSON: {exc.msg}") from exc
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
        raise BadRequest("'choices' must be a JSON list of at least two non-empty strings")
    return choices


@serve.deployment
class AnswerService:
    """Ingress: one request -> decode, route, tools, then the reasoner deployment (a
    child application: its own replicas and GPUs, batching concurrent requests)."""

    def __init__(self, router_dir: str, tools_config: Any, reasoner: Any,
                 max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
        from audiorouter.router.policy import RouterPolicy
        from audiorouter.tools.runner import ToolRunner

        self.policy = RouterPolicy.load(router_dir)
        self.runner = ToolRunner.from_config(tools_config)
        self.reasoner = reasoner  # handle of reasoner.serve.ReasonerDeployment
        self.max_upload_bytes = int(max_upload_bytes)
        self.max_duration_s = float(tools_config.max_duration_s)
        # warm the question encoder and the mel transform so the first request is not slow
        waveform_request_features(np.zeros(SAMPLE_RATE // 10, np.float32), "warm up", self.policy.feature_spec)

    async def __call__(self, request: Request) -> JSONResponse:
        path = request.url.path.rstrip("/") or "/"
        try:
            if path.endswith("/healthz") and request.method == "GET":
                return JSONResponse({"status": "ok"})
            if path.endswith("/stats") and request.method == "GET":
                return JSONResponse({"reasoner_batches": await self.reasoner.batches_seen.remote()})
            if path.endswith("/v1/answer"):
                if request.method != "POST":
                    raise BadRequest("use POST", 405)
                return JSONResponse(await self.answer(request))
            raise BadRequest(f"no route {request.method} {request.url.path}", 404)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except Exception as exc:  # never let one request take the replica down
            return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    async def read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_upload_bytes:
            raise BadRequest(f"upload of {declared} bytes is over the limit of {self.max_upload_bytes}", 413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.max_upload_bytes:
                raise BadRequest(f"upload is over the limit of {self.max_upload_bytes} bytes", 413)
        return bytes(body)

    async def answer(self, request: Request) -> dict[str, Any]:
        from audiorouter.data.audio_io import AudioError, decode_audio, to_mono_16k

        t0 = time.perf_counter()
        fields = parse_multipart(await self.read_body(request), request.headers.get("content-type", ""))
        audio = fields.get("audio")
        if audio is None or not audio.content:
            raise BadRequest("missing 'audio' file")
        question = fields["question"].content.decode("utf-8", "replace").strip() if "question" in fields else ""
        if not question:
            raise BadRequest("missing 'question'")
        choices = parse_choices(fields["choices"].content.decode("utf-8", "replace") if "choices" in fields else None)
        try:
            waveform, sample_rate = decode_audio(audio.content)
            waveform = to_mono_16k(waveform, sample_rate)
        except AudioError as exc:
            raise BadRequest(str(exc), 422) from exc
        limit = int(self.max_duration_s * SAMPLE_RATE)
        waveform = waveform[:limit]  # longer clips are analysed on their first max_duration_s
        item_id = f"req-{uuid.uuid4().hex}"

        t1 = time.perf_counter()
        features = await asyncio.to_thread(waveform_request_features, waveform, question, self.policy.feature_spec)
        decision = self.policy.route(features, [item_id])[0]
        t2 = time.perf_counter()
        results = await asyncio.to_thread(self.runner.run, waveform, SAMPLE_RATE, list(decision.tools))
        t3 = time.perf_counter()
        outcome = await self.reasoner.remote(
            ReasonerRequest(item_id, waveform, SAMPLE_RATE, question, choices, None, results))
        t4 = time.perf_counter()
        if outcome.error:
            raise RuntimeError(f"reasoner: {outcome.error}")
        index = int(outcome.chosen_index)
        return {
            "answer": prediction_text(choices, index),
            "index": index,
            "tools": list(decision.tools),
            "summaries": {r.tool: (r.summary if r.ok else f"error: {r.error}") for r in results},
            "latency_ms": {"route": round((t2 - t1) * 1000.0, 3), "tools": round((t3 - t2) * 1000.0, 3),
                           "reason": round((t4 - t3) * 1000.0, 3), "total": round((t4 - t0) * 1000.0, 3)},
        }


def build_app(router_dir: str, tools_config: Any, reasoner_config: Any,
              max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, num_cpus: float = 1.0):
    """The bound application (pass it to ``serve.run``): the ingress on ``num_cpus``, the
    reasoner deployment on the reasoner config's replicas, CPUs and GPUs."""
    from audiorouter.reasoner.serve import reasoner_deployment

    return AnswerService.options(
        ray_actor_options={"num_cpus": num_cpus},
        max_ongoing_requests=max(4 * reasoner_config.serve_max_batch_size, 64),
    ).bind(str(router_dir), tools_config, reasoner_deployment(reasoner_config), int(max_upload_bytes))


def start(router_dir: str, tools_config: Any, reasoner_config: Any, port: int = 8000, host: str = "127.0.0.1",
          max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, num_cpus: float = 1.0):
    """Start Serve's HTTP proxy on ``host:port`` and deploy the application at ``/``."""
    serve.start(http_options={"host": host, "port": port})
    app = build_app(router_dir, tools_config, reasoner_config, max_upload_bytes, num_cpus)
    return serve.run(app, name=APP_NAME, route_prefix="/")
