"""The Serve app's parsing and checks (``check_upload``) under generated and mutated
requests: each ends in a checked request or a 4xx with a message, never another
exception (a 500 over HTTP), and allocates in proportion to the window and the body."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
from fuzz_strategies import CLIPS, FUZZ, audio_bytes, choices_values, deep_json, dumps, json_values, texts
from hypothesis import event, given
from hypothesis import strategies as st

from audiorouter.contracts import SAMPLE_RATE
from audiorouter.serving.app import BadRequest, check_upload

WINDOW_S = 2.0
CLIENT_ERRORS = {400, 413, 415, 422}


@st.composite
def upload(draw) -> tuple[bytes, str]:
    """(body, content type): a valid request with, mostly, one part of it mutated -- the
    question, the choices, the audio (a damaged or odd clip), the framing or the content
    type -- so each mutation is reached past the checks before it."""
    target = draw(st.sampled_from(["none", "question", "choices", "audio", "audio", "audio", "framing", "type"]))
    boundary = "b0undary"
    question = b"How fast is it?"
    choices = json.dumps(["slow", "fast"]).encode()
    audio = draw(st.sampled_from(CLIPS))
    audio_head = b'name="audio"; filename="c.wav"'
    if target == "question":
        question = draw(texts).encode("utf-8", "surrogatepass") if draw(st.booleans()) else draw(st.binary(max_size=40))
    elif target == "choices":
        choices = draw(st.one_of(choices_values.map(dumps), deep_json, st.text(max_size=30))).encode(
            "utf-8", "surrogatepass")
    elif target == "audio":
        audio = draw(audio_bytes)
        audio_head = draw(st.sampled_from([audio_head, b'NAME="audio"', b'name="audio']))
    fields = [(b'name="question"', question), (b'name="choices"', choices), (audio_head, audio)]
    crlf, preamble, ending = b"\r\n", b"", b"--" + boundary.encode() + b"--\r\n"
    if target == "framing":
        fields = draw(st.permutations(draw(st.lists(st.sampled_from(fields), max_size=4))))
        boundary = draw(st.sampled_from([boundary, "----x", "a" * 70, "with space"]))
        crlf = draw(st.sampled_from([b"\r\n", b"\n"]))
        preamble = draw(st.sampled_from([b"", b"preamble\r\n"]))
        ending = draw(st.sampled_from([b"--" + boundary.encode() + b"--\r\n", b"", b"--" + boundary.encode()]))
    body = preamble
    for head, content in fields:
        body += b"--" + boundary.encode() + crlf + b"Content-Disposition: form-data; " + head + crlf + crlf
        body += content + crlf
    body += ending
    content_type = f"multipart/form-data; boundary={boundary}"
    if target in ("type", "framing"):
        content_type = draw(st.sampled_from([
            content_type, f'multipart/form-data; boundary="{boundary}"', f"Multipart/Form-Data; BOUNDARY={boundary}",
            "multipart/form-data", "application/json", f"multipart/form-data; charset=utf-8; boundary={boundary}", ""]))
    return body, content_type


@FUZZ
@given(upload())
def test_every_upload_is_checked_or_refused_with_a_4xx(request):
    body, content_type = request
    tracemalloc.start()
    try:
        checked = check_upload(body, content_type, WINDOW_S)
    except BadRequest as exc:
        assert exc.status in CLIENT_ERRORS and str(exc), (exc.status, str(exc))
        event(f"refused {exc.status}")
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # what Python and numpy allocate: the body's copies, the window, a decoded block
    assert peak < 4 * len(body) + 16 * 2**20, peak
    wave = checked.waveform
    assert wave.dtype == np.float32 and wave.ndim == 1 and 0 < wave.size <= WINDOW_S * SAMPLE_RATE + 1
    assert np.isfinite(wave).all() and checked.question.strip() and len(checked.choices) >= 2
    event("checked")


@FUZZ
@given(json_values)
def test_any_json_as_choices_is_a_list_of_choices_or_a_400(value):
    body = (b'--b\r\nContent-Disposition: form-data; name="question"\r\n\r\nHow fast?\r\n'
            b'--b\r\nContent-Disposition: form-data; name="choices"\r\n\r\n' + dumps(value).encode() + b"\r\n"
            b'--b\r\nContent-Disposition: form-data; name="audio"; filename="c"\r\n\r\n' + CLIPS[0] + b"\r\n--b--\r\n")
    try:
        checked = check_upload(body, "multipart/form-data; boundary=b", WINDOW_S)
    except BadRequest as exc:
        assert exc.status == 400 and str(exc)
        return
    assert checked.choices == value

