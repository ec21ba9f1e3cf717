"""Tiny random-weight diffusers pipelines of the real classes, saved like real checkpoints.

Built once per session (`tiny_weights` fixture in tests/engines/conftest.py):
about 0.5 MB each, a fraction of a second to build. The recipe (configs,
tokenizer, seeds) is the one in shared/notes/tiny-diffusers-pipelines.md.
"""

from __future__ import annotations

from pathlib import Path

WORDS = ["a", "cat", "dog", "runs", "on", "the", "beach", "red", "car", "sky", "night", "city"]


def tiny_tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in WORDS:
        vocab[word] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def _t5(cls):  # type: ignore[no-untyped-def]
    import torch
    from transformers import T5Config

    torch.manual_seed(0)
    config = T5Config(
        vocab_size=128,
        d_model=32,
        d_ff=37,
        d_kv=8,
        num_heads=4,
        num_layers=2,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return cls(config).eval()


def build_ltx(directory: Path) -> Path:
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5EncoderModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    ).eval()
    torch.manual_seed(0)
    t, f = True, False
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8,) * 4,
        decoder_block_out_channels=(8,) * 4,
        layers_per_block=(1,) * 5,
        decoder_layers_per_block=(1,) * 5,
        spatio_temporal_scaling=(t, t, f, f),
        decoder_spatio_temporal_scaling=(t, t, f, f),
        patch_size=1,
    ).eval()
    pipe = LTXPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=_t5(T5EncoderModel),
        tokenizer=tiny_tokenizer(),
    )
    pipe.save_pretrained(directory)
    return directory


def build_wan(directory: Path, *, ti2v: bool = False) -> Path:
    """Wan 2.1-style text-to-video; `ti2v` marks it Wan 2.2 TI2V-style (image-to-video, no CLIP)."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5EncoderModel

    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=12,
        text_dim=32,
        ffn_dim=32,
        num_layers=2,
        rope_max_seq_len=32,
    ).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, dim_mult=[1, 1, 1, 1], num_res_blocks=1).eval()
    pipe = WanPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=_t5(UMT5EncoderModel),
        tokenizer=tiny_tokenizer(),
        expand_timesteps=ti2v,
    )
    pipe.save_pretrained(directory)
    return directory
