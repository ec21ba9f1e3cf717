"""From validated input values to a `TaskSpec`: what to make, how big, how long, from what.

Decisions (spec §2), besides the sizes in `catalogue.geometry`:
- **operation:** the model's default, unless `extras.INPUT_OPERATIONS` names a
  field that is present (`kling-3.0/video` with `image_urls` → image_to_video,
  `nano-banana-2` with `image_input` → image_to_image...).
- **ratio:** `aspect_ratio`, `ratio` or `image_size` (a ratio or a preset);
  none of them → "auto" when the operation works on an input (its ratio wins),
  else 16:9 (video) / 1:1 (image). Audio and text outputs: "".
- **resolution:** video `resolution`, `mode` (`720p`, or Kling 3.0's `std` →
  720p, `pro` → 1080p, `4K` → 4k) or Sora's `size` (standard → 720p, high →
  1080p), default 720p; image `resolution`/`image_resolution`, default 1K.
  `quality` fields (basic/high, medium/high) do not change the size. Upscalers,
  background removal, extend and `sora-watermark-remover` without a size field
  answer "" = keep the input's size (× `scale` for upscalers).
- **duration:** `duration`, `n_frames` ("10" → 10 s), `duration_seconds`,
  `extend_times` (extend), `num_frames`/`frames_per_second`; Kling 3.0 with
  `multi_shots` lasts the sum of its shots. Else 5 s for text/image/reference
  to video and sound effects, 0 (the inputs decide) for everything else.
- **count:** `n`, `num_images` or `max_images` (the most Seedream 4 may make;
  we make that many), else `extras.IMAGE_COUNTS` (Grok text-to-image makes 6,
  notes §5.4), else 1.
- **sound:** a `sound`/`generate_audio`/`audio` flag decides when present;
  else sora-2* and gemini-omni-video, lip_sync, a video driven by an input
  audio, and `audio_setting: origin` have sound; others have none.
- **formats:** `output_format` png/jpeg/jpg/webp (jpg → jpeg; default png;
  background removal always png, RGBA); audio mp3* → mp3, pcm/ulaw/alaw → wav,
  opus → mp3 (we encode mp3 and wav only).
- **seed:** an integer `seed`, a numeric string seed; a negative seed (Seedance's
  default -1 = random) or a non-numeric one (Imagen's string seed, kept in
  `extras`) is None.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from reelserve.catalogue import extras as hand
from reelserve.catalogue import geometry as geo
from reelserve.catalogue.fields import PLAIN_IMAGE_FIELDS, MediaKind, media_kind, role_of
from reelserve.catalogue.models import Model
from reelserve.engines.base import Capability, Kind
from reelserve.tasks.rules import DataUri

C = Capability
_FRAMED = frozenset({C.TEXT_TO_VIDEO, C.IMAGE_TO_VIDEO, C.EXTEND})
_ON_INPUT = frozenset(
    {
        C.IMAGE_TO_VIDEO, C.VIDEO_TO_VIDEO, C.EXTEND, C.UPSCALE_VIDEO, C.LIP_SYNC,
        C.MOTION_TRANSFER, C.IMAGE_TO_IMAGE, C.UPSCALE_IMAGE, C.REMOVE_BACKGROUND,
    }
)  # fmt: skip
_KEEP_SIZE = frozenset({C.UPSCALE_VIDEO, C.UPSCALE_IMAGE, C.REMOVE_BACKGROUND, C.EXTEND})
_TIMED = frozenset({C.TEXT_TO_VIDEO, C.IMAGE_TO_VIDEO, C.REFERENCE_TO_VIDEO, C.SOUND_EFFECT})
_MODES = {"std": "720p", "pro": "1080p", "standard": "720p", "high": "1080p"}
DEFAULT_SECONDS = 5.0


@dataclass(frozen=True)
class Source:
    field: str
    index: int | None
    value: str | DataUri
    kind: Literal["image", "video", "audio"]
    role: str


@dataclass(frozen=True)
class TaskSpec:
    """What a task makes. `width`/`height` 0: decided from the source (`output_size`);
    `resolution` "": keep the source's size (× `scale` for upscalers)."""

    operation: Capability
    kind: Kind
    ratio: str
    resolution: str
    width: int
    height: int
    scale: int
    duration_s: float
    count: int
    sound: bool
    image_format: str
    audio_format: str
    prompt: str
    seed: int | None
    sources: tuple[Source, ...]
    parent_task_id: str | None
    parent_index: int | None
    return_last_frame: bool
    extras: dict[str, Any]


