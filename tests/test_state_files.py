"""Damaged state files are one clear error naming the file, the problem and what to do."""

from __future__ import annotations

import pytest
from memo_helpers import filled_memo, truncate_to_half

from audiorouter.state_files import StateFileError, check_sqlite_file, read_json_file
from audiorouter.store.outcome_memo import OutcomeMemo
from audiorouter.store.tool_cache import ToolCache

ROLE, REMEDY = "test store", "Move it aside."


def test_absent_empty_and_whole_files_pass(tmp_path):
    check_sqlite_file(tmp_path / "absent.sqlite", ROLE, REMEDY, thorough=True)
    (tmp_path / "empty.sqlite").write_bytes(b"")
    check_sqlite_file(tmp_path / "empty.sqlite", ROLE, REMEDY, thorough=True)
    check_sqlite_file(filled_memo(tmp_path / "memo.sqlite"), ROLE, REMEDY, thorough=True)


def test_a_truncated_file_is_named_with_its_sizes(tmp_path):
    path = filled_memo(tmp_path / "memo.sqlite")
    size = path.stat().st_size
    truncate_to_half(path)
    with pytest.raises(StateFileError) as caught:
        check_sqlite_file(path, ROLE, REMEDY)  # the header alone tells
    message = str(caught.value)
    assert message == (f"the test store {str(path)!r} is damaged: it is truncated ({size // 2} bytes of the "
                       f"{size} its header gives). Move it aside.")


def test_the_header_count_is_not_read_as_the_length_while_a_write_ahead_log_is_live(tmp_path):
    """A checkpoint writes page 1 (the new page count) before the pages that lengthen the
    file: a process opening the file then must not call it truncated (seen as a rare
    failure of tests/store/test_sqlite_files.py on a loaded machine)."""
    path = filled_memo(tmp_path / "memo.sqlite")
    truncate_to_half(path)
    (tmp_path / "memo.sqlite-wal").write_bytes(b"")
    check_sqlite_file(path, ROLE, REMEDY)


def test_a_file_that_is_not_sqlite_and_one_damaged_inside(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 10)
    with pytest.raises(StateFileError, match="it is not a SQLite database"):
        check_sqlite_file(junk, ROLE, REMEDY)
    inside = filled_memo(tmp_path / "memo.sqlite")
    data = bytearray(inside.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[3 * page: 5 * page] = b"\xff" * (2 * page)  # two pages of the table overwritten
    inside.write_bytes(bytes(data))
    check_sqlite_file(inside, ROLE, REMEDY)  # the header is fine ...
    with pytest.raises(StateFileError, match="memo.sqlite' is damaged: SQLite"):
        check_sqlite_file(inside, ROLE, REMEDY, thorough=True)  # ... SQLite's check is not


def test_the_memo_and_the_tool_cache_refuse_a_damaged_file_naming_the_setting(tmp_path):
    memo_path = filled_memo(tmp_path / "memo.sqlite")
    truncate_to_half(memo_path)
    with pytest.raises(StateFileError, match=r"outcome memo \(reasoner.memo_path\) .* --set reasoner.memo_path="):
        OutcomeMemo(memo_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "tool_results.sqlite").write_bytes(b"\x00" * 4096)
    with pytest.raises(StateFileError, match=r"tool cache \(tools.cache_dir/tool_results.sqlite\)"):
        ToolCache(tmp_path / "cache")


def test_json_state_files(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"iteration": 3, "checkpoint": "ru')
    with pytest.raises(StateFileError, match=r"state.json' is damaged: it is not valid JSON \(Unterminated string"):
        read_json_file(path, "run state", REMEDY)
    path.write_text('{"iteration": 3}')
    assert read_json_file(path, "run state", REMEDY) == {"iteration": 3}
