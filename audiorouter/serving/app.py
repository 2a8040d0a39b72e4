"""The online Ray Serve application: route, run the routed tools, answer.

    start(router_dir, cfg.tools, cfg.reasoner, cfg.serve)   # /v1/answer, /healthz, /readyz, /stats

``POST /v1/answer`` takes multipart form data -- ``audio`` (an encoded file),
``question`` and ``choices`` (a JSON list of strings) -- and returns JSON
``{answer, index, tools, summaries, latency_ms: {route, tools, reason, total},
truncated, duration_s, analysed_s}``: a clip longer than the tools' ``max_duration_s``
is analysed on its first ``max_duration_s`` seconds, and ``truncated`` says so.
``GET /healthz``, ``/readyz`` and ``/stats`` are another application's (``status``), so
that no probe waits behind the work. Admission is bounded: ``serve.max_ongoing_requests``
answers at once, ``serve.max_queued_requests`` waiting, and beyond those Serve answers 503
with ``Retry-After: serve.retry_after_s``.

Every request is checked before any tool runs, by the same functions the reasoner and
the importers use (``audiorouter.validation``): a malformed request (no audio, an upload
over ``max_upload_bytes``, a missing question, choices that are not 2-26 distinct
non-empty strings) gets a 4xx with ``{"error": ...}`` naming the problem, unusable audio
(unreadable, empty, NaN/inf samples, an unsupported rate) a 422; the replica keeps
serving. Parsing, decoding, resampling and checking run in a worker thread, never on
the request loop. Reasoner calls go to ``reasoner.serve.ReasonerDeployment``, which
gathers concurrent requests into one ``answer`` call (``GET /stats`` lists the sizes of
those calls).

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
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from audiorouter.contracts import SAMPLE_RATE, ReasonerRequest
from audiorouter.data.importers.predictions import prediction_text
from audiorouter.router.features import waveform_request_features
from audiorouter.validation import AudioError, ValidationError, check_audio, check_qa, loads_json

APP_NAME = "audiorouter"
STATUS_APP_NAME = "audiorouter-status"
REASONER_DEPLOYMENT = "ReasonerDeployment"  # the class name: Serve's default deployment name
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


@dataclass
class CheckedRequest:
    """A request that passed every check: 16 kHz mono audio cut to the analysis limit."""

    question: str
    choices: list[str]
    waveform: np.ndarray  # float32, 16 kHz, at most max_duration_s long
    duration_s: float | None  # of the uploaded clip; None when its header does not say
    truncated: bool  # only the first max_duration_s seconds are analysed

    @property
    def analysed_s(self) -> float:
        return self.waveform.size / SAMPLE_RATE


_NAME_RE = re.compile(rb'(?i)\bname="([^"]*)"')
_FILENAME_RE = re.compile(rb'(?i)\bfilename="([^"]*)"')


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part]:
    """Fields of a ``multipart/form-data`` body by name (the first of each name wins)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest("expected multipart/form-data", 415)
    match = re.search(r'(?i)\bboundary="?([^";]+)"?', content_type)  # parameter names ignore case
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


def parse_choices(text: str | None) -> Any:
    """The decoded JSON of the ``choices`` field (``validation.check_choices`` judges it)."""
    if text is None or not text.strip():
        raise BadRequest("missing 'choices' (a JSON list of strings)")
    try:
        return loads_json(text, "'choices'")
    except json.JSONDecodeError as exc:
        raise BadRequest(f"'choices' is not valid JSON: {exc.msg}") from exc
    except ValidationError as exc:  # nested too deep
        raise BadRequest(str(exc)) from exc


def field_text(fields: dict[str, Part], name: str) -> str | None:
    return fields[name].content.decode("utf-8", "replace") if name in fields else None