def plan(model: Model, values: dict[str, Any]) -> TaskSpec:
    """The `TaskSpec` of validated `values` (see the module docstring)."""
    operation = _operation(model, values)
    kind = operation.kind
    sources = tuple(_sources(model, operation, values))
    if (
        operation is C.IMAGE_TO_VIDEO
        and not sources
        and not (values.get("task_id") or values.get("origin_task_id"))
    ):
        # Models whose every frame input is optional (wan/2-7-image-to-video): none given,
        # the video comes from the prompt alone.
        operation = C.TEXT_TO_VIDEO
    ratio = _ratio(values, operation)
    resolution = _resolution(model, values, operation)
    width = height = 0
    if ratio not in ("", geo.AUTO) and resolution:
        fit = geo.video_size if kind is Kind.VIDEO else geo.image_size
        width, height = fit(ratio, resolution)
    task_id = values.get("task_id") or values.get("origin_task_id")
    return TaskSpec(
        operation=operation,
        kind=kind,
        ratio=ratio,
        resolution=resolution,
        width=width,
        height=height,
        scale=_scale(values) if operation in (C.UPSCALE_IMAGE, C.UPSCALE_VIDEO) else 0,
        duration_s=_duration(values, operation),
        count=_count(model, values),
        sound=kind is Kind.VIDEO and _sound(model, values, operation, sources),
        image_format=_image_format(values, operation),
        audio_format=_audio_format(values) if kind is Kind.AUDIO else "mp3",
        prompt=_prompt(values),
        seed=_seed(values.get("seed")),
        sources=sources,
        parent_task_id=str(task_id) if task_id else None,
        parent_index=int(values.get("index", 0)) if values.get("task_id") else None,
        return_last_frame=values.get("return_last_frame") is True,
        extras={k: v for k, v in values.items() if media_kind(k, _spec(model, k)) is None},
    )


def primary_source(spec: TaskSpec) -> Source | None:
    """The source whose size `output_size` needs: the input video for video inputs
    (motion transfer: the image when `character_orientation` is "image"), else the
    first image."""
    wants: MediaKind = "image"
    if spec.operation in (C.VIDEO_TO_VIDEO, C.UPSCALE_VIDEO, C.EXTEND, C.MOTION_TRANSFER):
        wants = "video"
    if spec.operation is C.MOTION_TRANSFER and spec.extras.get("character_orientation") == "image":
        wants = "image"
    for source in spec.sources:
        if source.kind == wants:
            return source
    return next((s for s in spec.sources if s.kind != "audio"), None)


def output_size(spec: TaskSpec, source_size: tuple[int, int] | None) -> tuple[int, int]:
    """The final (width, height): fixed at submit, else from the source (see TaskSpec)."""
    if spec.kind not in (Kind.VIDEO, Kind.IMAGE):
        return (0, 0)
    if spec.width and spec.height:
        return (spec.width, spec.height)
    if source_size is not None and (spec.scale or not spec.resolution):
        factor = max(spec.scale, 1)
        return (source_size[0] * factor, source_size[1] * factor)
    video = spec.kind is Kind.VIDEO
    ratio: str | float = geo.DEFAULT_VIDEO_RATIO if video else geo.DEFAULT_IMAGE_RATIO
    if spec.ratio not in ("", geo.AUTO):
        ratio = spec.ratio
    elif source_size is not None and source_size[0] > 0 and source_size[1] > 0:
        ratio = source_size[0] / source_size[1]
    if video:
        return geo.video_size(ratio, spec.resolution or geo.DEFAULT_VIDEO_RESOLUTION)
    return geo.image_size(ratio, spec.resolution or geo.DEFAULT_IMAGE_RESOLUTION)


def _operation(model: Model, values: dict[str, Any]) -> Capability:
    for field, operation in hand.INPUT_OPERATIONS.get(model.name, ()):
        if values.get(field):
            return operation
    return model.operation


def _spec(model: Model, field: str) -> dict[str, Any]:
    spec: dict[str, Any] = model.schema["properties"].get(field) or {}
    return spec


def _sources(model: Model, operation: Capability, values: dict[str, Any]) -> Iterator[Source]:
    for field, value in values.items():
        spec = _spec(model, field)
        kind = media_kind(field, spec)
        if kind is not None:
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                index = i if isinstance(value, list) else None
                role = _role(model.name, field, kind, operation, index)
                yield Source(field, index, _decoded(str(item)), kind, role)
        elif isinstance(value, list) and (spec.get("items") or {}).get("type") == "object":
            yield from _nested_sources(field, value, spec["items"])


def _nested_sources(field: str, value: list[Any], items: dict[str, Any]) -> Iterator[Source]:
    for i, item in enumerate(value):
        for name, inner in item.items():
            kind = media_kind(name, (items.get("properties") or {}).get(name) or {})
            if kind is None:
                continue
            urls = inner if isinstance(inner, list) else [inner]
            for j, url in enumerate(urls):
                index = j if isinstance(inner, list) else None
                yield Source(f"{field}[{i}].{name}", index, _decoded(str(url)), kind, "reference")


