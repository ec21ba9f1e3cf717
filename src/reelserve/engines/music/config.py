"""What the music engines need from Settings, as picklable values (demucs runs in a child)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelserve.engines.diffusers.config import DiffusersConfig, shared_settings
from reelserve.settings import Settings


@dataclass(frozen=True)
class AceStepConfig:
    """The `ace-step` engine's configuration (`REELSERVE_ACE_STEP_*` + `REELSERVE_DIFFUSERS_*`)."""

    pipeline: DiffusersConfig
    """Model directory, steps, guidance and the GPU settings (as the diffusers engines have)."""
    shift: float = 3.0
    cover_strength: float = 0.5
    language: str = "en"

    @property
    def engine(self) -> str:
        return self.pipeline.engine


@dataclass(frozen=True)
class DemucsConfig:
    """The `demucs` engine's configuration (`REELSERVE_DEMUCS_*`)."""

    model_dir: Path | None
    model: str = "htdemucs"
    device: str = "auto"
    dtype: str = "auto"
    shifts: int = 1
    overlap: float = 0.25
    segment_s: float | None = None
    engine: str = "demucs"
    setting: str = "REELSERVE_DEMUCS_MODEL_DIR"


@dataclass(frozen=True)
class BasicPitchConfig:
    """The `basic-pitch` engine's configuration (`REELSERVE_BASIC_PITCH_*`)."""

    model: Path | None = None
    """The ONNX file; None: nmp.onnx inside the installed basic-pitch package."""
    onset_threshold: float = 0.5
    frame_threshold: float = 0.3
    min_note_ms: float = 127.7
    threads: int = 0
    engine: str = "basic-pitch"
    setting: str = "REELSERVE_BASIC_PITCH_MODEL"


def ace_step_config(settings: Settings) -> AceStepConfig:
    shared = dict(shared_settings(settings, "ace-step"))
    shared.update(vae_tiling=False, vae_slicing=False)  # the Oobleck VAE has neither
    pipeline = DiffusersConfig(
        engine="ace-step",
        model_dir=settings.ace_step_model_dir,
        setting="REELSERVE_ACE_STEP_MODEL_DIR",
        width=0,
        height=0,
        num_frames=0,
        fps=0,
        steps=settings.ace_step_steps,
        guidance=settings.ace_step_guidance,
        negative_prompt="",
        **shared,  # type: ignore[arg-type]
    )
    return AceStepConfig(
        pipeline=pipeline,
        shift=settings.ace_step_shift,
        cover_strength=settings.ace_step_cover_strength,
        language=settings.ace_step_language,
    )


def demucs_config(settings: Settings) -> DemucsConfig:
    return DemucsConfig(
        model_dir=settings.demucs_model_dir,
        model=settings.demucs_model,
        device=settings.demucs_device,
        dtype=settings.demucs_dtype,
        shifts=settings.demucs_shifts,
        overlap=settings.demucs_overlap,
        segment_s=settings.demucs_segment_s,
    )


def basic_pitch_config(settings: Settings) -> BasicPitchConfig:
    return BasicPitchConfig(
        model=settings.basic_pitch_model,
        onset_threshold=settings.basic_pitch_onset_threshold,
        frame_threshold=settings.basic_pitch_frame_threshold,
        min_note_ms=settings.basic_pitch_min_note_ms,
        threads=settings.basic_pitch_threads,
    )
