"""A tiny stdlib HTTP client for the serving application (tests, benchmark, smoke checks)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def encode_multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data request."""
    boundary = f"----audiorouter{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for name, (filename, content) in files.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def post_answer(url: str, audio: bytes | None, question: str | None, choices: Any,
                timeout: float = 60.0) -> tuple[int, dict[str, Any]]:
    """POST ``url`` (``.../v1/answer``); ``choices`` a list (sent as JSON) or a raw string."""
    fields = {}
    if question is not None:
        fields["question"] = question
    if choices is not None:
        fields["choices"] = choices if isinstance(choices, str) else json.dumps(choices)
    body, content_type = encode_multipart(fields, {"audio": ("clip.wav", audio)} if audio is not None else {})
    return post_raw(url, body, content_type, timeout)


def post_raw(url: str, body: bytes, content_type: str, timeout: float = 60.0) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    return _send(req, timeout)


def get_json(url: str, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    return _send(urllib.request.Request(url), timeout)


def _send(req: urllib.request.Request, timeout: float) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, {"error": text.decode("utf-8", "replace")}
