"""The command line: data synth / info / import and config show, run in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from audiorouter.cli.main import main


def test_synth_then_info(tmp_path, capsys):
    out = tmp_path / "suite"
    assert main(["data", "synth", "--n", "24", "--seed", "1", "--out", str(out), "--families", "tempo,duration"]) == 0
    assert "wrote 24 items" in capsys.readouterr().out
    assert main(["data", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "tempo" in text and "duration" in text and "note_name" not in text
    assert "train" in text and "test" in text


def test_info_on_missing_dataset_fails_cleanly(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "nothing")]) == 1
    assert "no dataset" in capsys.readouterr().err


def test_config_errors_exit_2(capsys):
    assert main(["--set", "data.synth.bogus=1", "config", "show"]) == 2
    assert "unknown key 'data.synth.bogus'" in capsys.readouterr().err


def test_config_show_flat(capsys):
    assert main(["--set", "data.synth.n=7", "config", "show", "--flat"]) == 0
    assert "data.synth.n=7" in capsys.readouterr().out.splitlines()


def test_import_all_invalid_exits_nonzero(tmp_path, capsys):
    records = [{"id": "a", "audio_id": "missing.wav", "question": "q?", "choices": ["x", "y"],
                "answer": "x", "dataset": "d", "task": "sound", "split": "test",
                "category": "c", "sub-category": None, "difficulty": "easy"}]
    path = tmp_path / "mmau.json"
    path.write_text(json.dumps(records))
    code = main(["data", "import", "mmau", "--json", str(path), "--audio-root", str(tmp_path),
                 "--out", str(tmp_path / "out")])
    assert code == 1
    assert "no valid records" in capsys.readouterr().err


def test_import_reads_json_lines(tmp_path, capsys):
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "x.wav", 0.5 * np.sin(np.arange(8000) / 5), 16_000)
    record = {"id": "a", "audio_path": "./x.wav", "question": "q?", "choices": ["x", "y", "z"], "answer": "y",
              "modality": "sound", "category": "Signal Layer", "sub-category": "Counting", "language": None,
              "thinking": "t", "cue": ["c"], "rubric": []}
    path = tmp_path / "MMAR-meta.jsonl"
    path.write_text(json.dumps(record) + "\n")
    code = main(["data", "import", "mmar", "--json", str(path), "--audio-root", str(tmp_path),
                 "--out", str(tmp_path / "out")])
    assert code == 0
    assert "Imported 1 of 1 mmar records" in capsys.readouterr().out


def test_console_script_help_explains_options():
    result = subprocess.run([sys.executable, "-m", "audiorouter.cli.main", "data", "synth", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--seed" in result.stdout and "same seed, same items" in result.stdout


def test_import_refuses_an_output_path_that_is_a_file_and_a_pipe_as_records(tmp_path, capsys):
    """Before any work: --out naming a file, and a named pipe as --json (never opened: it would block)."""
    (tmp_path / "audio").mkdir()
    (tmp_path / "records.json").write_text("[]")
    (tmp_path / "taken").write_text("a file")
    common = ["data", "import", "mmau", "--audio-root", str(tmp_path / "audio")]
    assert main([*common, "--json", str(tmp_path / "records.json"), "--out", str(tmp_path / "taken" / "sub")]) == 2
    assert f"'{tmp_path / 'taken'}' exists and is not a folder" in capsys.readouterr().err
    os.mkfifo(tmp_path / "pipe.json")
    assert main([*common, "--json", str(tmp_path / "pipe.json"), "--out", str(tmp_path / "out")]) == 2
    assert f"benchmark path is not a regular file (a named pipe): {tmp_path / 'pipe.json'}" in capsys.readouterr().err
