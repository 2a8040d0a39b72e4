"""Loading model weights for the model back-ends: where from, on which device, in which dtype.

``model`` in the config is a local directory, a hub id (transformers resolves it; this
project never downloads in tests), a ``.gguf`` file, or the name of a model Python
packages ship (packaged.py: ``smollm2``, ``qwen2.5-coder-1.5b``, ``qwen2.5-coder-0.5b``).
A GGUF file is dequantised once to float32 safetensors kept under ``$AUDIOROUTER_CACHE``
(default ``~/.cache/audiorouter``), so later loads take seconds, not a minute; one
process at a time dequantises (an exclusive ``flock``: the cache must be on a local
file system), the others wait and reuse its result.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch

from audiorouter.reasoner.packaged import PACKAGED_MODELS, packaged_model_path

log = logging.getLogger(__name__)

CACHE_ENV = "AUDIOROUTER_CACHE"


def resolve_model(model: str) -> str:
    """A packaged model's file path; any other value unchanged."""
    return str(packaged_model_path(model)) if model in PACKAGED_MODELS else model


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
    # the path, size and mtime in ns: a same-named copy elsewhere or a rewrite is a new entry
    key = hashlib.sha256(f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_root / f"{gguf_path.stem}-{key}"
    if (target / "config.json").is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    with (cache_root / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a 1.5B model takes ~9 GB to dequantise: one process at a time
        if (target / "config.json").is_file():  # another process made it while we waited
            return target
        log.info("dequantising %s into %s (once)", gguf_path, target)
        staging = Path(tempfile.mkdtemp(dir=cache_root, prefix=".staging-"))
        try:
            convert_gguf(gguf_path, staging)
            os.replace(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
    return target


def convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Write a GGUF file's config, tokenizer and dequantised float32 weights as a
    transformers folder. The model is only built on the meta device, to name and check
    the tensors (transformers' own ``gguf_file=`` loading needs accelerate and holds
    the weights twice; this path does neither)."""
    from huggingface_hub import save_torch_state_dict
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES

    folder, name = str(gguf_path.parent), gguf_path.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    # transformers' reader drops GGUF tensors the model has no name for; what is left must
    # be every weight the model needs (the tied head aside), each in the model's shape
    tensors = load_gguf_checkpoint(str(gguf_path), return_tensors=True, model_to_load=skeleton)["tensors"]
    expected = {name: tuple(value.shape) for name, value in skeleton.state_dict().items()}
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    missing = sorted(set(expected) - set(tensors) - tied)
    misshapen = sorted(f"{name} {tuple(value.shape)} (model: {expected[name]})" for name, value in tensors.items()
                       if name in expected and tuple(value.shape) != expected[name])
    if missing or misshapen:
        raise ValueError(f"{gguf_path}: weights do not match the model (missing {missing}, misshapen {misshapen})")
    # 1 GB shards: a single file would be serialised whole in memory next to the tensors
    save_torch_state_dict({key: value for key, value in tensors.items() if key not in tied}, out_dir,
                          max_shard_size="1GB", metadata={"format": "pt"})
    del tensors
    config.save_pretrained(out_dir)
    # named by the config's model type where transformers maps one: untyped, AutoTokenizer
    # rebuilds the config from the GGUF metadata once more (~12 s for a 151k vocabulary)
    typed = {"tokenizer_type": config.model_type} if TOKENIZER_MAPPING_NAMES.get(config.model_type) else {}
    AutoTokenizer.from_pretrained(folder, gguf_file=name, **typed).save_pretrained(out_dir)
