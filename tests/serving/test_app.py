"""The online Serve application over loopback HTTP: happy path, every bad-request case,
and a bounded load test (50 concurrent requests)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from audiorouter.config import load_config
from audiorouter.serving.client import get_json, post_answer, post_raw

from .support import TOOLS, free_port, tiny_policy, wav_bytes

MAX_UPLOAD = 400_000
CHOICES = ["slow", "medium", "fast"]


@pytest.fixture(scope="module")
def server(ray_session, tmp_path_factory):
    from ray import serve

    from audiorouter.serving.app import start

    tmp = tmp_path_factory.mktemp("serve")
    cfg = load_config(None, ["tools.enabled=[" + ",".join(TOOLS) + "]", f"tools.cache_dir={tmp / 'tool_cache'}",
                             "reasoner.memo_path=", "reasoner.serve_batch_wait_s=0.05"])
    port = free_port()
    start(str(tiny_policy(tmp / "policy")), cfg.tools, cfg.reasoner, port=port, max_upload_bytes=MAX_UPLOAD,
          num_cpus=0.5)
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


def well_formed(body: dict) -> bool:
    return (body.get("answer") in CHOICES and CHOICES[body["index"]] == body["answer"]
            and set(body["tools"]) <= set(TOOLS) and set(body["summaries"]) == set(body["tools"])
            and all(isinstance(s, str) for s in body["summaries"].values())
            and set(body["latency_ms"]) == {"route", "tools", "reason", "total"}
            and all(v >= 0 for v in body["latency_ms"].values()))


def test_healthz(server):
    assert get_json(server + "/healthz") == (200, {"status": "ok"})


def test_answer_happy_path(server):
    status, body = post_answer(server + "/v1/answer", wav_bytes(), "How fast is the tempo?", CHOICES)
    assert status == 200, body
    assert well_formed(body), body
    assert body["latency_ms"]["total"] >= body["latency_ms"]["reason"]


@pytest.mark.parametrize("audio, question, choices, status, needle", [
    (None, "q?", CHOICES, 400, "audio"),
    (b"", "q?", CHOICES, 400, "audio"),
    (b"this is not audio at all" * 10, "q?", CHOICES, 422, "unreadable"),
    ("ok", "q?", None, 400, "choices"),
    ("ok", "q?", "[not json", 400, "JSON"),
    ("ok", "q?", json.dumps({"a": 1}), 400, "list"),
    ("ok", "q?", json.dumps(["only one"]), 400, "list"),
    ("ok", "q?", json.dumps(["a", 3]), 400, "list"),
    ("ok", None, CHOICES, 400, "question"),
])
def test_bad_requests_get_4xx_json(server, audio, question, choices, status, needle):
    audio = wav_bytes(0.3) if audio == "ok" else audio
    got, body = post_answer(server + "/v1/answer", audio, question, choices)
    assert got == status, body
    assert needle.lower() in body["error"].lower()
    assert get_json(server + "/healthz")[0] == 200  # still serving


def test_oversized_upload_and_bad_content_type(server):
    assert len(wav_bytes(12.0, 16_000)) < MAX_UPLOAD < len(wav_bytes(14.0, 16_000))
    got, body = post_answer(server + "/v1/answer", wav_bytes(14.0, 16_000), "q?", CHOICES)
    assert got == 413 and "limit" in body["error"]
    got, body = post_raw(server + "/v1/answer", b'{"question": "q"}', "application/json")
    assert got == 415 and "multipart" in body["error"]
    got, body = get_json(server + "/v1/answer")
    assert got == 405 and "error" in body
    assert post_answer(server + "/v1/answer", wav_bytes(0.5), "q?", CHOICES)[0] == 200  # still serving


def test_load_fifty_concurrent_requests(server):
    clips = [wav_bytes(0.5 + 0.05 * (k % 5), freq=220.0 * (1 + k % 4)) for k in range(50)]

    def one(k: int):
        return post_answer(server + "/v1/answer", clips[k], f"Question {k}: how fast?", CHOICES, timeout=50)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert [status for status, _ in results] == [200] * 50, [b for s, b in results if s != 200][:3]
    assert all(well_formed(body) for _, body in results)
    _, stats = get_json(server + "/stats")
    assert max(stats["reasoner_batches"]) > 1  # concurrent requests shared a reasoner call
