"""Packaged language models by preset name: parts found in installed packages, joined once,
checked; a missing package or a wrong file is a clear error, never a silent load."""

import hashlib
import importlib

import pytest

from audiorouter.packaged_files import PackagedFileError
from audiorouter.reasoner.packaged import PACKAGED_MODELS, PackagedModel, packaged_model_path


def install_part_packages(root, name, chunks):
    """Importable packages ``<name>1..N`` on sys.path, each holding data/partNN.bin."""
    for i, chunk in enumerate(chunks, start=1):
        folder = root / f"{name}{i}"
        (folder / "data").mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    importlib.invalidate_caches()


def preset(name, chunks, **overrides):
    whole = b"".join(chunks)
    parts = tuple((f"{name}{i}", f"data/part{i:02d}.bin") for i in range(1, len(chunks) + 1))
    values = dict(title="Tiny", licence="Apache-2.0", parts=parts, size=len(whole),
                  sha256=hashlib.sha256(whole).hexdigest(), filename="tiny.gguf")
    return PackagedModel(**(values | overrides))


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOROUTER_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    (tmp_path / "site").mkdir()
    return tmp_path


def test_parts_from_installed_packages_are_joined_once(model_dir):
    chunks = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]
    install_part_packages(model_dir / "site", "tinyparts_ok_", chunks)
    models = {"tiny": preset("tinyparts_ok_", chunks)}
    path = packaged_model_path("tiny", models)
    assert path.read_bytes() == b"".join(chunks) and path.name == "tiny.gguf"
    assert path.is_relative_to(model_dir / "models")
    mtime = path.stat().st_mtime_ns
    assert packaged_model_path("tiny", models) == path and path.stat().st_mtime_ns == mtime


def test_a_missing_part_package_names_what_to_install(model_dir):
    chunks = [b"a", b"b", b"c"]
    install_part_packages(model_dir / "site", "tinyparts_gap_", chunks[:2])
    with pytest.raises(PackagedFileError, match=r"needs tinyparts-gap-1 \.\. tinyparts-gap-3 .*tinyparts_gap_3"):
        packaged_model_path("tiny", {"tiny": preset("tinyparts_gap_", chunks)})


def test_changed_parts_fail_the_hash_and_nothing_is_kept(model_dir):
    chunks = [b"a" * 10, b"b" * 10]
    install_part_packages(model_dir / "site", "tinyparts_bad_", [b"a" * 10, b"X" * 10])
    with pytest.raises(PackagedFileError, match="sha256 of the joined parts"):
        packaged_model_path("tiny", {"tiny": preset("tinyparts_bad_", chunks)})
    assert not any((model_dir / "models").glob("tiny*"))


def test_a_single_file_package_is_used_in_place_and_its_size_checked(model_dir):
    install_part_packages(model_dir / "site", "tinysingle_", [b"z" * 20])
    single = PackagedModel("Tiny", "MIT", (("tinysingle_1", "data/part01.bin"),), 20)
    path = packaged_model_path("tiny", {"tiny": single})
    assert path == model_dir / "site" / "tinysingle_1" / "data" / "part01.bin"
    wrong = PackagedModel("Tiny", "MIT", (("tinysingle_1", "data/part01.bin"),), 21)
    with pytest.raises(PackagedFileError, match="should be 21 bytes, found 20"):
        packaged_model_path("tiny", {"tiny": wrong})


def test_the_presets_record_size_hash_and_licence():
    for name, model in PACKAGED_MODELS.items():
        assert model.size > 0 and model.licence == "Apache-2.0", name
        assert len(model.parts) == 1 or (model.sha256 and len(model.sha256) == 64), name
    assert len(PACKAGED_MODELS["qwen2.5-coder-1.5b"].parts) == 22
