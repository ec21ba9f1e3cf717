"""Tiny random-weight HTDemucs bags saved the way demucs 4.1 publishes them (demucs/hf.py).

A folder with `<name>.yaml` (`models: [sig]`) and `<sig>.safetensors` whose
metadata holds the model's class and init arguments as JSON: what
`demucs.hf.load_safetensors_model` reads, and so what the `demucs` engine
loads. ~6 k parameters (`t_layers=0`: no cross-transformer), 2-s segments;
a 5-s stereo track separates in about a second on CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

FOUR = ("drums", "bass", "other", "vocals")
SIX = ("drums", "bass", "other", "vocals", "guitar", "piano")


def build_demucs(
    directory: Path, name: str = "htdemucs", sources: tuple[str, ...] = FOUR, sig: str = "0badc0de"
) -> Path:
    import torch
    from demucs.htdemucs import HTDemucs
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = HTDemucs(
        sources=list(sources),
        channels=4,
        depth=2,
        t_layers=0,
        nfft=512,
        dconv_comp=2,
        samplerate=44100,
        segment=2,
    ).eval()
    args, kwargs = model._init_args_kwargs
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "klass": "demucs.htdemucs.HTDemucs",
        "args": json.dumps(list(args)),
        "kwargs": json.dumps(kwargs),
    }
    save_file(state, str(directory / f"{sig}.safetensors"), metadata=metadata)
    (directory / f"{name}.yaml").write_text(f"models: ['{sig}']\n")
    return directory


def build_ace_step(directory: Path, turbo: bool = False) -> Path:
    """A tiny random-weight ACE-Step 1.5 pipeline (AceStepPipeline), saved as diffusers does.

    diffusers' fast-test config (shared/notes/image-audio-engines.md §5.1) with a VAE at
    the real rate: 48 kHz stereo, 1920x downsampling (25 latents a second), its encoder
    twice the decoder's input channels (mean and scale) so audio-to-audio tasks work.
    `turbo` marks the transformer as a turbo checkpoint (text2music, cover, repaint only).
    """
    import torch
    from diffusers import AceStepPipeline, AutoencoderOobleck, FlowMatchEulerDiscreteScheduler
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import (
        AceStepAudioTokenDetokenizer,
        AceStepAudioTokenizer,
        AceStepConditionEncoder,
    )
    from transformers import Qwen3Config, Qwen3Model

    from tests.tiny_image_pipelines import qwen2_tokenizer

    tokenizer = qwen2_tokenizer()
    tokenizer.chat_template = None
    heads = {"num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
             "rope_theta": 10000.0, "sliding_window": 16}  # fmt: skip
    small = {"hidden_size": 32, "intermediate_size": 64}
    torch.manual_seed(0)
    transformer = AceStepTransformer1DModel(
        **small, num_hidden_layers=2, in_channels=24, audio_acoustic_hidden_dim=8, patch_size=2,
        **heads,
    )  # fmt: skip
    if turbo:
        transformer.register_to_config(is_turbo=True)
    text_encoder = Qwen3Model(
        Qwen3Config(**small, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                    head_dim=8, vocab_size=len(tokenizer), max_position_embeddings=4096)
    ).eval()  # fmt: skip
    condition_encoder = AceStepConditionEncoder(
        **small, text_hidden_dim=32, timbre_hidden_dim=8, num_lyric_encoder_hidden_layers=2,
        num_timbre_encoder_hidden_layers=2, **heads,
    )  # fmt: skip
    audio_tokenizer = AceStepAudioTokenizer(
        **small, audio_acoustic_hidden_dim=8, pool_window_size=2, fsq_dim=32,
        fsq_input_levels=[4, 4, 4], fsq_input_num_quantizers=1,
        num_attention_pooler_hidden_layers=1, **heads,
    )  # fmt: skip
    audio_token_detokenizer = AceStepAudioTokenDetokenizer(
        **small, audio_acoustic_hidden_dim=8, pool_window_size=2,
        num_attention_pooler_hidden_layers=1, **heads,
    )  # fmt: skip
    vae = AutoencoderOobleck(
        encoder_hidden_size=16, downsampling_ratios=[2, 4, 4, 6, 10], decoder_channels=4,
        decoder_input_channels=8, audio_channels=2, channel_multiples=[1] * 6,
        sampling_rate=48000,
    )  # fmt: skip
    pipe = AceStepPipeline(
        transformer=transformer,
        condition_encoder=condition_encoder,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0),
        audio_tokenizer=audio_tokenizer,
        audio_token_detokenizer=audio_token_detokenizer,
    )
    pipe.save_pretrained(directory)
    return directory