def check_upload(body: bytes, content_type: str, max_duration_s: float) -> CheckedRequest:
    """Parse, decode, check and resample one upload (CPU-bound: run it in a thread).

    BadRequest 400 for a malformed request, 422 for unusable audio; the checks are
    ``validation``'s, the reasoner's own, so nothing it would refuse reaches a tool."""
    from audiorouter.data.audio_io import read_clip

    fields = parse_multipart(body, content_type)
    audio = fields.get("audio")
    if audio is None:
        raise BadRequest("missing 'audio' file")
    question = (field_text(fields, "question") or "").strip()
    if not question:
        raise BadRequest("missing 'question'")
    choices = parse_choices(field_text(fields, "choices"))
    try:
        check_qa(question, choices)
    except ValidationError as exc:
        raise BadRequest(str(exc), 400) from exc
    try:
        clip = read_clip(audio.content, max_duration_s)  # decodes the window only: memory bounded by it
        check_audio(clip.waveform, SAMPLE_RATE)  # the reasoner's audio check; the text passed above
    except AudioError as exc:
        raise BadRequest(str(exc), 422) from exc
    return CheckedRequest(question, list(choices), clip.waveform, clip.duration_s, clip.truncated)


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
            if path.endswith("/answer"):
                if request.method != "POST":
                    raise BadRequest("use POST", 405)
                return JSONResponse(await self.answer(request))
            raise BadRequest(f"no route {request.method} {request.url.path}", 404)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except Exception as exc:  # never let one request take the replica down
            return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    def check_health(self) -> None:
        """Serve's periodic check (``/readyz`` reports it): the tool pool can still run a tool."""
        usable = [t for t in self.policy.actions.tools if t not in self.runner.health.disabled]
        if self.policy.actions.tools and not usable:
            raise RuntimeError(f"every tool of the router is disabled: {self.runner.health.disabled}")

    async def read_body(self, request: Request) -> bytes:
        """The body, or 413 when it is over the limit. A body at most twice the limit is
        read to its end (and dropped) first: clients that send everything before reading
        the answer (Python's urllib) otherwise see the connection reset, not the 413."""
        limit = self.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            if int(declared) <= 2 * limit:
                await drain(request, 2 * limit)
            raise BadRequest(f"upload of {declared} bytes is over the limit of {limit}", 413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                await drain(request, 2 * limit - len(body))
                raise BadRequest(f"upload is over the limit of {limit} bytes", 413)
        return bytes(body)

    async def answer(self, request: Request) -> dict[str, Any]:
        t0 = time.perf_counter()
        body = await self.read_body(request)
        checked = await asyncio.to_thread(
            check_upload, body, request.headers.get("content-type", ""), self.max_duration_s)
        question, choices, waveform = checked.question, checked.choices, checked.waveform
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
            "truncated": checked.truncated,
            "duration_s": None if checked.duration_s is None else round(checked.duration_s, 3),
            "analysed_s": round(checked.analysed_s, 3),
        }


async def drain(request: Request, at_most: int) -> None:
    """Read and drop what is left of the body, up to ``at_most`` more bytes."""
    try:
        async for chunk in request.stream():
            at_most -= len(chunk)
            if at_most < 0:
                return
    except (RuntimeError, ClientDisconnect):  # already read to its end, or the client left
        return


def build_app(router_dir: str, tools_config: Any, reasoner_config: Any, serve_config: Any):
    """The bound answering application (pass it to ``serve.run``): the ingress on
    ``serve.num_cpus`` with its admission limits, the reasoner deployment on the reasoner
    config's replicas, CPUs and GPUs."""
    from ray.serve.config import BackpressureConfig

    from audiorouter.reasoner.serve import reasoner_deployment

    return AnswerService.options(
        ray_actor_options={"num_cpus": serve_config.num_cpus},
        max_ongoing_requests=serve_config.max_ongoing_requests,
        max_queued_requests=serve_config.max_queued_requests,
        backpressure_config=BackpressureConfig(status_code=503, retry_after_s=serve_config.retry_after_s),
    ).bind(str(router_dir), tools_config, reasoner_deployment(reasoner_config), max_upload_bytes(serve_config))


def max_upload_bytes(serve_config: Any) -> int:
    return int(serve_config.max_upload_mb * 1024 * 1024)


def start(router_dir: str, tools_config: Any, reasoner_config: Any, serve_config: Any):
    """Start Serve's HTTP proxy on ``serve.host:serve.port``: the answering application
    at ``/v1`` and the status application (``/healthz``, ``/readyz``, ``/stats``) at ``/``."""
    from audiorouter.serving.status import StatusService

    serve.start(http_options={"host": serve_config.host, "port": serve_config.port})
    handle = serve.run(build_app(router_dir, tools_config, reasoner_config, serve_config), name=APP_NAME,
                       route_prefix="/v1")
    serve.run(StatusService.bind(APP_NAME, REASONER_DEPLOYMENT), name=STATUS_APP_NAME, route_prefix="/")
    return handle
