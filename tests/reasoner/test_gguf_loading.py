"""Loading a GGUF file (loading.py): dequantised once into a cached transformers folder, then loaded like
any checkpoint. The GGUF files are written here, with the ``gguf`` package, from a tiny random Qwen2."""

from __future__ import annotations

import os
import re
from pathlib import Path

import gguf
import pytest
import torch

from audiorouter.reasoner import loading
from audiorouter.reasoner.loading import CACHE_ENV, dequantised_gguf_dir, load_causal_lm
from audiorouter.testing.synthetic_models import byte_level_tokenizer, synthetic_model

CHAT_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
SAMPLE_TEXT = "<|im_start|>user\nWhich note? Ça sonne: A4, 440 Hz<|im_end|>\n"
TOKEN_SEQUENCES = [[39, 68, 75, 75, 78], [257, 86, 127, 114, 81, 258, 220], [256, 16, 17, 18, 200, 3, 265, 0]]
LLAMA_CPP_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}


def gguf_tensor_name(hf_name: str) -> str:
    """llama.cpp's name for a Qwen2ForCausalLM weight."""
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    _, _, layer, *module, kind = hf_name.split(".")
    return f"blk.{layer}.{LLAMA_CPP_NAMES['.'.join(module)]}.{kind}"


def write_tokenizer_metadata(writer: gguf.GGUFWriter, tokenizer) -> None:
    """The byte-level vocabulary as llama.cpp's ``gpt2`` tokenizer. The writer refuses an empty merge
    list, and transformers then derives the (here empty) merges from the scores, so scores stand in."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    control = set(tokenizer.added_tokens_decoder)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if i in control else gguf.TokenType.NORMAL
                            for i in range(len(tokens))])
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def write_gguf(path: Path, model, tokenizer, quantisation: gguf.GGMLQuantizationType | None = None,
               leave_out: tuple[str, ...] = (), kv_heads: int | None = None) -> Path:
    """``model`` as a qwen2 GGUF file; with ``quantisation``, its matrices stored quantised (norms and
    biases stay float32, as llama.cpp keeps them)."""
    config = model.config
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(kv_heads or config.num_key_value_heads)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    write_tokenizer_metadata(writer, tokenizer)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    for hf_name, tensor in model.state_dict().items():
        if hf_name in tied or hf_name in leave_out:
            continue
        array = tensor.numpy()
        if quantisation is not None and array.ndim == 2:
            writer.add_tensor(gguf_tensor_name(hf_name), gguf.quants.quantize(array, quantisation),
                              raw_dtype=quantisation)
        else:
            writer.add_tensor(gguf_tensor_name(hf_name), array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def logits(model, sequences: list[list[int]]) -> list[torch.Tensor]:
    with torch.no_grad():
        return [model(torch.tensor([ids])).logits[0] for ids in sequences]


def cache_folders(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "gguf").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def original():
    """(tiny random Qwen2 causal LM, its byte-level tokenizer)."""
    tokenizer = byte_level_tokenizer(CHAT_TEMPLATE)
    return synthetic_model("causal_lm", tokenizer), tokenizer


@pytest.fixture(scope="module")
def gguf_files(original, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gguf")
    model, tokenizer = original
    return {
        "f32": write_gguf(folder / "tiny-f32.gguf", model, tokenizer),
        "q8_0": write_gguf(folder / "tiny-q8_0.gguf", model, tokenizer, gguf.GGMLQuantizationType.Q8_0),
    }


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_float_gguf_loads_to_the_same_model_and_tokenizer(original, gguf_files, cache):
    model, tokenizer = original
    lm, loaded_tokenizer = load_causal_lm(str(gguf_files["f32"]), torch.float32, torch.device("cpu"))

    assert cache_folders(cache) == [dequantised_gguf_dir(gguf_files["f32"])]
    assert lm.config.tie_word_embeddings
    for expected, actual in zip(logits(model, TOKEN_SEQUENCES), logits(lm, TOKEN_SEQUENCES), strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-6, atol=1e-6)
    assert loaded_tokenizer(SAMPLE_TEXT).input_ids == tokenizer(SAMPLE_TEXT).input_ids
    assert (loaded_tokenizer.eos_token, loaded_tokenizer.pad_token) == ("<|im_end|>", "<|endoftext|>")
    chat = [{"role": "user", "content": "Which note?"}]
    assert loaded_tokenizer.apply_chat_template(chat) == tokenizer.apply_chat_template(chat)


def test_conversion_happens_once(gguf_files, cache, monkeypatch):
    first = dequantised_gguf_dir(gguf_files["f32"])
    weights = first / "model.safetensors"
    written = weights.stat().st_mtime_ns

    def convert_again(gguf_path, out_dir):
        raise AssertionError(f"{gguf_path} converted a second time")

    monkeypatch.setattr(loading, "convert_gguf", convert_again)
    assert dequantised_gguf_dir(gguf_files["f32"]) == first
    assert weights.stat().st_mtime_ns == written
    assert cache_folders(cache) == [first]


def test_quantised_gguf_is_dequantised(original, gguf_files):
    model, _ = original
    lm, _ = load_causal_lm(str(gguf_files["q8_0"]), torch.float32, torch.device("cpu"))

    loaded = lm.state_dict()
    for name, weight in model.state_dict().items():
        if weight.ndim == 1:
            assert torch.equal(loaded[name], weight), name
        else:
            assert not torch.equal(loaded[name], weight), name
            torch.testing.assert_close(loaded[name], weight, rtol=0, atol=weight.abs().max().item() / 100)
    for expected, actual in zip(logits(model, TOKEN_SEQUENCES), logits(lm, TOKEN_SEQUENCES), strict=True):
        assert not torch.equal(actual, expected)
        torch.testing.assert_close(actual, expected, rtol=0, atol=expected.abs().max().item() / 20)


def test_gguf_missing_a_weight_is_refused_and_not_cached(original, tmp_path, cache):
    model, tokenizer = original
    left_out = "model.layers.1.mlp.down_proj.weight"
    path = write_gguf(tmp_path / "incomplete.gguf", model, tokenizer, leave_out=(left_out,))

    for _ in range(2):
        with pytest.raises(ValueError, match=rf"missing \['{re.escape(left_out)}'\], misshapen \[\]"):
            dequantised_gguf_dir(path)
        assert cache_folders(cache) == []


def test_missing_gguf_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.gguf"):
        dequantised_gguf_dir(tmp_path / "absent.gguf")



def test_gguf_whose_metadata_contradicts_its_tensors_is_refused(original, tmp_path, cache):
    model, tokenizer = original
    path = write_gguf(tmp_path / "contradicting.gguf", model, tokenizer, kv_heads=2 * model.config.num_key_value_heads)
    with pytest.raises(ValueError, match=r"misshapen \[.*k_proj.weight"):
        dequantised_gguf_dir(path)
    assert cache_folders(cache) == []


def test_same_named_copies_of_different_models_are_cached_apart(tmp_path, cache):
    tokenizer = byte_level_tokenizer(CHAT_TEMPLATE)
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        (tmp_path / f"copy{seed}").mkdir()
        paths.append(write_gguf(tmp_path / f"copy{seed}" / "model.gguf", synthetic_model("causal_lm", tokenizer),
                                tokenizer))
    stamp = paths[0].stat().st_mtime_ns
    os.utime(paths[1], ns=(stamp, stamp))  # as cp -p or rsync -a leave them
    folders = [dequantised_gguf_dir(path) for path in paths]
    assert folders[0] != folders[1] and cache_folders(cache) == sorted(folders)
