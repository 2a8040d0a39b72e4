"""Randomly initialised models built from configs, saved as loadable checkpoints.

For tests (tiny sizes, CPU, seconds) and speed benchmarks (full sizes: weights do not
matter for speed). Nothing is downloaded: the tokenizer is a byte-level BPE with no
merges (every byte one token) plus the Qwen special tokens, and the feature extractor
is Whisper's with 128 mel bins, both built here.

    path = save_synthetic_model("qwen2_audio", tmp_dir)          # tiny
    path = save_synthetic_model("qwen2_audio", tmp_dir, "full")  # 7B-shaped, for GPU timing
"""

from __future__ import annotations

from pathlib import Path

import torch

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>",
    "<|IMAGE|>", "<|VIDEO|>", "<|vision_bos|>", "<|vision_eos|>",
]
NAMED_SPECIAL = {
    "audio_token": "<|AUDIO|>", "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>",
    "image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>", "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
}
KINDS = ("causal_lm", "qwen2_audio", "qwen2_5_omni_thinker")

TINY_TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=2048)
FULL_TEXT = {  # the published 7B shapes
    "qwen2_audio": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                        num_key_value_heads=32, max_position_embeddings=8192),
    "qwen2_5_omni_thinker": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                                 num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=32768),
}
FULL_TEXT["causal_lm"] = FULL_TEXT["qwen2_5_omni_thinker"]  # Qwen2.5-7B's shape
# the router LM's default, Qwen2.5(-Coder)-0.5B's shape (size "0.5b", causal_lm only): the LM
# router's GPU benchmark where the packaged weights are not installed
ROUTER_TEXT = dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                   num_key_value_heads=2, max_position_embeddings=32768)
TINY_AUDIO = dict(num_mel_bins=128, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64, d_model=32)
FULL_AUDIO = dict(num_mel_bins=128, encoder_layers=32, encoder_attention_heads=20, encoder_ffn_dim=5120, d_model=1280)
FULL_VOCAB = 151_936


def byte_level_tokenizer(chat_template: str | None = None):
    """A tokenizer of 256 byte tokens plus the Qwen special tokens (no download)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        extra_special_tokens=dict(NAMED_SPECIAL),
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    return tokenizer


def whisper_features():
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(feature_size=128)


def synthetic_model(kind: str, tokenizer, size: str = "tiny", seed: int = 0):
    """A randomly initialised model of ``kind`` ("tiny", "full" or, for causal_lm, "0.5b"
    size) for ``tokenizer``."""
    import transformers

    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    ids = {name: tokenizer.convert_tokens_to_ids(tok) for name, tok in NAMED_SPECIAL.items()}
    if size == "0.5b" and kind != "causal_lm":
        raise ValueError(f"size '0.5b' is the router LM's shape: kind causal_lm only, got {kind!r}")
    vocab = len(tokenizer) if size == "tiny" else FULL_VOCAB
    shape = {"tiny": TINY_TEXT, "0.5b": ROUTER_TEXT}.get(size) or FULL_TEXT[kind]
    text = dict(shape, vocab_size=vocab)
    audio = TINY_AUDIO if size == "tiny" else FULL_AUDIO
    torch.manual_seed(seed)
    if kind == "causal_lm":
        config = transformers.Qwen2Config(**text, tie_word_embeddings=True)
        return transformers.Qwen2ForCausalLM(config).eval()
    if kind == "qwen2_audio":
        config = transformers.Qwen2AudioConfig(
            audio_config=audio, text_config=dict(model_type="qwen2", **text), audio_token_index=ids["audio_token"]
        )
        return transformers.Qwen2AudioForConditionalGeneration(config).eval()
    head_dim = text["hidden_size"] // text["num_attention_heads"]
    section = [head_dim // 8, head_dim * 3 // 16, head_dim * 3 // 16]  # sums to head_dim / 2
    config = transformers.Qwen2_5OmniThinkerConfig(
        audio_config=dict(audio, output_dim=text["hidden_size"], n_window=100),
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2,
                           out_hidden_size=text["hidden_size"]),
        text_config=dict(text, rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": section}),
        audio_token_index=ids["audio_token"], image_token_index=ids["image_token"],
        video_token_index=ids["video_token"], audio_start_token_id=ids["audio_bos_token"],
        audio_end_token_id=ids["audio_eos_token"], vision_start_token_id=ids["vision_bos_token"],
    )
    return transformers.Qwen2_5OmniThinkerForConditionalGeneration(config).eval()


def save_synthetic_model(kind: str, out_dir: str | Path, size: str = "tiny", seed: int = 0,
                         dtype: torch.dtype = torch.float32) -> Path:
    """Write a loadable checkpoint (model, tokenizer, feature extractor) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = byte_level_tokenizer()
    synthetic_model(kind, tokenizer, size, seed).to(dtype).save_pretrained(out)
    tokenizer.save_pretrained(out)
    if kind != "causal_lm":
        whisper_features().save_pretrained(out)
    return out
