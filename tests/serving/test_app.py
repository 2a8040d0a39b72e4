"""The online Serve application over loopback HTTP: happy path, every bad-request case
(the hostile ones included: NaN/inf audio, too many or clashing choices, odd rates),
truncation of long clips, readiness, and bounded load tests (50 concurrent valid requests
against room for 24: answered or 503 with Retry-After; 60 mixed valid and invalid ones),
admission (by count and by declared bytes, decided before a body is read, with the probes
answering while every place is taken) and the batching of concurrent requests' reasoner
calls."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from audiorouter.config import load_config
from audiorouter.serving.client import encode_multipart, get_json, post_answer, post_raw

from .support import (
    TOOLS,
    HeldRequest,
    complete,
    float_wav,
    free_port,
    holding,
    nan_wav,
    tiny_policy,
    wait_until,
    wav_bytes,
)

MAX_UPLOAD = 400_000
MAX_DURATION_S = 2.0  # tools.max_duration_s: longer clips are analysed on their first 2 s
CHOICES = ["slow", "medium", "fast"]
MAX_ONGOING, MAX_QUEUED = 8, 16  # admission: beyond 24 requests at once, 503 with Retry-After
MAX_BODIES_MB = 1.0  # ... or beyond 1 MiB of declared bodies


@pytest.fixture(scope="module")
def server(ray_session, tmp_path_factory):
    from ray import serve

    from audiorouter.serving.app import start

    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    cfg = load_config(None, ["tools.enabled=[" + ",".join(TOOLS) + "]", f"tools.cache_dir={tmp / 'tool_cache'}",
                             f"tools.max_duration_s={MAX_DURATION_S}", "reasoner.memo_path=", f"serve.port={port}",
                             f"serve.max_upload_mb={MAX_UPLOAD / 2**20}", f"serve.max_bodies_mb={MAX_BODIES_MB}",
                             "serve.num_cpus=0.5",
                             f"serve.max_ongoing_requests={MAX_ONGOING}", f"serve.max_queued_requests={MAX_QUEUED}",
                             "serve.retry_after_s=3"])
    start(str(tiny_policy(tmp / "policy")), cfg.tools, cfg.reasoner, cfg.serve)
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


def well_formed(body: dict) -> bool:
    return (body.get("answer") in CHOICES and CHOICES[body["index"]] == body["answer"]
            and set(body["tools"]) <= set(TOOLS) and set(body["summaries"]) == set(body["tools"])
            and all(isinstance(s, str) for s in body["summaries"].values())
            and set(body["latency_ms"]) == {"route", "tools", "reason", "total"}
            and all(v >= 0 for v in body["latency_ms"].values())
            and body["truncated"] is (body["duration_s"] > MAX_DURATION_S)
            and abs(body["analysed_s"] - min(body["duration_s"], MAX_DURATION_S)) <= 1e-3)


def test_healthz_and_readyz(server):
    assert get_json(server + "/healthz") == (200, {"status": "ok"})
    status, body = get_json(server + "/readyz")
    assert status == 200 and body["ready"] is True and body["application"] == "RUNNING", body
    assert body["deployments"] == {"AnswerService": "HEALTHY", "ReasonerDeployment": "HEALTHY"}
    assert get_json(server + "/no/such/path")[0] == 404


def test_an_upload_one_byte_over_the_limit_gets_413_even_from_urllib(server):
    """urllib sends the whole body before reading: the server reads it to the end (up to
    twice the limit) before answering, instead of resetting the connection."""
    status, body = post_raw(server + "/v1/answer", b"x" * (MAX_UPLOAD + 1), "multipart/form-data; boundary=b")
    assert status == 413 and "over the limit" in body["error"]
    assert post_answer(server + "/v1/answer", wav_bytes(0.5), "q?", CHOICES)[0] == 200  # still serving


def test_answer_happy_path(server):
    status, body = post_answer(server + "/v1/answer", wav_bytes(), "How fast is the tempo?", CHOICES)
    assert status == 200, body
    assert well_formed(body), body
    assert body["latency_ms"]["total"] >= body["latency_ms"]["reason"]
    assert (body["truncated"], body["duration_s"], body["analysed_s"]) == (False, 1.0, 1.0)


@pytest.mark.parametrize("sample_rate", [8001, 44_100, 11_025])
def test_awkward_sample_rates_are_answered(server, sample_rate):
    status, body = post_answer(server + "/v1/answer", wav_bytes(0.5, sample_rate), "How fast?", CHOICES)
    assert status == 200 and well_formed(body), body
    assert body["analysed_s"] == pytest.approx(0.5, abs=1e-3)


def test_a_long_clip_says_only_its_first_part_was_analysed(server):
    status, body = post_answer(server + "/v1/answer", wav_bytes(3.0, 16_000), "How fast?", CHOICES)
    assert status == 200 and well_formed(body), body
    assert (body["truncated"], body["duration_s"], body["analysed_s"]) == (True, 3.0, MAX_DURATION_S)


@pytest.mark.parametrize("audio, question, choices, status, needle", [
    (None, "q?", CHOICES, 400, "audio"),
    (b"", "q?", CHOICES, 422, "audio bytes are empty"),  # the part is there, empty: unusable audio
    (b"this is not audio at all" * 10, "q?", CHOICES, 422, "unreadable"),
    ("ok", "q?", None, 400, "choices"),
    ("ok", "q?", "[not json", 400, "JSON"),
    ("ok", "q?", json.dumps({"a": 1}), 400, "list"),
    ("ok", "q?", json.dumps(["only one"]), 400, "at least 2 options"),
    ("ok", "q?", json.dumps(["a", 3]), 400, "list"),
    ("ok", None, CHOICES, 400, "question"),
    ("ok", "   ", CHOICES, 400, "question"),
    # hostile cases that used to reach the reasoner and come back as a 500
    (nan_wav(), "q?", CHOICES, 422, "10 NaN/inf samples"),
    (nan_wav(float("inf")), "q?", CHOICES, 422, "10 NaN/inf samples"),
    ("ok", "q?", [f"choice {i}" for i in range(27)], 400, "at most 26 options"),
    ("ok", "q?", ["Yes", "yes"], 400, "duplicate choice(s) 'Yes' and 'yes'"),
    ("ok", "q?", [" Yes", "Yes  "], 400, "duplicate choice"),
    ("ok", "q?", ["a", "b", ""], 400, "choice 2 is empty"),
    (float_wav([]), "q?", CHOICES, 422, "no samples"),
    (float_wav([0.1] * 400, sample_rate=400), "q?", CHOICES, 422, "sample rate 400 Hz is outside"),
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


def post_with_headers(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_fifty_at_once_are_answered_or_told_when_to_retry(server):
    """50 concurrent requests against room for 24 (8 answering, 16 waiting): each is a
    200 or a 503 with Retry-After, the 200s batched in the reasoner; /healthz answers
    throughout (it is another application)."""
    clips = [wav_bytes(0.5 + 0.05 * (k % 5), freq=220.0 * (1 + k % 4)) for k in range(50)]

    def one(k: int):
        body, content_type = encode_multipart({"question": f"Question {k}: how fast?", "choices": json.dumps(CHOICES)},
                                              {"audio": ("clip.wav", clips[k])})
        return post_with_headers(server + "/v1/answer", body, content_type)

    with ThreadPoolExecutor(max_workers=50) as pool:
        pending = [pool.submit(one, k) for k in range(50)]
        assert get_json(server + "/healthz", timeout=5) == (200, {"status": "ok"})
        results = [future.result() for future in pending]
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {200, 503} and statuses.count(503) > 0 and statuses.count(200) >= MAX_ONGOING, statuses
    assert all(well_formed(json.loads(body)) for status, _, body in results if status == 200)
    assert all(headers.get("retry-after") == "3" for status, headers, _ in results if status == 503)
    _, stats = get_json(server + "/stats")
    assert any(int(size) > 1 for size in stats["reasoner_batches"]["sizes"])  # they shared reasoner calls


# (kind, audio, question, choices, the status it must get): valid clips and each invalid kind
MIXED = [
    ("valid-22050", wav_bytes(0.4), "How fast?", CHOICES, 200),
    ("valid-8001", wav_bytes(0.4, 8001), "How fast?", CHOICES, 200),
    ("valid-long", wav_bytes(2.5, 16_000), "How fast?", CHOICES, 200),
    ("nan", nan_wav(), "How fast?", CHOICES, 422),
    ("inf", nan_wav(float("inf")), "How fast?", CHOICES, 422),
    ("garbage", b"RIFF not really" * 20, "How fast?", CHOICES, 422),
    ("27-choices", wav_bytes(0.3), "How fast?", [f"c{i}" for i in range(27)], 400),
    ("case-duplicates", wav_bytes(0.3), "How fast?", ["Yes", "yes"], 400),
    ("empty-choice", wav_bytes(0.3), "How fast?", ["a", ""], 400),
    ("no-question", wav_bytes(0.3), None, CHOICES, 400),
    ("no-audio", None, "How fast?", CHOICES, 400),
    ("rate-too-low", float_wav([0.1] * 300, sample_rate=300), "How fast?", CHOICES, 422),
]


def test_bounded_load_of_mixed_valid_and_invalid_requests(server):
    """60 requests on 4 threads, each kind of MIXED in turn: only 200s and the 4xx each
    invalid kind must get, never a 500; the server still answers /healthz afterwards."""

    def one(k: int):
        kind, audio, question, choices, _ = MIXED[k % len(MIXED)]
        return kind, post_answer(server + "/v1/answer", audio, question, choices, timeout=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(60)))
    expected = {kind: status for kind, *_, status in MIXED}
    wrong = [(kind, status, body) for kind, (status, body) in results if status != expected[kind]]
    assert not wrong, wrong[:3]
    assert all(well_formed(body) for _, (status, body) in results if status == 200)
    assert all(body["error"] for _, (status, body) in results if status != 200)
    assert get_json(server + "/healthz", timeout=5) == (200, {"status": "ok"})


def stats(server: str) -> dict:
    status, body = get_json(server + "/stats")
    assert status == 200, body
    return body


def admitted(server: str) -> tuple[int, int]:
    """(requests the ingress has admitted, the bytes their bodies declare)."""
    admission = stats(server)["admission"]
    return admission["admitted"], admission["held_bytes"]


def test_concurrent_requests_share_reasoner_calls(server):
    """16 requests at once (room for all), distinct clips (no tool cache hits), held until
    each is on the wire but for its last byte, then completed together: those that
    arrive while a batch is analysed go on as the next batch, whose reasoner requests
    reach the reasoner together, so answer() calls average at least two requests. Sent to
    the reasoner one by one, each arrived alone (the tool process finishes one clip at a
    time, slower than the reasoner's batch window)."""
    before = stats(server)["reasoner_batches"]
    bodies = [encode_multipart({"question": f"Question {k}: how fast?", "choices": json.dumps(CHOICES)},
                               {"audio": ("clip.wav", wav_bytes(0.5, freq=300.0 + 7.0 * k))}) for k in range(16)]
    with holding([HeldRequest(server + "/v1/answer", body, content_type, len(body) - 1)
                  for body, content_type in bodies]) as held:
        wait_until(lambda: admitted(server)[0] == len(held), "all 16 admitted")
        results = complete(held)
    assert all(status == 200 and well_formed(body) for status, body in results), results
    after = stats(server)["reasoner_batches"]
    calls, requests = after["calls"] - before["calls"], after["requests"] - before["requests"]
    assert requests == 16 and requests / calls >= 2, (before, after)


def test_probes_answer_while_every_place_in_the_ingress_is_taken(server):
    """24 requests held half sent (8 answering, stuck reading their bodies, 16 waiting for
    a slot): /healthz and /readyz answer, a 25th request gets 503 with Retry-After at once,
    and once the 24 bodies are sent to their end, all 24 are answered."""
    body, content_type = encode_multipart({"question": "How fast?", "choices": json.dumps(CHOICES)},
                                          {"audio": ("clip.wav", wav_bytes(0.3))})
    with holding([HeldRequest(server + "/v1/answer", body, content_type, len(body) // 2)
                  for _ in range(MAX_ONGOING + MAX_QUEUED)]) as held:
        wait_until(lambda: admitted(server)[0] == len(held), "every held request admitted")
        assert get_json(server + "/healthz") == (200, {"status": "ok"})
        status, ready = get_json(server + "/readyz")
        assert status == 200 and ready["ready"] is True, ready
        status, headers, _ = post_with_headers(server + "/v1/answer", body, content_type)
        assert status == 503 and headers.get("retry-after") == "3"
        results = complete(held)
    assert all(status == 200 and well_formed(answer) for status, answer in results), results
    wait_until(lambda: admitted(server) == (0, 0), "every place given back")


def test_a_body_over_the_byte_budget_is_refused_before_any_of_it_is_sent(server):
    """Two requests declaring MAX_UPLOAD bytes each are held with none of their bodies
    sent (800,000 of the 1 MiB budget): a third declaring as much gets 503 with
    Retry-After though it sent nothing but its headers and 22 places are free; a small
    request still fits and is answered; the clients that leave give their bytes back."""
    big, content_type = b"x" * MAX_UPLOAD, "multipart/form-data; boundary=b"
    with holding([HeldRequest(server + "/v1/answer", big, content_type, 0) for _ in range(2)]):
        wait_until(lambda: admitted(server) == (2, 2 * MAX_UPLOAD), "both declarations admitted")
        third = HeldRequest(server + "/v1/answer", big, content_type, 0)
        status, answer = third.response()
        assert status == 503 and third.retry_after == "3" and "busy" in answer["error"]
        assert post_answer(server + "/v1/answer", wav_bytes(0.5), "How fast?", CHOICES)[0] == 200
    wait_until(lambda: admitted(server) == (0, 0), "the bytes of the clients that left given back")


def test_a_body_without_a_content_length_gets_411(server):
    body, content_type = encode_multipart({"question": "How fast?", "choices": json.dumps(CHOICES)},
                                          {"audio": ("clip.wav", wav_bytes(0.3))})
    port = int(server.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/v1/answer", body=iter([body[:1000], body[1000:]]), encode_chunked=True,
                           headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert status == 411 and "Content-Length" in answer["error"]
