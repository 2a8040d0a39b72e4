"""Every way a ``--config`` file can be wrong is one line naming the file and exit 2, like
an override error (the bug: missing files, YAML syntax errors and directories were
23-55 line tracebacks with exit 1)."""

from __future__ import annotations

import os

import pytest

from audiorouter.cli.main import main


def _bad_file(tmp_path, kind: str):
    path = tmp_path / "config.yaml"
    if kind == "missing":
        return path
    if kind == "directory":
        path.mkdir()
    elif kind == "syntax":
        path.write_text("data:\n  synth: {n: 3\n")
    elif kind == "tabs":
        path.write_text("data:\n\tsynth: 1\n")
    elif kind == "not a mapping":
        path.write_text("- data\n- tools\n")
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage\x80")
    elif kind == "unreadable":
        path.write_text("data: {}\n")
        path.chmod(0)
    return path


@pytest.mark.parametrize("kind, message", [
    ("missing", "no such config file"), ("directory", "not a file"), ("syntax", "not valid YAML"),
    ("tabs", "not valid YAML"), ("not a mapping", "the top level must be a mapping"), ("binary", "not UTF-8"),
    ("unreadable", "cannot read the config file"),
])
def test_a_bad_config_file_is_one_line_naming_it_and_exit_2(tmp_path, capsys, kind, message):
    path = _bad_file(tmp_path, kind)
    if kind == "unreadable" and os.access(path, os.R_OK):  # root reads anything: nothing to test there
        pytest.skip("running as root: a mode-0 file is still readable")
    assert main(["--config", str(path), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"config error: {path}: ") and message in err, err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("override", ["data.synth.n=[1", "data.synth.n={a: 1", "data.dir='x"])
def test_an_override_that_is_not_yaml_is_one_line_too(capsys, override):
    assert main(["--set", override, "config", "show"]) == 2
    err = capsys.readouterr().err
    assert override in err and "not valid YAML" in err and len(err.strip().splitlines()) == 1
