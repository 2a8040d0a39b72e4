"""Tools run in a child process: a segfault, an OOM kill or a hang costs one call.

    process = ToolProcess(limits)
    result, crashed = process.call("tempo", waveform, 16_000, timeout_s=60.0)

The child (``python -m audiorouter.tool_execution.process``) switches numba to a private copy of
the warmed kernel cache (``numba_cache.use_private_cache``) before it imports any tool,
then answers one call at a time over a pipe. When it dies during a call, that call
becomes an error result naming the tool and the signal, ``crashed`` is True (the caller
counts crashes per tool, see ``health``) and the next call starts a fresh child.
A call past its deadline kills the child: the limit is hard, unlike a thread's.

Importing ``audiorouter.tools`` loads no analysis library (the built-in tools are
imported on the registry's first use), so the child switches numba's cache before
librosa, and so numba, is imported.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from audiorouter.tool_execution.numba_cache import ensure_warm, use_private_cache
from audiorouter.tools.base import TOOLS, error_result, load_tool_plugins, run_tool

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 600.0  # imports and the first model loads are not part of a call's deadline


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class ToolProcess:
    """One child process running tool calls, one at a time (thread-safe)."""

    def __init__(self, limits: Any = None, plugins: tuple[str, ...] = ()) -> None:
        self.limits = limits
        self.plugins = tuple(plugins)
        self.starts = 0
        self._proc: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"limits": self.limits, "plugins": self.plugins}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["limits"], state["plugins"])

    def call(self, tool: str, waveform: Any, sample_rate: Any, timeout_s: float | None) -> tuple[Any, bool]:
        """(ToolResult, whether the child died). Never raises for what the tool does."""
        with self._lock:
            try:
                self._ensure_started()
                self._send.send((tool, waveform, sample_rate, self.limits))
            except (OSError, EOFError, RuntimeError) as exc:
                return error_result(tool, f"tool process unavailable: {exc}"), True
            start = time.monotonic()
            if not self._recv.poll(timeout_s):
                self.stop()
                log.error("tool %s passed its %g s limit; its process was killed", tool, timeout_s)
                return error_result(tool, f"timeout: no result within {timeout_s:g} s", timeout_s * 1000.0), False
            try:
                return self._recv.recv(), False
            except (EOFError, OSError):
                cause = self._reap()
                log.error("tool %s crashed its process (%s)", tool, cause)
                return error_result(tool, f"crashed: the tool process died ({cause})",
                                    (time.monotonic() - start) * 1000.0), True

    def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        ensure_warm()  # compile once, by one process, before any tool process uses the cache
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env.setdefault("HF_HUB_OFFLINE", "1")
        # what this process can import, the child can (plugin modules included)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "audiorouter.tool_execution.process", str(to_child_r), str(from_child_w),
             *self.plugins],
            pass_fds=(to_child_r, from_child_w), env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._send, self._recv = Connection(to_child_w, readable=False), Connection(from_child_r, writable=False)
        self.starts += 1
        if not self._recv.poll(STARTUP_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"did not start within {STARTUP_TIMEOUT_S:g} s")
        try:
            self._recv.recv()  # "ready"
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"exited while starting ({self._reap()})") from exc

    def _reap(self) -> str:
        code = self._proc.wait(timeout=30) if self._proc is not None else None
        self._close()
        return _describe_exit(code)

    def stop(self) -> None:
        """Kill the child (the next call starts a new one)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        for conn in (self._send, self._recv):
            if conn is not None:
                conn.close()
        self._proc, self._send, self._recv = None, None, None

    def __del__(self) -> None:
        try:
            self.stop()
        except Exception:  # interpreter shutdown: nothing left to clean
            pass


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when its parent dies (a killed actor must not
    leave a hung tool behind)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends an idle child
        pass
    if os.getppid() == 1:  # the parent died before the call above
        sys.exit(0)


def _child_main(read_fd: int, write_fd: int, plugins: list[str]) -> None:
    _die_with_parent()

    use_private_cache()  # before numba is imported (by librosa, through the tools)
    TOOLS.load()  # imports librosa and friends, now on the private cache
    load_tool_plugins(plugins)

    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    outbox.send("ready")
    while True:
        try:
            tool, waveform, sample_rate, limits = inbox.recv()
        except EOFError:  # the parent is gone or closed the pipe
            return
        outbox.send(run_tool(tool, waveform, sample_rate, limits))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="tool process: %(levelname)s %(message)s")
    _child_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
