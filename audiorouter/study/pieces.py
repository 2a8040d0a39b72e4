"""What each piece of a study cost: one line per run of the study command.

A study on this project's CPU machines runs in pieces (a machine is held for hours, the
study takes longer; the memo and the kept results make each restart continue). Readers
of the numbers ask what the whole cost, so every run appends a record to
``pieces.jsonl`` in ``study.keep_dir`` (the run folder without one) and keeps it current:
when it starts, at each phase's start and end, every ``HEARTBEAT_S`` seconds while it
runs, and when it ends (finished, interrupted, terminated or failed). A piece killed without notice
keeps ``status: running`` and its last heartbeat, which the report reads as its end.

Each record: the piece's number, start and last-seen times (UTC), the code's commit, the
machine's CPU count, the dataset's lineage (``study.lineage``), seconds per phase, and the work it added:
model answers (memo rows now less at its start, not counting rows imported from shards;
None with a memo service, whose rows the driver does not count) and finished trials
(results in the run folder now less at its start, not counting restored ones). The
report (``render_pieces``) shows the pieces of the study's current items (or of the items
they continue) and their totals.

One writer per folder at a time (two studies sharing a keep folder would interleave
their records; the study is meant to run one piece at a time).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from audiorouter.state_files import write_text_atomic
from audiorouter.study.lineage import continues

log = logging.getLogger(__name__)
PIECES_FILE = "pieces.jsonl"
HEARTBEAT_S = 60.0
RUNNING, FINISHED, INTERRUPTED, TERMINATED = "running", "finished", "interrupted", "terminated"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_pieces(folder: str | Path) -> list[dict]:
    """Every record in ``folder``'s ledger (none when it has no ledger); a line that does
    not parse (a file cut short by a crash) is reported and skipped."""
    path = Path(folder) / PIECES_FILE
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            log.warning("%s line %d is not a JSON record (%s): skipped", path, number, err)
    return records


class PieceLedger:
    """The current piece's record in ``folder``/pieces.jsonl, rewritten whole on every
    update (the file holds a line per piece: small)."""

    def __init__(self, folder: str | Path, commit: str, model_answers: Callable[[], int | None],
                 trials: Callable[[], int], heartbeat_s: float = HEARTBEAT_S) -> None:
        self.path = Path(folder) / PIECES_FILE
        self.count_answers, self.count_trials = model_answers, trials
        self.heartbeat_s = heartbeat_s
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.began = time.monotonic()
        self.answers_at_start, self.trials_at_start = model_answers(), trials()
        earlier = read_pieces(self.path.parent)
        self.record = {"piece": len(earlier) + 1, "started": utc_now(), "last_seen": utc_now(), "status": RUNNING,
                       "commit": commit, "cpus": os.cpu_count(), "dataset": None, "wall_s": 0.0,
                       "phases": {}, "model_answers": 0, "trials_finished": 0}
        self.earlier = earlier
        self.thread = threading.Thread(target=self._beat, name="study-pieces", daemon=True)

    def set_dataset(self, lineage: list[str]) -> None:
        """The items this piece computes for (their lineage, ``study.lineage``: known once
        the study's data are made)."""
        with self.lock:
            self.record["dataset"] = list(lineage)
        self.write()

    def note(self, **fields) -> None:
        """Add facts to the record (``missing_trials``: trials without a result at the report)."""
        with self.lock:
            self.record |= fields
        self.write()

    def __enter__(self) -> PieceLedger:
        self.write()
        self.thread.start()
        return self

    def __exit__(self, kind, error, _trace) -> None:
        self.stop.set()
        self.thread.join()
        if kind is None:
            status = FINISHED
        elif issubclass(kind, KeyboardInterrupt):
            status = INTERRUPTED
        elif issubclass(kind, SystemExit):  # SIGTERM (Ray's handler exits; `ray job stop`, kill)
            status = TERMINATED
        else:  # an error may say how its piece ended (runner.StudyIncomplete)
            status = getattr(error, "piece_status", None) or f"failed: {kind.__name__}"
        self.write(status)

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time one phase; its seconds add to ``phases[name]`` (a phase that stops early
        counts what it ran)."""
        began = time.monotonic()
        self.write()
        try:
            yield
        finally:
            with self.lock:
                phases = self.record["phases"]
                phases[name] = round(phases.get(name, 0.0) + time.monotonic() - began, 1)
            self.write()

    def write(self, status: str | None = None) -> None:
        # counted outside the lock: a memo count may take a moment on a busy disk
        answers, trials = self.count_answers(), self.count_trials()
        with self.lock:
            counted = answers is not None and self.answers_at_start is not None
            self.record |= {"last_seen": utc_now(), "wall_s": round(time.monotonic() - self.began, 1),
                            "model_answers": answers - self.answers_at_start if counted else None,
                            "trials_finished": trials - self.trials_at_start}
            if status:
                self.record["status"] = status
            lines = [json.dumps(r) for r in (*self.earlier, self.record)]
            write_text_atomic(self.path, "\n".join(lines) + "\n")

    def _beat(self) -> None:
        while not self.stop.wait(self.heartbeat_s):
            try:
                self.write()
            except Exception as err:  # noqa: BLE001 -- a missed heartbeat must not stop the study
                log.warning("could not update %s: %s", self.path, err)


def render_pieces(records: list[dict], lineage: list[str], current: int | None = None) -> list[str]:
    """Markdown lines: the pieces that computed this dataset's study (on its items, or on
    those it continues), and their totals (empty when there are none); ``current`` is the
    piece writing the report."""
    mine = [r for r in records if continues(lineage, r.get("dataset"))]
    if not mine:
        return []
    lines = ["## What the study cost, piece by piece", "",
             "Each run of the study command is a piece; wall time is the piece's own (a piece stopped without "
             "notice ends at its last heartbeat). Model answers: outcomes the piece added to the memo; trials: "
             "trials it finished.", "",
             "| piece | started (UTC) | commit | CPUs | wall time | model answers | trials | phases | status |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in mine:
        phases = ", ".join(f"{name} {_hours(s)}" for name, s in r.get("phases", {}).items()) or "–"
        status = r.get("status", RUNNING)
        if status == RUNNING:
            status = ("this piece, until this report" if r["piece"] == current
                      else f"stopped without notice (last seen {r.get('last_seen', '?')})")
        if r.get("missing_trials"):
            status += f"; {r['missing_trials']} trials without a result at its report"
        lines.append(f"| {r['piece']} | {r['started']} | {str(r.get('commit', '?'))[:12]} | {r.get('cpus', '?')} | "
                     f"{_hours(r.get('wall_s', 0.0))} | {_count(r.get('model_answers'))} | {r.get('trials_finished', 0)} | "
                     f"{phases} | {status} |")
    wall = sum(r.get("wall_s", 0.0) for r in mine)
    lines += ["", f"In all: {len(mine)} pieces, {_hours(wall)} of wall time, "
              f"{_count(sum(r.get('model_answers') or 0 for r in mine))} model answers, "
              f"{sum(r.get('trials_finished', 0) for r in mine)} trials.", ""]
    return lines


def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _count(value: int | None) -> str:
    return "not counted" if value is None else f"{value:,}"
