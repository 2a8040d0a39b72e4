"""A run folder has one owner at a time (the bug: two ``train`` processes with the same
``run.name`` both wrote the same folder and MLflow run). A second process stops with exit
2 naming the owner; a lock left by a dead process is taken over with a warning."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest
import ray

from audiorouter.cli.main import main
from audiorouter.run_lock import LOCK_FILE, RunFolderBusy, RunFolderLock

HOLD = ("import sys, time\nfrom audiorouter.run_lock import RunFolderLock\n"
        "with RunFolderLock(sys.argv[1], 'train'):\n    print('held', flush=True)\n    time.sleep(60)\n")


@pytest.fixture
def holder(tmp_path):
    """Another process that owns ``tmp_path/runs/twin`` until the test ends."""
    folder = tmp_path / "runs" / "twin"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    yield folder, process.pid
    process.kill()
    process.wait()


def test_a_second_train_with_the_same_name_exits_2_naming_the_owner(tmp_path, holder, capsys):
    folder, pid = holder
    argv = ["--set", f"run.out_dir={tmp_path / 'runs'}", "--set", "run.name=twin", "--set", f"data.dir={tmp_path}/data",
            "--set", f"reasoner.memo_path={tmp_path}/memo.sqlite", "--set", f"tools.cache_dir={tmp_path}/cache",
            "--set", f"tracking.tracking_uri={tmp_path}/mlflow.db", "train"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder} is in use by train (pid {pid} on {socket.gethostname()}")
    assert str(folder / LOCK_FILE) in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists() and not ray.is_initialized()  # refused before any work
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == pid  # the owner's lock is untouched


def test_the_lock_is_released_at_the_end_even_on_an_error(tmp_path):
    with pytest.raises(ZeroDivisionError), RunFolderLock(tmp_path, "train"):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
        raise ZeroDivisionError
    assert not (tmp_path / LOCK_FILE).exists()
    with RunFolderLock(tmp_path, "train"), pytest.raises(RunFolderBusy, match="in use by train"):
        # the same process twice is still two owners: a second driver in one process is refused too
        RunFolderLock(tmp_path, "study").__enter__()


def test_a_dead_owners_lock_is_taken_over_with_a_warning(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "command": "train",
                                                  "started": time.time() - 60}))
    with caplog.at_level(logging.WARNING), RunFolderLock(tmp_path, "train"):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert f"taking over {tmp_path / LOCK_FILE} from pid {pid}" in caplog.text


def test_a_reused_pid_does_not_keep_a_stale_lock(tmp_path):
    """The pid is alive (ours), but it started long after the lock was written."""
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                  "command": "train", "started": 1_000_000.0}))
    with RunFolderLock(tmp_path, "train"):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["started"] > 1_000_000.0


def test_a_lock_of_another_host_is_never_taken(tmp_path):
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": 1, "host": "elsewhere", "command": "study",
                                                  "started": time.time()}))
    with pytest.raises(RunFolderBusy, match="in use by study \\(pid 1 on elsewhere"):
        RunFolderLock(tmp_path, "train").__enter__()


def test_a_torn_lock_file_is_taken_over_once_it_is_old(tmp_path):
    lock = tmp_path / LOCK_FILE
    lock.write_text('{"pid": 12')
    with pytest.raises(RunFolderBusy):  # just written: its writer may still be at it
        RunFolderLock(tmp_path, "train").__enter__()
    os.utime(lock, (time.time() - 60, time.time() - 60))
    with RunFolderLock(tmp_path, "train"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
