"""Tool-cache rows as shards (``store.shards``), so a study's tool pass outlives a machine.

The reference study's tool pass (every tool on some 2,700 items, speech recognition most
of it) costs about half an hour of a 2-core machine, and a study that runs in pieces on
machines that keep nothing but the repository would pay it in every piece.
``export_new`` writes the cache's results that no shard of a folder holds yet into
a new shard (one JSON object per line: clip, tool, version, result); ``import_shards``
puts every shard's results that the cache lacks into it. The key is the cache's own
(content hash of the clip, tool, tool version): an imported result is used only for the
same audio and the same version of the tool.
"""

from __future__ import annotations

from pathlib import Path

from audiorouter.contracts import ToolResult
from audiorouter.store.shards import ShardFormat, import_rows, write_new_rows
from audiorouter.store.tool_cache import ToolCache


def _check(key: tuple[str, ...], result: ToolResult) -> None:
    """What the cache stores: a successful result of the row's tool and version."""
    if (result.tool, result.version) != key[1:] or not result.ok or result.error is not None:
        raise ValueError(f"result is not an ok result of {key[1]} version {key[2]}")
    if result.elapsed_ms < 0:
        raise ValueError(f"result.elapsed_ms {result.elapsed_ms} is negative")


TOOL_CACHE_SHARDS = ShardFormat("tool cache", ("clip", "tool", "version"), "result", ToolResult, "a tool result",
                                _check)


def open_file(directory: str | Path) -> ToolCache:
    return ToolCache(directory)


def export_new(cache: ToolCache, folder: str | Path) -> tuple[Path | None, int]:
    """Write the cache's results that no shard in ``folder`` holds into a new shard;
    returns (its path, rows), or (None, 0) when every result is already in a shard."""
    return write_new_rows(cache.rows(), folder, TOOL_CACHE_SHARDS)


def import_shards(cache: ToolCache, folder: str | Path) -> int:
    """Put every shard result the cache lacks into it; returns how many were added.
    Every shard is read and checked before the cache is touched."""
    return import_rows(folder, TOOL_CACHE_SHARDS, cache.put_missing)
