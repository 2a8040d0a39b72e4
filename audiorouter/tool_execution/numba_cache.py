"""numba's compiled-kernel cache, made safe for many tool processes at once.

librosa compiles its kernels with ``@jit(cache=True)`` / ``@guvectorize(cache=True)``.
When two processes compile the same gufunc at once, the pair of cache files (``X.nbi``
+ data and ``guf-X.nbi`` + data) can come from different processes and no longer
match; every later load of that pair segfaults (numba issue #10128, librosa #1998).
Our tool workers start together, so on a cold cache they hit exactly that.

What we do, both halves:

1. **Compiled once, by one process.** ``ensure_warm()`` runs every tool on the probe
   signals (``probe_signals.WARMUP``) in one child process whose cache is the shared
   folder, under an exclusive ``flock``, and leaves a stamp (keyed by the numba,
   librosa and tool versions) inside that folder. ``make setup`` calls it; so does
   every pool of tool workers before it starts, which costs a stat when the stamp is
   there. That is what makes starting workers fast (a cold compile is ~35 s).
2. **Each tool process writes only to a cache of its own.** ``use_private_cache()``
   copies the shared folder (a few MB, under a shared ``flock``, so never mid-warm-up)
   into a private folder and points ``NUMBA_CACHE_DIR`` at it, before numba is
   imported. An input with a memory layout the probes did not reach (it happens: a
   Fortran-ordered array into ``sequence._viterbi``) compiles in that process only,
   never racing another. So the race cannot happen, whatever the inputs.

The shared folder is ``NUMBA_CACHE_DIR`` when the user sets it, else
``~/.cache/audiorouter/numba``. Private copies live in the system temp folder and are
removed when their process exits (or, after a crash, by the next process that starts).
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from audiorouter.tools.base import TOOLS, available_tools, get_tool
from audiorouter.tools.probe_signals import SR, WARMUP

log = logging.getLogger(__name__)

SHARED_ENV = "AUDIOROUTER_SHARED_NUMBA_CACHE"  # set in tool processes: the folder they copied
PRIVATE_PREFIX = "audiorouter-numba-"
WARMUP_TIMEOUT_S = 900.0


def shared_cache_dir() -> Path:
    """The folder warm-ups write and tool processes copy."""
    chosen = os.environ.get(SHARED_ENV) or os.environ.get("NUMBA_CACHE_DIR")
    return Path(chosen) if chosen else Path.home() / ".cache" / "audiorouter" / "numba"


def _stamp_name() -> str:
    tools = ",".join(f"{name}={cls.version}" for name, cls in sorted((n, TOOLS.get(n)) for n in TOOLS.names()))
    # numba keys its cache files by the source file's path: another venv needs its own warm-up
    where = importlib.util.find_spec("librosa").origin
    key = f"numba={version('numba')};librosa={version('librosa')}@{where};py={sys.version_info[:2]};{tools}"
    return f".warm-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _locked(folder: Path, mode: int):
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / ".lock", "a")  # noqa: SIM115  (closed by the caller's with)
    fcntl.flock(handle, mode)
    return handle


def ensure_warm() -> bool:
    """Compile the tools' kernels into the shared folder unless its stamp says they are
    there. True when the cache is warm afterwards. Safe to call from many processes."""
    folder = shared_cache_dir()
    stamp = folder / _stamp_name()
    if stamp.exists():
        return True
    try:
        return _warm_under_lock(folder, stamp)
    except (OSError, subprocess.SubprocessError) as exc:  # a read-only home, a stuck warm-up
        log.error("cannot warm the numba cache in %s (%s); each tool process will compile for itself", folder, exc)
        return False


def _warm_under_lock(folder: Path, stamp: Path) -> bool:
    with _locked(folder, fcntl.LOCK_EX):
        if stamp.exists():  # another process warmed it while we waited
            return True
        log.info("compiling the tools' numba kernels once into %s (about half a minute)", folder)
        env = {k: v for k, v in os.environ.items() if k != SHARED_ENV} | {"NUMBA_CACHE_DIR": str(folder)}
        done = subprocess.run([sys.executable, "-m", "audiorouter.tool_execution.numba_cache"], env=env,
                              timeout=WARMUP_TIMEOUT_S, capture_output=True, text=True)
        if done.returncode != 0:
            log.error("kernel warm-up failed (exit %s); each tool process will compile on its own:\n%s",
                      done.returncode, done.stderr[-2000:])
            return False
        stamp.write_text(done.stdout)
    return True


def use_private_cache() -> Path | None:
    """Point this process's numba at a private copy of the shared folder. Call it first
    thing in a tool process; returns the copy (None when numba is already imported
    here, which would make the switch useless)."""
    if "numba" in sys.modules:
        log.warning("numba already imported in process %d: it keeps its cache folder", os.getpid())
        return None
    shared = shared_cache_dir()
    _remove_orphans()
    private = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-"))
    try:
        if shared.is_dir():
            with _locked(shared, fcntl.LOCK_SH):
                shutil.copytree(shared, private, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".lock", "*.tmp.*"))
    except OSError as exc:  # the copy is a speed-up only: compile from scratch rather than fail
        log.warning("could not copy the numba cache %s (%s); this process compiles its kernels", shared, exc)
    os.environ[SHARED_ENV] = str(shared)
    os.environ["NUMBA_CACHE_DIR"] = str(private)
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    return private


def _remove_orphans() -> None:
    """Private copies left by processes that died without running their atexit."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}*"):
        pid = folder.name[len(PRIVATE_PREFIX):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def compile_kernels() -> list[str]:
    """Run every core tool on every warm-up signal in this process (its numba cache is
    the shared folder). Returns one line per tool for the stamp."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    lines = []
    for tool in available_tools():
        if TOOLS.get(tool).optional:  # the packaged-model extras compile no numba kernels
            continue
        for make in WARMUP.values():
            get_tool(tool).run(make(), SR)
        lines.append(f"{tool} {TOOLS.get(tool).version}")
    return lines


if __name__ == "__main__":
    if "--ensure" in sys.argv:  # make setup: warm the shared folder (a no-op when warm)
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        sys.exit(0 if ensure_warm() else 1)
    print("\n".join(compile_kernels()))
