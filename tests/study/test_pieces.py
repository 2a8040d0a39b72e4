"""The study's cost ledger (study/pieces.py): one record per run, kept current, read back
by the report. Ray-free: the counters are plain callables."""

import json
import time

import pytest

from audiorouter.study.pieces import PIECES_FILE, PieceLedger, read_pieces, render_pieces


class Counter:
    """A counter the test moves by hand (model answers or finished trials)."""

    def __init__(self, value: int | None = 0) -> None:
        self.value = value

    def __call__(self) -> int | None:
        return self.value


def on_disk(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / PIECES_FILE).read_text().splitlines()]


def test_a_finished_piece_records_its_phases_and_the_work_it_added(tmp_path):
    answers, trials = Counter(100), Counter(3)  # what earlier pieces left
    with PieceLedger(tmp_path, "abc123", answers, trials) as ledger:
        ledger.set_dataset(["fp-1"])
        with ledger.phase("prepare"):
            answers.value = 140
        with ledger.phase("sweep"):
            trials.value = 10
        ledger.note(missing_trials=0)
    [record] = on_disk(tmp_path)
    assert record["piece"] == 1 and record["status"] == "finished" and record["commit"] == "abc123"
    assert record["dataset"] == ["fp-1"] and record["model_answers"] == 40 and record["trials_finished"] == 7
    assert set(record["phases"]) == {"prepare", "sweep"} and record["wall_s"] >= 0


class Unfinished(RuntimeError):
    piece_status = "incomplete"  # as runner.StudyIncomplete


@pytest.mark.parametrize(("error", "status"), [(KeyboardInterrupt, "interrupted"), (SystemExit, "terminated"),
                                               (ValueError, "failed: ValueError"),
                                               (Unfinished, "incomplete")])
def test_a_stopped_piece_says_how_it_stopped_and_keeps_its_phase_time(tmp_path, error, status):
    with pytest.raises(error), PieceLedger(tmp_path, "abc", Counter(), Counter()) as ledger, ledger.phase("sweep"):
        raise error()
    [record] = on_disk(tmp_path)
    assert record["status"] == status and "sweep" in record["phases"]


def test_later_pieces_are_appended_and_earlier_records_kept(tmp_path):
    with PieceLedger(tmp_path, "one", Counter(), Counter()):
        pass
    with PieceLedger(tmp_path, "two", Counter(), Counter()):
        pass
    assert [(r["piece"], r["commit"]) for r in on_disk(tmp_path)] == [(1, "one"), (2, "two")]


def test_the_heartbeat_keeps_a_running_piece_current(tmp_path):
    answers = Counter(0)
    with PieceLedger(tmp_path, "abc", answers, Counter(), heartbeat_s=0.05):
        answers.value = 5
        deadline = time.monotonic() + 10
        while on_disk(tmp_path)[0]["model_answers"] != 5:  # no phase boundary: only the heartbeat writes
            assert time.monotonic() < deadline, "the heartbeat never updated the record"
            time.sleep(0.02)
        assert on_disk(tmp_path)[0]["status"] == "running"


def test_a_memo_service_leaves_model_answers_uncounted(tmp_path):
    with PieceLedger(tmp_path, "abc", Counter(None), Counter()) as ledger:
        ledger.set_dataset(["fp"])
    assert on_disk(tmp_path)[0]["model_answers"] is None
    assert "not counted" in "\n".join(render_pieces(read_pieces(tmp_path), ["fp"]))


def test_a_damaged_line_is_reported_and_skipped(tmp_path, caplog):
    (tmp_path / PIECES_FILE).write_text('{"piece": 1, "started": "x"}\n{"piece": 2, "sta\n')
    assert [r["piece"] for r in read_pieces(tmp_path)] == [1]
    assert "line 2 is not a JSON record" in caplog.text


def record(piece, dataset="fp", status="finished", wall_s=1800.0, answers=10, trials=2, **extra):
    return {"piece": piece, "started": f"2026-12-0{piece}T00:00:00Z", "last_seen": f"2026-12-0{piece}T00:30:00Z",
            "status": status, "commit": "0123456789abcdef", "cpus": 2, "dataset": dataset, "wall_s": wall_s,
            "phases": {"prepare": wall_s}, "model_answers": answers, "trials_finished": trials, **extra}


def test_the_report_lists_this_datasets_pieces_with_their_totals():
    records = [record(1, dataset="other"), record(2, status="running", answers=1000),
               record(3, status="interrupted", missing_trials=4), record(4, status="running", wall_s=7200.0)]
    text = "\n".join(render_pieces(records, ["fp"], current=4))
    assert "| 1 |" not in text  # another dataset's piece
    assert "stopped without notice (last seen 2026-12-02T00:30:00Z)" in text
    assert "interrupted; 4 trials without a result at its report" in text
    assert "this piece, until this report" in text and "| 2.00 h |" in text and "| 0123456789ab |" in text
    assert "In all: 3 pieces, 3.00 h of wall time, 1,020 model answers, 6 trials." in text


def test_pieces_on_the_items_a_grown_grid_continues_count_and_others_do_not():
    """A grid that grows appends training items (study.lineage): pieces of the items before
    (an older record's single fingerprint, or a shorter lineage) are this study's pieces;
    a piece on another appended split is not."""
    records = [record(1, dataset="fp"), record(2, dataset=["fp", "more"]), record(3, dataset=["fp", "else"]),
               record(4, dataset=["fp", "more", "again"])]
    text = "\n".join(render_pieces(records, ["fp", "more"]))
    assert "| 1 |" in text and "| 2 |" in text and "| 3 |" not in text and "| 4 |" not in text
    assert "In all: 2 pieces" in text


def test_no_pieces_no_section():
    assert render_pieces([record(1, dataset="other")], ["fp"]) == []
