"""A tiny random-weight Qwen3 chat LM saved as the Hub's instruct models are laid out.

config.json + model.safetensors + generation_config.json + the tokenizer
(tokenizer.json, tokenizer_config.json, chat_template.jinja), written by
`save_pretrained` of the real transformers classes: what the `lyrics-lm`
engine loads. The tokenizer is built in memory (nothing from the Hub): a
byte-level BPE with no merges, every UTF-8 byte a token, Qwen's special
tokens on top, and Qwen's ChatML template. Random weights over bytes decode
to nonsense (often invalid UTF-8): tests check structure, not text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{{ message['content'] }}{{'<|im_end|>\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{'<|im_start|>assistant\n'}}{% endif %}"
)


def byte_tokenizer() -> Any:
    from tokenizers import AddedToken, pre_tokenizers
    from transformers import Qwen2Tokenizer

    vocab: dict[str, int] = {}
    for token in (*SPECIALS, *sorted(pre_tokenizers.ByteLevel.alphabet())):
        vocab[token] = len(vocab)
    tokenizer: Any = Qwen2Tokenizer(vocab=vocab, merges=[], model_max_length=4096)
    tokenizer.add_tokens([AddedToken(s, special=True) for s in SPECIALS], special_tokens=True)
    tokenizer.eos_token, tokenizer.pad_token = "<|im_end|>", "<|endoftext|>"
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_lyrics_lm(directory: Path) -> Path:
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    tokenizer = byte_tokenizer()
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    torch.manual_seed(0)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
    )
    model: Any = Qwen3ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=eos, pad_token_id=tokenizer.pad_token_id, do_sample=True, top_p=0.95
    )
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
