"""Model files that pip packages ship, made usable offline (nothing is downloaded).

Several models come as pip packages because that is how they reach a machine without
internet: some in one file, some split into parts (PyPI limits a file's size) that are
joined in order into one file. ``materialise`` builds such a file or folder once under
``$AUDIOROUTER_MODEL_DIR`` (default ``~/.cache/audiorouter/models``), in a temporary
folder first and renamed into place, so concurrent processes never see half a model;
``join_parts`` joins parts and checks the size and sha256 the maintainers recorded, so
a corrupt or changed package is a clear error, never a silently different model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

COPY_CHUNK = 16 << 20


class PackagedFileError(RuntimeError):
    """A packaged model is missing, incomplete or not the file it should be."""


def model_root() -> Path:
    return Path(os.environ.get("AUDIOROUTER_MODEL_DIR", Path.home() / ".cache" / "audiorouter" / "models"))


def package_dir(package: str) -> Path | None:
    """The folder of an installed Python package, or None when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def materialise(name: str, build: Callable[[Path], None]) -> Path:
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


def join_parts(parts: Sequence[Path], out: Path, size: int | None = None, sha256: str | None = None) -> None:
    """Concatenate ``parts`` in order into ``out``, then check the expected size and
    sha256 (hashed while copying, so the check costs no second read)."""
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise PackagedFileError(f"missing part files: {', '.join(missing)}")
    digest, written = hashlib.sha256(), 0
    with out.open("wb") as handle:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(COPY_CHUNK):
                    digest.update(chunk)
                    handle.write(chunk)
                    written += len(chunk)
    if size is not None and written != size:
        raise PackagedFileError(f"{out.name}: the parts join to {written} bytes, expected {size}")
    if sha256 is not None and digest.hexdigest() != sha256:
        raise PackagedFileError(f"{out.name}: sha256 of the joined parts is {digest.hexdigest()}, expected {sha256}")
