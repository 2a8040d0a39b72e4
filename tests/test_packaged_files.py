"""Joining packaged model parts: order, size and hash checks, built once under the model root."""

import hashlib

import pytest

from audiorouter.packaged_files import PackagedFileError, join_parts, materialise


def write_parts(folder, chunks):
    paths = []
    for i, chunk in enumerate(chunks, start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_parts_join_in_order_and_pass_their_checks(tmp_path):
    chunks = [b"first-", b"second-" * 1000, b"third"]
    whole = b"".join(chunks)
    parts = write_parts(tmp_path, chunks)
    join_parts(parts, tmp_path / "model.gguf", len(whole), hashlib.sha256(whole).hexdigest())
    assert (tmp_path / "model.gguf").read_bytes() == whole


def test_a_wrong_size_or_hash_or_a_missing_part_is_a_clear_error(tmp_path):
    parts = write_parts(tmp_path, [b"abc", b"def"])
    with pytest.raises(PackagedFileError, match="join to 6 bytes, expected 7"):
        join_parts(parts, tmp_path / "out", size=7)
    with pytest.raises(PackagedFileError, match="sha256 of the joined parts is .*, expected 00ff"):
        join_parts(parts, tmp_path / "out", size=6, sha256="00ff")
    with pytest.raises(PackagedFileError, match="missing part files: .*part03.bin"):
        join_parts(parts + [tmp_path / "part03.bin"], tmp_path / "out")


def test_materialise_builds_once_and_a_failed_build_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOROUTER_MODEL_DIR", str(tmp_path / "models"))
    builds = []

    def build(folder):
        builds.append(folder)
        (folder / "weights.bin").write_bytes(b"x")

    first = materialise("m", build)
    assert materialise("m", build) == first and len(builds) == 1
    assert (first / "weights.bin").read_bytes() == b"x"

    def failing(folder):
        (folder / "half.bin").write_bytes(b"x")
        raise PackagedFileError("bad parts")

    with pytest.raises(PackagedFileError):
        materialise("broken", failing)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["m"]