def _role(name: str, field: str, kind: MediaKind, op: Capability, index: int | None) -> str:
    if field not in PLAIN_IMAGE_FIELDS or op.kind is not Kind.VIDEO:
        return role_of(field, kind)
    if op is C.REFERENCE_TO_VIDEO:
        return "reference"
    if op not in _FRAMED:
        return "image"
    if not index:
        return "first_frame"
    return "last_frame" if index == 1 and (name, field) in hand.LAST_FRAME_ARRAYS else "reference"


def _decoded(value: str) -> str | DataUri:
    if value[:5].lower() != "data:":
        return value
    head, _, payload = value.partition(",")
    mime = head[5:].split(";", 1)[0].lower()
    return DataUri(mime=mime, data=base64.b64decode(payload))


def _ratio(values: dict[str, Any], operation: Capability) -> str:
    if operation.kind not in (Kind.VIDEO, Kind.IMAGE):
        return ""
    for field in ("aspect_ratio", "ratio", "image_size"):
        ratio = geo.normal_ratio(values.get(field))
        if ratio is not None:
            return ratio
    if operation in _ON_INPUT:
        return geo.AUTO
    return geo.DEFAULT_VIDEO_RATIO if operation.kind is Kind.VIDEO else geo.DEFAULT_IMAGE_RATIO


def _resolution(model: Model, values: dict[str, Any], operation: Capability) -> str:
    if operation.kind is Kind.IMAGE:
        for field in ("resolution", "image_resolution"):
            value = str(values.get(field, "")).upper()
            if value in geo.IMAGE_LONG_SIDES:
                return value
        return "" if operation in _KEEP_SIZE else geo.DEFAULT_IMAGE_RESOLUTION
    if operation.kind is not Kind.VIDEO:
        return ""
    for field in ("resolution", "mode", "size"):
        raw = values.get(field)
        found = geo.video_resolution(raw) or _MODES.get(str(raw).lower())
        if found:
            return found
    if operation in _KEEP_SIZE or model.name == "sora-watermark-remover":
        return ""
    return geo.DEFAULT_VIDEO_RESOLUTION


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _duration(values: dict[str, Any], operation: Capability) -> float:
    shots = values.get("multi_prompt")
    if values.get("multi_shots") is True and isinstance(shots, list) and shots:
        return float(sum(_number(s.get("duration")) or 0 for s in shots))
    fields = ("extend_times",) if operation is C.EXTEND else ()
    for field in (*fields, "duration", "n_frames", "duration_seconds"):
        seconds = _number(values.get(field))
        if seconds is not None:
            return seconds
    frames, fps = _number(values.get("num_frames")), _number(values.get("frames_per_second"))
    if frames and fps:
        return frames / fps
    return DEFAULT_SECONDS if operation in _TIMED else 0.0


def _scale(values: dict[str, Any]) -> int:
    factor = _number(values.get("upscale_factor"))
    return int(factor) if factor else 2


def _count(model: Model, values: dict[str, Any]) -> int:
    for field in ("n", "num_images", "max_images"):
        count = _number(values.get(field))
        if count:
            return max(1, int(count))
    return hand.IMAGE_COUNTS.get(model.name, 1)


def _sound(
    model: Model, values: dict[str, Any], op: Capability, sources: tuple[Source, ...]
) -> bool:
    for flag in ("sound", "generate_audio", "audio"):
        if isinstance(values.get(flag), bool):
            return bool(values[flag])
    if model.name.startswith(hand.SOUND_MODELS) or op is C.LIP_SYNC:
        return True
    return values.get("audio_setting") == "origin" or any(s.kind == "audio" for s in sources)


def _image_format(values: dict[str, Any], operation: Capability) -> str:
    value = str(values.get("output_format", "png")).lower()
    if operation is C.REMOVE_BACKGROUND:
        return "png"
    value = "jpeg" if value == "jpg" else value
    return value if value in ("png", "jpeg", "webp") else "png"


def _audio_format(values: dict[str, Any]) -> str:
    value = str(values.get("output_format", "mp3")).lower()
    return "wav" if value.startswith(("pcm", "wav", "ulaw", "alaw")) else "mp3"


def _prompt(values: dict[str, Any]) -> str:
    for field in ("prompt", "text", "character_prompt"):
        if isinstance(values.get(field), str) and values[field].strip():
            return str(values[field])
    for field, key in (("dialogue", "text"), ("shots", "Scene"), ("multi_prompt", "prompt")):
        if isinstance(values.get(field), list):
            return "\n".join(str(item.get(key, "")) for item in values[field])
    return ""


def _seed(value: Any) -> int | None:
    number = _number(value)
    if number is None or number < 0 or not number.is_integer():
        return None
    return int(number)
