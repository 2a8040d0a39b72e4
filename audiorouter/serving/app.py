"""The online Ray Serve application: route, run the routed tools, answer.

    start(router_dir, cfg.tools, cfg.reasoner, cfg.serve)   # /v1/answer, /healthz, /readyz, /stats

``POST /v1/answer`` takes multipart form data -- ``audio`` (an encoded file),
``question`` and ``choices`` (a JSON list of strings) -- and returns JSON
``{answer, index, tools, summaries, latency_ms: {route, tools, reason, total},
truncated, duration_s, analysed_s}``: a clip longer than the tools' ``max_duration_s``
is analysed on its first ``max_duration_s`` seconds, and ``truncated`` says so.
``GET /healthz``, ``/readyz`` and ``/stats`` are another application's (``status``), so
that no probe waits behind the work.

Admission (``serving.admission``) is decided on the Content-Length before the body is
read: ``serve.max_ongoing_requests`` answer at once, ``serve.max_queued_requests`` wait,
and the bodies of all of them together declare at most ``serve.max_bodies_mb``; beyond
those a request gets 503 with ``Retry-After: serve.retry_after_s`` (and a body without a
Content-Length 411). Requests wait in the ingress, not in Serve's queue, whose proxy
would hold each waiting body whatever its size.

Every request is checked before any tool runs, by the same functions the reasoner and
the importers use (``audiorouter.validation``): a malformed request (no audio, an upload
over ``max_upload_bytes``, a missing question, choices that are not 2-26 distinct
non-empty strings) gets a 4xx with ``{"error": ...}`` naming the problem, unusable audio
(unreadable, empty, NaN/inf samples, an unsupported rate) a 422; the replica keeps
serving. The requests whose bodies arrived while the previous batch was analysed form
the next batch (``AnswerService.analyse``, Serve's ``@serve.batch``, up to
``reasoner.serve_max_batch_size``): on one worker thread, never on the request loop,
each is parsed, decoded, resampled and checked, then their features (questions encoded
together), routes and tools are computed, and one ``answer_many`` call to
``reasoner.serve.ReasonerDeployment`` for all of them, which batches them into ``answer``
calls of the reasoner (``GET /stats``: how many calls of each size). Requests sent one by
one would reach the reasoner as far apart as the tool process finishes them (it runs one
call at a time), each alone in its batch.

The multipart body is parsed here with the standard library (python-multipart is not
a dependency).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from ray import serve
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from audiorouter.contracts import SAMPLE_RATE, ReasonerRequest
from audiorouter.data.importers.predictions import prediction_text
from audiorouter.serving.admission import Admission, budget_bytes, retry_after, serve_limits
from audiorouter.serving.status import StatusService
from audiorouter.validation import AudioError, ValidationError, check_audio, check_qa, loads_json

log = logging.getLogger(__name__)
APP_NAME = "audiorouter"
STATUS_APP_NAME = "audiorouter-status"
INGRESS_DEPLOYMENT = "AnswerService"  # the class names: Serve's default deployment names
REASONER_DEPLOYMENT = "ReasonerDeployment"


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


class Analysed(NamedTuple):
    """One request after the batch thread: checked, routed, its tools run."""

    checked: CheckedRequest
    decision: Any  # the router's Decision
    results: list[Any]  # ToolResult, one per routed tool


@dataclass
class Upload:
    body: bytes
    content_type: str


@dataclass
class Routed:
    """One request through the batch stage: the checked request, its route, its tools'
    results, and the reasoner call its batch shares (``outcomes[index]`` is its own)."""

    checked: CheckedRequest
    tools: tuple[str, ...]
    results: list[Any]  # ToolResult, one per tool
    routed_at: float  # perf_counter when its batch was routed
    tools_done_at: float
    outcomes: asyncio.Future  # -> list[ReasonerOutcome], of the batch's routed requests
    index: int


@serve.deployment
class AnswerService:
    """Ingress: admission (``serving.admission``) and the body per request, then in batches
    (``analyse``, on one thread) checks and decoding, features, routing and tools, and one
    reasoner call per batch to the reasoner deployment (a child application: its own
    replicas and GPUs)."""

    def __init__(self, router_dir: str, tools_config: Any, reasoner: Any, serve_config: Any, batch_size: int) -> None:
        from audiorouter.router.loading import load_router
        from audiorouter.tool_execution.runner import ToolRunner

        self.policy = load_router(router_dir)
        self.runner = ToolRunner.from_config(tools_config)
        self.reasoner = reasoner  # handle of reasoner.serve.ReasonerDeployment
        self.max_upload_bytes = max_upload_bytes(serve_config)
        self.max_duration_s = float(tools_config.max_duration_s)
        self.admission = Admission(serve_config.max_ongoing_requests, serve_config.max_queued_requests,
                                   budget_bytes(serve_config))
        self.retry_after = retry_after(serve_config)
        # the batch stage's CPU work, off the event loop; one thread, as the tool process runs
        # one call at a time anyway
        self.batching = ThreadPoolExecutor(1, "answer-batch")
        self.analyse.set_max_batch_size(batch_size)  # one batch of the ingress = one reasoner call
        self.analyse.set_batch_wait_timeout_s(0.0)  # never wait for company: what queued meanwhile joins
        # warm the router (the question encoder and the mel transform, or the router LM) so the
        # first request is not slow
        self.policy.route_clips([np.zeros(SAMPLE_RATE // 10, np.float32)], ["warm up"], [["yes", "no"]], ["warm-up"])

    async def __call__(self, request: Request) -> JSONResponse:
        path = request.url.path.rstrip("/") or "/"
        try:
            if path.endswith("/answer"):
                if request.method != "POST":
                    raise BadRequest("use POST", 405)
                return await self.admit(request)
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

    def admission_state(self) -> dict[str, int]:
        """What ``/stats`` shows of admission: requests admitted and their declared bytes."""
        a = self.admission
        return {"admitted": a.admitted, "capacity": a.capacity, "held_bytes": a.held_bytes,
                "budget_bytes": a.budget_bytes}

    async def admit(self, request: Request) -> JSONResponse:
        """Admission on the declared length, before the body is read (``serving.admission``)."""
        declared = await self.declared_length(request)
        if not self.admission.enter(declared):
            return JSONResponse({"error": "busy: try again later"}, status_code=503,
                                headers={"Retry-After": self.retry_after})
        try:
            async with self.admission.slots:
                return JSONResponse(await self.answer(request))
        finally:
            self.admission.leave(declared)

    async def declared_length(self, request: Request) -> int:
        """The body's Content-Length: 411 without one, 413 over the limit. A body at most
        twice the limit is read to its end (and dropped) before the 413: clients that send
        everything before reading the answer (Python's urllib) otherwise see the
        connection reset, not the 413."""
        declared = request.headers.get("content-length")
        if declared is None:
            raise BadRequest("a Content-Length header is required (the upload is admitted by its size)", 411)
        if not declared.isdigit():
            raise BadRequest(f"bad Content-Length {declared!r}")
        limit = self.max_upload_bytes
        if int(declared) > limit:
            if int(declared) <= 2 * limit:
                await drain(request, 2 * limit)
            raise BadRequest(f"upload of {declared} bytes is over the limit of {limit}", 413)
        return int(declared)

    async def read_body(self, request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.max_upload_bytes:  # HTTP framing stops at Content-Length; kept as a guard
                raise BadRequest(f"upload is over the limit of {self.max_upload_bytes} bytes", 413)
        return bytes(body)

    async def answer(self, request: Request) -> dict[str, Any]:
        t0 = time.perf_counter()
        upload = Upload(await self.read_body(request), request.headers.get("content-type", ""))
        t1 = time.perf_counter()
        routed = await self.analyse(upload)
        if isinstance(routed, Exception):
            raise routed
        checked = routed.checked
        # shielded: a client that leaves must not cancel the call its batch shares
        outcome = (await asyncio.shield(routed.outcomes))[routed.index]
        t4 = time.perf_counter()
        if outcome.error:
            raise RuntimeError(f"reasoner: {outcome.error}")
        index = int(outcome.chosen_index)
        return {
            "answer": prediction_text(checked.choices, index),
            "index": index,
            "tools": list(routed.tools),
            "summaries": {r.tool: (r.summary if r.ok else f"error: {r.error}") for r in routed.results},
            "latency_ms": {"route": ms(routed.routed_at - t1), "tools": ms(routed.tools_done_at - routed.routed_at),
                           "reason": ms(t4 - routed.tools_done_at), "total": ms(t4 - t0)},
            "truncated": checked.truncated,
            "duration_s": None if checked.duration_s is None else round(checked.duration_s, 3),
            "analysed_s": round(checked.analysed_s, 3),
        }

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0)
    async def analyse(self, uploads: list[Upload]) -> list[Routed | Exception]:
        """The requests whose bodies arrived while the last batch ran: checks, features,
        routes and tools in the batch thread, then their reasoner requests as one call,
        which runs on while the next batch starts. Under load batches grow to the
        reasoner's batch size. A request that fails a check gets its exception (its 4xx),
        the others go on."""
        ids = [f"req-{uuid.uuid4().hex}" for _ in uploads]
        routed_at, done = await asyncio.get_running_loop().run_in_executor(
            self.batching, self.check_route_run, uploads, ids)
        tools_done_at = time.perf_counter()
        ok = [k for k, item in enumerate(done) if not isinstance(item, Exception)]
        requests = [ReasonerRequest(ids[k], done[k].checked.waveform, SAMPLE_RATE, done[k].checked.question,
                                    done[k].checked.choices, None, done[k].results) for k in ok]
        outcomes = asyncio.ensure_future(self.reasoner.answer_many.remote(requests)) if ok else None
        position = {k: n for n, k in enumerate(ok)}
        return [item if isinstance(item, Exception) else
                Routed(item.checked, item.decision.tools, item.results, routed_at, tools_done_at, outcomes, position[k])
                for k, item in enumerate(done)]

    def check_route_run(self, uploads: list[Upload], ids: list[str]) -> tuple[float, list[Analysed | Exception]]:
        """(when routed, per upload its ``Analysed`` or the exception that failed it)."""
        checked = [self.check(upload) for upload in uploads]
        fine = [k for k, c in enumerate(checked) if not isinstance(c, Exception)]
        decisions = dict(zip(fine, self.route_all([checked[k] for k in fine], [ids[k] for k in fine]), strict=True))
        routed_at = time.perf_counter()
        done: list[Analysed | Exception] = []
        for k, request in enumerate(checked):
            decision = request if isinstance(request, Exception) else decisions[k]
            done.append(decision if isinstance(decision, Exception) else
                        Analysed(request, decision, self.runner.run(request.waveform, SAMPLE_RATE, list(decision.tools))))
        return routed_at, done

    def check(self, upload: Upload) -> CheckedRequest | Exception:
        try:
            return check_upload(upload.body, upload.content_type, self.max_duration_s)
        except Exception as exc:  # a BadRequest is its 4xx; anything else a 500 for this request alone
            return exc

    def route_all(self, batch: list[CheckedRequest], ids: list[str]) -> list[Any]:
        """Decisions (or the exception of a request that could not be routed): one pass for
        the batch; when that fails, one request at a time, so only the bad one fails."""
        if not batch:
            return []
        try:
            return self.route(batch, ids)
        except Exception as exc:
            log.warning("routing a batch of %d failed (%s: %s); routing each request alone",
                        len(batch), type(exc).__name__, exc)
            return [self.route_alone(checked, item_id) for checked, item_id in zip(batch, ids, strict=True)]

    def route(self, batch: list[CheckedRequest], ids: list[str]) -> list[Any]:
        return self.policy.route_clips([c.waveform for c in batch], [c.question for c in batch],
                                       [c.choices for c in batch], ids)

    def route_alone(self, checked: CheckedRequest, item_id: str) -> Any:
        try:
            return self.route([checked], [item_id])[0]
        except Exception as exc:  # the caller answers 500 with it
            return exc


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


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
    ``serve.num_cpus``, the reasoner deployment on the reasoner config's replicas, CPUs and
    GPUs. Serve's own limits sit above the ingress's admission (``admission.serve_limits``),
    so requests wait in the ingress, where their size is known, not in Serve's proxy."""
    from ray.serve.config import BackpressureConfig

    from audiorouter.reasoner.serve import reasoner_deployment

    max_ongoing, max_queued = serve_limits(serve_config)
    return AnswerService.options(
        ray_actor_options={"num_cpus": serve_config.num_cpus},
        max_ongoing_requests=max_ongoing,
        max_queued_requests=max_queued,
        backpressure_config=BackpressureConfig(status_code=503, retry_after_s=serve_config.retry_after_s),
    ).bind(str(router_dir), tools_config, reasoner_deployment(reasoner_config), serve_config,
           reasoner_config.serve_max_batch_size)


def max_upload_bytes(serve_config: Any) -> int:
    return int(serve_config.max_upload_mb * 1024 * 1024)


def start(router_dir: str, tools_config: Any, reasoner_config: Any, serve_config: Any):
    """Start Serve's HTTP proxy on ``serve.host:serve.port``: the answering application
    at ``/v1`` and the status application (``/healthz``, ``/readyz``, ``/stats``) at ``/``."""
    serve.start(http_options={"host": serve_config.host, "port": serve_config.port})
    handle = serve.run(build_app(router_dir, tools_config, reasoner_config, serve_config), name=APP_NAME,
                       route_prefix="/v1")
    serve.run(StatusService.bind(APP_NAME, INGRESS_DEPLOYMENT, REASONER_DEPLOYMENT), name=STATUS_APP_NAME,
              route_prefix="/")
    return handle
