"""``audiorouter serve`` as users start it: a process of its own with its own local Ray,
answering on a port until it is interrupted. The app's behaviour is tested in
tests/serving; this checks the command around it (options, config, shutdown)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from audiorouter.serving.client import get_json, post_answer, post_raw

from .support import TOOLS, free_port, tiny_policy, wav_bytes

STARTUP_S = 240  # a fresh Ray head, Serve's proxy and the deployments on 2 slow cores


def wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited early with {process.returncode}"
        try:
            if get_json(url + "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"serve was not healthy within {STARTUP_S} s")


def test_serve_command_answers_on_its_port_and_stops_on_interrupt(tmp_path):
    port = free_port()
    command = [
        sys.executable, "-m", "audiorouter.cli.main",
        "--set", "tools.enabled=[" + ",".join(TOOLS) + "]", "--set", f"tools.cache_dir={tmp_path / 'cache'}",
        "--set", "reasoner.memo_path=", "--set", "serve.num_cpus=0.5",
        "serve", "--router", str(tiny_policy(tmp_path / "policy")), "--port", str(port), "--max-upload-mb", "0.3",
    ]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        status, body = post_answer(url + "/v1/answer", wav_bytes(), "How fast is the tempo?", ["slow", "fast"])
        assert status == 200 and body["answer"] in ("slow", "fast"), body
        status, body = post_raw(url + "/v1/answer", b"x" * 400_000, "multipart/form-data; boundary=b")
        assert status == 413 and "error" in body  # the limit came from --max-upload-mb
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    assert "serving on http://127.0.0.1:" in (tmp_path / "serve.log").read_text()
