"""numba's kernel cache under concurrent tool processes (numba #10128): processes that
compile the same librosa gufuncs at once on an empty cache never crash, and none of
them writes to the shared folder; only the one warm-up does (that half is checked in
``test_tool_pool_cold_start.py``, on the folder the pool's warm-up compiled)."""

from __future__ import annotations

import pytest
from numba_processes import env_with_shared_folder, start_together

from audiorouter.tool_execution.numba_cache import SHARED_ENV, ensure_warm, shared_cache_dir

pytestmark = pytest.mark.slow


def test_processes_compiling_together_on_an_empty_cache_never_crash(tmp_path):
    """One round of the race: more rounds or processes only repeat it (3 x 2 cost 748 s)."""
    for done in start_together(env_with_shared_folder(tmp_path)):
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
        assert done.stdout.strip().startswith("/"), "each process compiled into its own copy"
    assert not any(tmp_path.rglob("*.nbi")), "no tool process wrote to the shared folder"


def test_the_shared_folder_follows_numba_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv(SHARED_ENV, raising=False)
    assert shared_cache_dir() == tmp_path


def test_an_unusable_shared_folder_costs_speed_not_the_run(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "numba"))  # cannot be created
    monkeypatch.delenv(SHARED_ENV, raising=False)
    assert ensure_warm() is False
