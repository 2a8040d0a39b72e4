"""Where outcomes and tool results are kept: a SQLite file per machine, or one service per
cluster (``reasoner.memo_store``, ``tools.cache_store``; see ``service``).
Imports nothing of the package but ``contracts`` and ``state_files``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from audiorouter.store import memo_shards, tool_cache_shards
from audiorouter.store.client import ServiceOutcomeMemo, ServiceToolCache
from audiorouter.store.outcome_memo import OutcomeMemo
from audiorouter.store.tool_cache import ToolCache


def open_outcome_memo(config: Any):
    """From a ``ReasonerConfig``; None when ``memo_path`` is empty."""
    if not config.memo_path:
        return None
    if config.memo_store == "service":
        return ServiceOutcomeMemo(config.memo_path)
    return OutcomeMemo(config.memo_path)


def seed_outcome_memo(config: Any) -> int:
    """Put ``memo_seeds``' shard rows the memo lacks into it (a ``ReasonerConfig`` whose
    store is "sqlite", as its validation requires); returns how many were added."""
    return _import_seeds(memo_shards, config.memo_path, config.memo_seeds)


def seed_tool_cache(config: Any) -> int:
    """Put ``cache_seeds``' shard results the cache lacks into it (a ``ToolsConfig`` whose
    store is "sqlite", as its validation requires); returns how many were added."""
    return _import_seeds(tool_cache_shards, config.cache_dir, config.cache_seeds)


def _import_seeds(shards: ModuleType, path: str, folder: str) -> int:
    if not folder:
        return 0
    store = shards.open_file(path)
    try:
        return shards.import_shards(store, folder)
    finally:
        store.close()


def open_tool_cache(config: Any):
    """From a ``ToolsConfig``; None when ``cache_dir`` is empty."""
    if not config.cache_dir:
        return None
    if config.cache_store == "service":
        return ServiceToolCache(config.cache_dir)
    return ToolCache(config.cache_dir)
