"""Parsing and checking one upload (``check_upload``), without Ray: what the Serve app
runs in a worker thread before any tool. The app over HTTP is ``test_app.py``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from audio_helpers import encoded, silence_flac, unknown_length

from audiorouter.contracts import SAMPLE_RATE
from audiorouter.serving.app import BadRequest, check_upload

from .support import float_wav, wav_bytes

CHOICES = ["slow", "fast"]


def multipart(audio: bytes, choices: str = json.dumps(CHOICES), boundary: str = "b0undary") -> bytes:
    parts = [('name="question"', b"How fast?"), ('name="choices"', choices.encode()),
             ('name="audio"; filename="clip"', audio)]
    return b"".join(f"--{boundary}\r\nContent-Disposition: form-data; {head}\r\n\r\n".encode() + body + b"\r\n"
                    for head, body in parts) + f"--{boundary}--\r\n".encode()


def test_two_hours_of_flac_are_cut_to_the_window_without_decoding_the_rest():
    checked = check_upload(multipart(silence_flac(2 * 3600)), "multipart/form-data; boundary=b0undary", 30.0)
    assert (checked.truncated, checked.duration_s, checked.analysed_s) == (True, 7200.0, 30.0)


def test_a_stream_that_does_not_say_its_length_reports_none():
    flac = unknown_length(encoded(np.zeros(3 * SAMPLE_RATE, np.float32), SAMPLE_RATE, "FLAC", "PCM_16"))
    checked = check_upload(multipart(flac), "multipart/form-data; boundary=b0undary", 1.0)
    assert (checked.truncated, checked.duration_s, checked.analysed_s) == (True, None, 1.0)


def test_parameter_names_ignore_case_and_a_one_sample_clip_is_accepted():
    checked = check_upload(multipart(float_wav([0.2])), 'multipart/form-data; BOUNDARY="b0undary"', 30.0)
    assert checked.waveform.size == 1 and checked.duration_s == pytest.approx(1 / SAMPLE_RATE)


@pytest.mark.parametrize("body, status, message", [
    (multipart(b""), 422, "audio bytes are empty"),  # the part is there, with nothing in it
    (multipart(wav_bytes(0.2), choices="[" * 100_000 + "]" * 100_000), 400,
     "'choices' is nested 100000 deep, over the limit of 64"),
])
def test_refusals(body, status, message):
    with pytest.raises(BadRequest) as caught:
        check_upload(body, "multipart/form-data; boundary=b0undary", 30.0)
    assert (caught.value.status, str(caught.value)) == (status, message)
