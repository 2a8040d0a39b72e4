"""One process at a time in a run folder: a lock file holding the owner's pid and host.

Two ``train`` (or ``study``) processes started with the same name and output folder would
write the same checkpoints, metrics and MLflow run. ``RunFolderLock(folder)`` creates
``folder/run.lock`` with ``O_CREAT | O_EXCL`` (atomic on local and network file systems,
unlike ``flock``, which NFS does not honour) and removes it when the run ends. A second
process finds the file and stops with ``RunFolderBusy`` naming the owner. A lock whose
owner is dead (the same host, and no process with that pid, or one that started after
the lock was written) is taken over with a warning: a run killed with ``kill -9`` does
not block its ``--resume``. A lock from another host cannot be checked from here, so it
is only ever reported, with how to remove it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

log = logging.getLogger(__name__)
LOCK_FILE = "run.lock"


class RunFolderBusy(RuntimeError):
    """Another live process owns the run folder; the message names it and what to do."""


class RunFolderLock:
    """``with RunFolderLock(folder, "train"):`` owns ``folder`` for the block."""

    def __init__(self, folder: str | Path, command: str) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                      "started": time.time()}

    def __enter__(self) -> RunFolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # a takeover that races another taker tries again
            if self._create():
                return self
            holder = self._read_holder()
            if holder is None:  # vanished between our attempt and the read: its owner released it
                continue
            if not self._is_stale(holder):
                raise RunFolderBusy(
                    f"{self.path.parent} is in use by {holder.get('command', 'a run')} (pid {holder.get('pid')} on "
                    f"{holder.get('host')}, since {_when(holder)}); wait for it, choose another run.name, or, if "
                    f"that process is gone, delete {self.path}")
            log.warning("taking over %s from pid %s on %s, which is no longer running", self.path,
                        holder.get("pid"), holder.get("host"))
            self._remove_if(holder)
        raise RunFolderBusy(f"{self.path.parent}: could not take the lock {self.path} (other processes keep taking it)")

    def __exit__(self, *_: object) -> None:
        self._remove_if(self.owner)

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(self.owner))
        return True

    def _read_holder(self) -> dict | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            holder = json.loads(text)
        except json.JSONDecodeError:
            holder = None
        if not isinstance(holder, dict):  # cut while being written: only a dead writer leaves it so
            age = time.time() - self.path.stat().st_mtime
            return {"pid": None, "host": socket.gethostname(), "unreadable": True, "started": time.time() - age}
        return holder

    def _is_stale(self, holder: dict) -> bool:
        if holder.get("host") != socket.gethostname():
            return False
        if holder.get("unreadable"):
            return time.time() - holder["started"] > 5  # a writer takes microseconds; give it seconds
        pid = holder.get("pid")
        return not isinstance(pid, int) or not _alive(pid, holder.get("started"))

    def _remove_if(self, holder: dict) -> None:
        """Remove the lock only while it is still ``holder``'s (never a newer owner's)."""
        current = self._read_holder()
        if current is not None and (current == holder or (holder.get("unreadable") and current.get("unreadable"))):
            self.path.unlink(missing_ok=True)


def _alive(pid: int, started: float | None) -> bool:
    """Is ``pid`` a running process that began before the lock (not a reused pid)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    if started is None:
        return True
    try:  # a process that started after the lock was written is a reused pid, not the owner
        return _process_start_time(pid) <= started + 1.0
    except OSError:
        return True


def _process_start_time(pid: int) -> float:
    """When ``pid`` started, in seconds since the epoch (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[19])  # starttime: field 22 of stat, in clock ticks after boot
    with open("/proc/stat") as handle:
        boot = next(float(line.split()[1]) for line in handle if line.startswith("btime"))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _when(holder: dict) -> str:
    started = holder.get("started")
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, int | float) else "?"
