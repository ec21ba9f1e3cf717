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
