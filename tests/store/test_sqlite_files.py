"""Many processes opening one fresh SQLite file at once (what a Ray Data worker pool does)."""

import multiprocessing as mp

from audiorouter.store.sqlite_files import open_shared_sqlite

SCHEMA = "CREATE TABLE IF NOT EXISTS rows (who INTEGER)"


def _open_and_write(args: tuple[str, int]) -> str:
    path, who = args
    try:
        conn = open_shared_sqlite(path, SCHEMA, "test store", "", isolation_level=None)
        conn.execute("INSERT INTO rows VALUES (?)", (who,))
        conn.close()
        return "ok"
    except Exception as error:  # the test reports what failed, not just that something did
        return repr(error)


def test_concurrent_first_opens_all_succeed_in_wal(tmp_path):
    processes, rounds = 8, 40
    with mp.get_context("fork").Pool(processes) as pool:
        for round_ in range(rounds):
            path = str(tmp_path / f"round{round_}" / "shared.sqlite")
            outcomes = pool.map(_open_and_write, [(path, who) for who in range(processes)])
            assert outcomes == ["ok"] * processes, outcomes
            conn = open_shared_sqlite(path, SCHEMA, "test store", "")
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == processes
            conn.close()
