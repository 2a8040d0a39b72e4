"""The state files an outcome pipeline shares across runs, checked before any work.

    check_shared_state(config)   # StateFileError naming the first damaged file

The outcome memo and the tool cache (when they are SQLite files on this machine) and
the MLflow store (a local sqlite file) get SQLite's ``quick_check``, once, in the
driver: a damaged one stops ``train``, ``study``, ``serve`` and ``eval`` within seconds
with what to do, instead of failing in every worker that opens it. Run state
(``state.json``, checkpoints) is checked by the run that owns it, on resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audiorouter.state_files import check_sqlite_file
from audiorouter.store import outcome_memo, tool_cache
from audiorouter.tracking.store_file import check_tracking_store


def check_shared_state(config: Any, tracking: bool = True) -> None:
    """``config``: the root Config; ``tracking=False`` for jobs that log nothing to MLflow."""
    reasoner, tools = config.reasoner, config.tools
    if reasoner.memo_path and reasoner.memo_store == "sqlite":
        check_sqlite_file(reasoner.memo_path, outcome_memo.ROLE, outcome_memo.REMEDY, thorough=True)
    if tools.cache_dir and tools.cache_store == "sqlite":
        check_sqlite_file(Path(tools.cache_dir) / tool_cache.FILE_NAME, tool_cache.ROLE, tool_cache.REMEDY,
                          thorough=True)
    if tracking:
        check_tracking_store(config.tracking)
