"""One Settings object (REELSERVE_ prefix). Built once and passed in; never a module global."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from reelserve.engines.base import Capability
from reelserve.tasks.routes import Route, engine_names, parse_routes, pick
from reelserve.upstream.config import UpstreamConfig, upstreams_from_env

DEFAULT_ENGINE = "synthetic"


class Settings(BaseSettings):
    """Runtime configuration; every field is read from `REELSERVE_<NAME>`.

    Example: `REELSERVE_PORT=9000 REELSERVE_ENGINES=synthetic reelserve serve`.
    """

    model_config = SettingsConfigDict(env_prefix="REELSERVE_", extra="ignore")

    data_dir: Path = Path("./reelserve-data")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    http_status: Literal["kie", "rest"] = "kie"
    engines: Annotated[dict[Capability, str], NoDecode] = Field(default_factory=dict)
    routes: Annotated[tuple[Route, ...], NoDecode] = ()
    """`pattern=engine[,fallback...];...` over model names and operations (tasks/routes.py)."""
    engine_plugins: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    """Extra engines, `name=package.module:Factory,...`; the factory takes no arguments."""
    media_retention_days: float = 14
    upload_retention_hours: float = 72
    upload_max_bytes: int = 100 * 1024 * 1024
    """Largest uploaded file (all three upload endpoints)."""
    janitor_interval_s: float = 300
    lease_s: float = 30
    max_attempts: int = 3
    callback_timeout_s: float = 15
    callback_retry_delays: Annotated[tuple[float, ...], NoDecode] = (60, 300, 900)
    allow_private_urls: bool = False
    maintenance: bool = False
    disabled_features: Annotated[frozenset[str], NoDecode] = frozenset()
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ("*",)
    signing_secret: str = ""
    """HMAC key for media URLs; generated once into the data dir when unset."""
    admin_token: str = ""
    """The operator console's login (`/console`); unset, the console is off."""
    worker_poll_s: float = 1.0
    """Fallback poll period of the in-process worker (it is also woken on submit)."""
    source_max_bytes: int = 10 * 1024 * 1024
    source_fetch_timeout_s: float = 30
    x264_preset: str = "veryfast"
    credits_per_5s: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: {"360p": 4.0, "480p": 6.0, "720p": 12.0, "1080p": 20.0}
    )
    """Credits per 5 s of output by quality, e.g. `360p=4,480p=6,720p=12,1080p=20`."""
    credits_per_image: float = 4
    credits_per_audio_minute: float = 6
    credits_per_text: float = 2
    credits_per_song: float = 12
    """Credits per Suno song task (two tracks): generate, extend, covers, add-*, mashup, sounds."""
    model_credits: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    """Flat credits per task for market models, `pattern=credits;...` (globs), first match wins."""
    read_cache_s: float = 1.0
    """How stale a task read may be when another process changed it (0 disables the cache)."""
    # S3-compatible media storage: a bucket set puts media in S3 (the `s3` extra).
    s3_endpoint: str = ""
    """e.g. `https://s3.eu-central-1.amazonaws.com` or `http://10.0.0.5:8333`; empty: AWS."""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    """Empty: the standard AWS_* environment variables or instance credentials."""
    s3_secret_key: str = ""
    s3_public_endpoint: str = ""
    """Endpoint in the presigned URLs clients follow, when it differs from `s3_endpoint`."""
    s3_presign_s: int = Field(default=3600, ge=1, le=7 * 86400)
    """Life of the presigned URL the file route redirects to (S3 caps it at 7 days)."""
    s3_part_mb: int = Field(default=8, ge=5, le=5 * 1024)
    """Multipart part size for large objects (S3 needs at least 5 MiB)."""
    worker_grace_s: float = 30
    """On SIGTERM a worker stops claiming and lets its tasks finish this long, then gives
    them back to the queue."""
    worker_heartbeat_s: float = 5
    """How often a worker process updates its row (`reelserve workers`)."""
    listen_notify: bool = True
    """PostgreSQL: wake workers and delivery loops by LISTEN/NOTIFY (false: poll only,
    e.g. behind a transaction-pooling PgBouncer)."""
    storage_retry_s: float = Field(default=300, ge=0)
    """How long a worker retries a failed media read or write (S3 unreachable, a full disk)
    before it fails the task; the rendered output is kept meanwhile, so the engine does not
    run again. docs/operations.md"""
    max_json_bytes: int | None = Field(default=None, ge=1024)
    """Largest JSON request body; larger ones are refused (413) while they arrive. Unset:
    1 MiB plus room for two data: URIs of `source_max_bytes` (base64; an Aleph request has a
    video and a reference image), about 27 MiB by default. Uploads have their own limit
    (`upload_max_bytes`)."""
    http_header_timeout_s: float = Field(default=10, gt=0)
    """`serve`: a connection that has not sent a request's headers within this is closed."""
    http_keep_alive_s: int = Field(default=5, ge=1)
    """`serve`: an idle keep-alive connection is closed after this."""
    http_max_header_bytes: int = Field(default=64 * 1024, ge=4096)
    """`serve`: a request whose headers are larger is refused (the connection is closed)."""
    metrics_token: str = ""
    """A bearer token `/metrics` requires; empty: `/metrics` is open. docs/operations.md"""
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per log line, with the task's id, family, model, engine and
    key id on the lines logged while a task is handled. docs/operations.md"""

    # --- diffusers engines (ltx-video, wan): docs/engines.md -------------------
    ltx_model_dir: Path | None = None
    """A local diffusers directory (model_index.json + subfolders) of an LTX-Video checkpoint."""
    ltx_width: int = 768
    ltx_height: int = 512
    """Native size: the pixel area LTX renders at (the request's aspect ratio is kept)."""
    ltx_num_frames: int = 121
    """Most frames one LTX generation makes (8k+1); fewer when the request is shorter."""
    ltx_fps: int = 24
    ltx_steps: int = 40
    ltx_guidance: float = 3.0
    ltx_negative_prompt: str = "worst quality, inconsistent motion, blurry, jittery, distorted"
    wan_model_dir: Path | None = None
    """A local diffusers directory of a Wan 2.1/2.2 checkpoint (Wan-AI/*-Diffusers)."""
    wan_width: int = 832
    wan_height: int = 480
    wan_num_frames: int = 81
    """Most frames one Wan generation makes (4k+1)."""
    wan_fps: int = 16
    wan_steps: int = 50
    wan_guidance: float = 5.0
    wan_negative_prompt: str = (
        "bright tones, overexposed, static, blurred details, subtitles, worst quality, low "
        "quality, JPEG artifacts, ugly, deformed, disfigured, still picture, cluttered background"
    )
    wan_strength: float = Field(default=0.7, gt=0, le=1)
    """video_to_video (Aleph): how far the result may move from the source (1: ignore it)."""
    diffusers_device: str = "auto"
    """`auto` (cuda when available, else cpu), `cpu`, `cuda`, `cuda:1`, ..."""
    diffusers_dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    """`auto`: bfloat16 on CUDA, float32 on CPU."""
    diffusers_compile: bool = False
    """Regional torch.compile of the transformer's repeated blocks (slower start, faster steps)."""
    diffusers_vae_tiling: bool = False
    """Decode the VAE in tiles: less memory for large frames, slightly slower."""
    diffusers_vae_slicing: bool = False
    """Decode a batch (several images of one task) one item at a time: less peak memory."""
    diffusers_offload: Literal["none", "model", "sequential"] = "none"
    """Keep weights in CPU memory and move them to the GPU when used (smaller GPUs)."""
    diffusers_imports: str = ""
    """Comma-separated modules an engine child imports before loading: a checkpoint whose
    model_index.json names a component class of your own (diffusers loads only imported ones)."""
    # --- rembg (remove_background): docs/engines.md, "rembg" ---
    rembg_model: Path | None = None
    """The ONNX file the operator placed (one of rembg's release files: u2net.onnx,
    isnet-general-use.onnx, birefnet-general.onnx...); nothing is downloaded."""
    rembg_session: str = "u2net_custom"
    """rembg's session for that file: u2net_custom (any u2net-style model, 320x320 input),
    dis_custom, ben_custom, or a named one (u2net, isnet-general-use, birefnet-general,
    bria-rmbg...), whose pre/post-processing is that model's; then the file must be named
    `<session>.onnx`."""
    rembg_device: Literal["cpu", "cuda"] = "cpu"
    """onnxruntime's provider: cpu (CPUExecutionProvider) or cuda (CUDAExecutionProvider,
    needs onnxruntime-gpu; refused at start-up when the provider is missing)."""
    rembg_threads: int = Field(default=0, ge=0)
    """onnxruntime's intra-op threads (0: its default, one per core)."""
    rembg_alpha_matting: bool = False
    """Refine the mask's edges with rembg's alpha matting (pymatting; slower, CPU)."""
    # --- end of rembg ---
    # --- image engines (z-image, flux-kontext, flux, qwen-image): docs/engines.md ---
    zimage_model_dir: Path | None = None
    """A local diffusers directory of Z-Image (Tongyi-MAI/Z-Image-Turbo): ZImagePipeline."""
    zimage_width: int = Field(default=1024, ge=16, le=4096)
    zimage_height: int = Field(default=1024, ge=16, le=4096)
    """Native size: the pixel area Z-Image renders at (the request's aspect ratio is kept)."""
    zimage_steps: int = Field(default=9, ge=1, le=1000)
    """Turbo: 9 steps (8 transformer evaluations), as published."""
    zimage_guidance: float = Field(default=0.0, ge=0)
    """Turbo is distilled without classifier-free guidance (0: off, one pass per step)."""
    flux_kontext_model_dir: Path | None = None
    """A local diffusers directory of FLUX.1 Kontext (black-forest-labs/FLUX.1-Kontext-dev)."""
    flux_kontext_width: int = Field(default=1024, ge=16, le=4096)
    flux_kontext_height: int = Field(default=1024, ge=16, le=4096)
    flux_kontext_steps: int = Field(default=28, ge=1, le=1000)
    flux_kontext_guidance: float = Field(default=2.5, ge=0)
    """Kontext's distilled guidance (an embedding, not CFG: one pass per step)."""
    flux_model_dir: Path | None = None
    """A local diffusers directory of FLUX.1 schnell/dev (FluxPipeline) or FLUX.2 klein
    (Flux2KleinPipeline); the engine runs the pipeline its model_index.json names."""
    flux_width: int = Field(default=1024, ge=16, le=4096)
    flux_height: int = Field(default=1024, ge=16, le=4096)
    flux_steps: int = Field(default=4, ge=1, le=1000)
    """4 for schnell and the distilled klein; FLUX.1-dev wants about 28-50."""
    flux_max_sequence_length: int = Field(default=512, ge=16, le=512)
    """Prompt tokens: FLUX.1-schnell was trained with 256 (set 256), dev and klein with 512."""
    flux_guidance: float = Field(default=3.5, ge=0)
    """FLUX.1-dev's distilled guidance (schnell and the distilled klein ignore it); on a
    base (non-distilled) klein, classifier-free guidance above 1 (two passes per step)."""
    qwen_image_model_dir: Path | None = None
    """A local diffusers directory of Qwen-Image (Qwen/Qwen-Image): text_to_image."""
    qwen_image_edit_model_dir: Path | None = None
    """A local diffusers directory of Qwen-Image-Edit-2509 or later (QwenImageEditPlusPipeline):
    image_to_image, every input image a reference."""
    qwen_image_width: int = Field(default=1328, ge=16, le=4096)
    qwen_image_height: int = Field(default=1328, ge=16, le=4096)
    """Native size (Qwen-Image's 1:1 is 1328x1328)."""
    qwen_image_steps: int = Field(default=50, ge=1, le=1000)
    qwen_image_guidance: float = Field(default=4.0, ge=0)
    """Qwen's true classifier-free guidance (`true_cfg_scale`; above 1 two passes a step)."""
    qwen_image_edit_reference_size: int = Field(default=1024, ge=16, le=4096)
    """Each reference image is VAE-encoded at this side's area (its own aspect kept)."""
    qwen_image_edit_condition_size: int = Field(default=384, ge=16, le=2048)
    """...and shown to the vision-language encoder at this side's area."""
    # --- end of image engines ---------------------------------------------------
    upstreams: Annotated[dict[str, UpstreamConfig], NoDecode] = Field(default_factory=dict)
    """Upstream providers by name, read from `REELSERVE_UPSTREAM_<NAME>_URL`, `_KEY`,
    `_UPLOAD_URL`... (upstream/config.py, docs/upstream.md); routes name them `upstream:<name>`."""
    extend_context_frames: int = Field(default=25, ge=1, le=257)
    """How many of the parent's last frames an extend task hands its engine as context."""

    # --- lyrics-lm (write_lyrics): docs/engines.md, "lyrics-lm" ---
    lyrics_lm_model_dir: Path | None = None
    """A local transformers folder of a small instruct LM: config.json, weights, tokenizer files
    with a chat template (e.g. Qwen/Qwen3-1.7B or Qwen/Qwen3-4B-Instruct-2507)."""
    lyrics_lm_device: str = "auto"
    """`auto` (cuda when available, else cpu), `cpu`, `cuda`, `cuda:1`, ..."""
    lyrics_lm_dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """`auto`: bfloat16 on CUDA, float32 on CPU."""
    lyrics_lm_max_new_tokens: int = Field(default=400, ge=16, le=4096)
    """The most tokens one lyric sheet may take (a sheet cut there ends mid-line)."""
    lyrics_lm_temperature: float = Field(default=0.8, ge=0, le=2)
    """Sampling temperature; 0: greedy (every variant the same)."""
    lyrics_lm_compile: bool = False
    """A static KV cache with transformers compiling the forward pass (CUDA only; the first
    tasks compile)."""
    # --- end of lyrics-lm ---

    # --- music engines (ace-step, demucs, basic-pitch): docs/engines.md, "Music engines" ---
    ace_step_model_dir: Path | None = None
    """A diffusers-format ACE-Step 1.5 checkpoint (model_index.json: AceStepPipeline); the
    GPU settings are the diffusers engines' (REELSERVE_DIFFUSERS_DEVICE, _DTYPE, _OFFLOAD...)."""
    ace_step_steps: int = Field(default=8, ge=1, le=1000)
    """Denoising steps (turbo checkpoints are made for 8; base and SFT for 30-60)."""
    ace_step_guidance: float = Field(default=7.0, ge=0)
    """Classifier-free guidance for base/SFT checkpoints (turbo ones ignore it)."""
    ace_step_shift: float = Field(default=3.0, gt=0)
    """The flow-matching timestep shift (ACE-Step's default 3.0)."""
    ace_step_cover_strength: float = Field(default=0.5, ge=0, le=1)
    """How much of the source a cover keeps when the request has no audioWeight (0-1)."""
    ace_step_language: str = "en"
    """The sung language ACE-Step is told (`vocal_language`: en, zh, ja, ko, es...)."""
    demucs_model_dir: Path | None = None
    """A local folder with `<demucs_model>.yaml` and its models' `<sig>.safetensors` (or `.th`)."""
    demucs_model: str = "htdemucs"
    """The bag of models to load from demucs_model_dir: htdemucs, htdemucs_ft, htdemucs_6s..."""
    demucs_device: str = "auto"
    """`auto` (cuda when available, else cpu), `cpu`, `cuda`, `cuda:1`, ..."""
    demucs_dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """`auto`/`float32`: full precision; float16/bfloat16 run the model under autocast."""
    demucs_shifts: int = Field(default=1, ge=0, le=20)
    """Random time shifts averaged per track (demucs' default 1; 0 is fastest)."""
    demucs_overlap: float = Field(default=0.25, ge=0, lt=1)
    """Overlap of consecutive segments."""
    demucs_segment_s: float | None = Field(default=None, gt=0)
    """Segment length in seconds (default: the model's own; HTDemucs cannot go above it)."""
    basic_pitch_model: Path | None = None
    """basic-pitch's ONNX model (default: nmp.onnx inside the installed basic-pitch package)."""
    basic_pitch_onset_threshold: float = Field(default=0.5, gt=0, lt=1)
    basic_pitch_frame_threshold: float = Field(default=0.3, gt=0, lt=1)
    basic_pitch_min_note_ms: float = Field(default=127.7, ge=0)
    basic_pitch_threads: int = Field(default=0, ge=0)
    """onnxruntime's threads for basic-pitch (0: its default, one per core)."""
    # --- end of music engines ---

    # --- swin2sr (upscale_image, upscale_video): docs/engines.md, "swin2sr" ---
    swin2sr_model_dir: Path | None = None
    """A local folder with a Swin2SR model's config.json, weights and preprocessor_config.json."""
    swin2sr_device: str = "auto"
    """`auto` (cuda when available, else cpu), `cpu`, `cuda`, `cuda:1`, ..."""
    swin2sr_dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """`auto`/`float32`: full precision; float16/bfloat16 cast the model (quality unmeasured)."""
    swin2sr_tile: int = Field(default=512, ge=0)
    """Tile side in input pixels for big frames (overlapping tiles); 0: the whole image at once."""
    swin2sr_compile: bool = False
    """torch.compile the model (the first frames of each new size compile it)."""
    # --- end of swin2sr ---

    _secret: bytes | None = PrivateAttr(default=None)

    @field_validator("routes", mode="before")
    @classmethod
    def _parse_routes(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_routes(value)
        return value

    @field_validator("engines", mode="before")
    @classmethod
    def _parse_engines(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return parse_engines(value)

    @field_validator("engine_plugins", mode="before")
    @classmethod
    def _parse_plugins(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        out: dict[str, str] = {}
        for part in value.split(","):
            if part.strip():
                name, sep, target = part.partition("=")
                if not sep or ":" not in target:
                    raise ValueError(
                        f"engine plugin {part.strip()!r} must be name=module:attribute"
                    )
                out[name.strip()] = target.strip()
        return out

    @field_validator("model_credits", mode="before")
    @classmethod
    def _parse_model_credits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        out: dict[str, float] = {}
        for part in value.replace("\n", ";").split(";"):
            if part.strip():
                pattern, sep, price = part.rpartition("=")
                if not sep or not pattern.strip():
                    raise ValueError(f"model price {part.strip()!r} must be pattern=credits")
                out[pattern.strip()] = float(price)
        return out

    @field_validator("credits_per_5s", mode="before")
    @classmethod
    def _parse_prices(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        out: dict[str, float] = {}
        for part in value.split(","):
            if part.strip():
                quality, sep, price = part.partition("=")
                if not sep:
                    raise ValueError(f"price {part.strip()!r} must be quality=credits")
                out[quality.strip()] = float(price)
        return out

    @field_validator("callback_retry_delays", mode="before")
    @classmethod
    def _parse_delays(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(v) for v in value.split(",") if v.strip())
        return value

    @field_validator("disabled_features", "cors_origins", mode="before")
    @classmethod
    def _parse_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("s3_endpoint", "s3_public_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"S3 endpoint {value!r} must be an http:// or https:// URL")
        return value

    @field_validator("upstreams", mode="before")
    @classmethod
    def _parse_upstreams(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return {}
        return value

    @model_validator(mode="after")
    def _read_upstreams(self) -> Settings:
        if not self.upstreams:
            self.upstreams = upstreams_from_env(os.environ)
        return self

    @model_validator(mode="after")
    def _check_s3(self) -> Settings:
        # A half-configured bucket must not silently fall back to local disk.
        if not self.s3_bucket and (self.s3_endpoint or self.s3_access_key):
            raise ValueError("s3_bucket (REELSERVE_S3_BUCKET) is required when S3 is configured")
        if bool(self.s3_access_key) != bool(self.s3_secret_key):
            raise ValueError("s3_access_key and s3_secret_key must be set together")
        return self

    @property
    def uses_s3(self) -> bool:
        """Media goes to S3 when a bucket is configured."""
        return bool(self.s3_bucket)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+asyncpg://" + url.split("://", 1)[1]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'reelserve.db').resolve()}"

    def route_table(self) -> tuple[Route, ...]:
        """`REELSERVE_ROUTES`, then `REELSERVE_ENGINES` as operation routes; else `*=synthetic`."""
        shorthand = tuple(Route(op.value, (name,)) for op, name in self.engines.items())
        if not self.routes and not shorthand:
            return (Route("*", (DEFAULT_ENGINE,)),)
        return (*self.routes, *shorthand)

    def engines_for(self, operation: Capability, model: str | None = None) -> tuple[str, ...]:
        """The route's engines for a task (first, then fallbacks); () when none serves it."""
        return pick(self.route_table(), model, operation.value)

    def engine_for(self, operation: Capability, model: str | None = None) -> str | None:
        """The engine a task of `operation` (and `model`) runs on; None when no engine serves it."""
        engines = self.engines_for(operation, model)
        return engines[0] if engines else None

    def routed_engines(self) -> set[str]:
        """Every engine the routes name (each must load at start-up)."""
        return engine_names(self.route_table())

    @property
    def json_body_limit(self) -> int:
        """The largest JSON body accepted: `max_json_bytes`, or 1 MiB and two data: URIs."""
        if self.max_json_bytes is not None:
            return self.max_json_bytes
        return 1024 * 1024 + 2 * 4 * -(-self.source_max_bytes // 3)

    def media_retention_s(self) -> float:
        return self.media_retention_days * 86400

    def resolved_signing_secret(self) -> bytes:
        """The media URL key: the setting, else a key generated once into the data dir.

        Read once per Settings object: workers ask for it on every source fetch.
        """
        if self._secret is None:
            self._secret = self._load_signing_secret()
        return self._secret

    def _load_signing_secret(self) -> bytes:
        if self.signing_secret:
            return self.signing_secret.encode()
        path = self.data_dir / "signing.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(32))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip().encode()


def parse_engines(value: str) -> dict[Capability, str]:
    """`synthetic` (every operation) or `text_to_video=ltx-video,video_to_video=wan`."""
    value = value.strip()
    if not value:
        return {}
    if "=" not in value:
        return dict.fromkeys(Capability, value)
    out: dict[Capability, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        op, _, name = part.partition("=")
        try:
            capability = Capability(op.strip())
        except ValueError:
            allowed = ", ".join(c.value for c in Capability)
            raise ValueError(
                f"unknown operation {op.strip()!r} in engines (allowed: {allowed})"
            ) from None
        out[capability] = name.strip()
    return out
