"""`/v1` creates as tasks: each body checked against its model (`models.py`), then planned.

The plan (`params["spec"]`) and sources are what every family's tasks carry,
so the worker's generic producer runs them; the answer is Runway's
`{id, estimatedCost}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from reelserve.engines.base import Capability
from reelserve.families.common import plan
from reelserve.families.runway_official import models as m
from reelserve.families.runway_official.checks import Checker
from reelserve.families.runway_official.sources import Asset, stored_assets
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.pricing import price_of
from reelserve.tasks.service import TaskService, without_inputs

DIALECT = Dialect.RUNWAY_OFFICIAL


@dataclass(frozen=True)
class Created:
    id: str
    credits: int


async def _create(
    service: TaskService,
    key: ApiKey,
    body: dict[str, Any],
    model: str,
    spec: dict[str, Any],
    assets: list[Asset],
    **params: Any,
) -> Created:
    operation = Capability(spec["operation"])
    engine, *fallbacks = service.admit(operation, DIALECT, model)
    task_id = str(uuid.uuid4())
    inputs: dict[str, str] = {}
    sources = await stored_assets(service, key, task_id, assets, inputs)
    new = NewTask(
        id=task_id,
        api_key_id=key.id,
        dialect=DIALECT,
        operation=operation.value,
        engine=engine,
        params={
            "model": model,
            "model_id": model,
            "values": {},
            "spec": spec,
            "sources": sources,
            "inputs": inputs,
            "fallbacks": fallbacks,
            **params,
        },
        request=without_inputs(body, inputs),
    )
    credits = price_of(new, service.settings)
    return Created(await service.submit(new, key), credits)


def _size(ratio: str) -> tuple[int, int]:
    width, height = ratio.split(":")
    return int(width), int(height)


def _resolution(width: int, height: int) -> str:
    return "1080p" if min(width, height) >= 1080 else "720p"


def _prompt_images(c: Checker, model: m.VideoModel) -> list[Asset]:
    value = c.body.get("promptImage")
    if isinstance(value, str) or value is None:
        uri = c.uri("promptImage", value)
        return [Asset("promptImage", "image", "first_frame", uri)] if uri else []
    if not isinstance(value, list) or not value:
        c.fail("promptImage", "Invalid input: expected a URI or an array of {uri, position}")
        return []
    if len(value) > len(model.positions):
        c.fail(
            "promptImage",
            f"Too big: expected array to have <={len(model.positions)} items",
            "too_big",
        )
        return []
    assets: list[Asset] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"promptImage.{index}"
        if not isinstance(item, dict):
            c.fail(path, "Invalid input: expected object", "invalid_type")
            continue
        position = c.choice(f"{path}.position", model.positions, value=item.get("position"))
        uri = c.uri(f"{path}.uri", item.get("uri"))
        if position in seen:
            c.fail(f"{path}.position", f'"{position}" is given twice')
        if position is None or uri is None:
            continue
        seen.add(position)
        assets.append(Asset(path, "image", f"{position}_frame", uri))
    if seen == {"last"} and model.name != "gen3a_turbo":
        c.fail("promptImage", f"{model.name} needs a first frame when it is given a last frame")
    return assets


def _ratio(c: Checker, allowed: tuple[str, ...], default: str | None, version: str) -> str | None:
    value = c.body.get("ratio")
    if version == "2024-09-13" and value in m.GEN3_OLD_RATIOS and allowed == m.GEN3_RATIOS:
        value = m.GEN3_OLD_RATIOS[value]  # that version's clients sent "16:9" / "9:16"
    return c.choice("ratio", allowed, default=default, value=value)


async def video(
    service: TaskService,
    key: ApiKey,
    body: dict[str, Any],
    version: str,
    *,
    from_image: bool,
) -> Created:
    """POST /v1/image_to_video and /v1/text_to_video."""
    c = Checker(body)
    table = m.IMAGE_TO_VIDEO if from_image else m.TEXT_TO_VIDEO
    model = c.model(table)
    c.done()
    assert isinstance(model, m.VideoModel)
    assets = _prompt_images(c, model) if from_image else []
    ratio = _ratio(c, model.ratios, model.default_ratio, version)
    duration = c.choice("duration", model.durations, default=model.default_duration)
    prompt = c.text("promptText", required=model.prompt_required, max_len=m.PROMPT_MAX)
    seed = c.seed()
    sound = c.boolean("audio", True) if model.audio else False
    c.text("negativePrompt", required=False, max_len=m.PROMPT_MAX)
    c.done()
    assert ratio is not None and duration is not None
    width, height = _size(ratio)
    resolution = _resolution(width, height)
    operation = Capability.IMAGE_TO_VIDEO if from_image else Capability.TEXT_TO_VIDEO
    spec = plan(
        operation,
        prompt=prompt or "",
        resolution=resolution,
        width=width,
        height=height,
        duration_s=float(duration),
        sound=sound,
        seed=seed,
    )
    return await _create(
        service, key, body, model.name, spec, assets, duration=duration, resolution=resolution
    )


async def video_to_video(service: TaskService, key: ApiKey, body: dict[str, Any]) -> Created:
    """POST /v1/video_to_video: the output keeps the input video's size and length."""
    c = Checker(body)
    model = c.model(m.VIDEO_TO_VIDEO)
    c.done()
    assert isinstance(model, m.RestyleModel)
    source = c.uri("videoUri", body.get("videoUri"))
    prompt = c.text("promptText", required=model.prompt_required, max_len=m.PROMPT_MAX)
    assets = [Asset("videoUri", "video", "video", source)] if source else []
    for index, item in enumerate(c.objects("references", max_items=model.max_references)):
        c.choice(f"references.{index}.type", ("image",), value=item.get("type"))
        uri = c.uri(f"references.{index}.uri", item.get("uri"))
        if uri:
            assets.append(Asset(f"references.{index}", "image", "reference", uri))
    if model.ratios is not None and body.get("ratio") is not None:
        c.choice("ratio", model.ratios)  # accepted and ignored: the output follows the input
    seed = c.seed()
    c.done()
    spec = plan(Capability.VIDEO_TO_VIDEO, prompt=prompt or "", seed=seed)
    return await _create(service, key, body, model.name, spec, assets)


async def text_to_image(service: TaskService, key: ApiKey, body: dict[str, Any]) -> Created:
    """POST /v1/text_to_image; with `referenceImages`, an image-to-image task."""
    c = Checker(body)
    model = c.model(m.TEXT_TO_IMAGE)
    c.done()
    assert isinstance(model, m.ImageModel)
    prompt = c.text("promptText", required=True, max_len=m.PROMPT_MAX)
    ratio = c.choice("ratio", m.IMAGE_RATIOS)
    references = c.objects("referenceImages", max_items=model.max_references)
    if (
        model.references_required
        and not references
        and "referenceImages" not in {i["path"][0] for i in c.issues if i["path"]}
    ):
        c.fail("referenceImages", "Too small: expected array to have >=1 items", "too_small")
    assets: list[Asset] = []
    for index, item in enumerate(references):
        uri = c.uri(f"referenceImages.{index}.uri", item.get("uri"))
        tag = item.get("tag")
        if tag is not None and not (isinstance(tag, str) and 3 <= len(tag) <= 16):
            c.fail(f"referenceImages.{index}.tag", "must be a string of 3 to 16 characters")
        if uri:
            assets.append(Asset(f"referenceImages.{index}", "image", "reference", uri))
    seed = c.seed()
    c.done()
    assert prompt is not None and ratio is not None
    width, height = _size(ratio)
    operation = Capability.IMAGE_TO_IMAGE if assets else Capability.TEXT_TO_IMAGE
    spec = plan(operation, prompt=prompt, width=width, height=height, seed=seed)
    return await _create(service, key, body, model.name, spec, assets, count=1)


async def video_upscale(service: TaskService, key: ApiKey, body: dict[str, Any]) -> Created:
    """POST /v1/video_upscale: upscale_v1 doubles each side (at most 4096); magnific's
    `resolution` sets the short side."""
    c = Checker(body)
    model = c.model(m.VIDEO_UPSCALE)
    c.done()
    source = c.uri("videoUri", body.get("videoUri"))
    resolution = ""
    if model == "magnific_video_upscaler_creative":
        choice = c.choice("resolution", tuple(m.UPSCALE_RESOLUTIONS), default="2k")
        resolution = m.UPSCALE_RESOLUTIONS.get(choice or "", "")
        for name in ("creativity", "sharpen", "smartGrain"):
            c.number(name, 0, 100)
        c.choice("flavor", ("vivid", "natural"), default="vivid")
    c.done()
    assert source is not None
    spec = plan(Capability.UPSCALE_VIDEO, prompt="", resolution=resolution)
    if not resolution:
        spec["scale"] = 2
    asset = Asset("videoUri", "video", "video", source)
    return await _create(
        service, key, body, str(model), spec, [asset], resolution=resolution or "1080p"
    )


async def sound_effect(service: TaskService, key: ApiKey, body: dict[str, Any]) -> Created:
    """POST /v1/sound_effect (eleven_text_to_sound_v2)."""
    c = Checker(body)
    model = c.model(m.SOUND_EFFECT)
    c.done()
    prompt = c.text("promptText", required=True, max_len=3000)
    low, high = m.SOUND_SECONDS
    duration = c.number("duration", low, high) or m.SOUND_DEFAULT_S
    loop = c.boolean("loop", False)
    c.done()
    assert prompt is not None
    spec = plan(Capability.SOUND_EFFECT, prompt=prompt, duration_s=duration, extras={"loop": loop})
    return await _create(service, key, body, str(model), spec, [], duration=duration)


async def text_to_speech(service: TaskService, key: ApiKey, body: dict[str, Any]) -> Created:
    """POST /v1/text_to_speech (eleven_multilingual_v2 with a preset voice)."""
    c = Checker(body)
    model = c.model(m.TEXT_TO_SPEECH)
    c.done()
    prompt = c.text("promptText", required=True, max_len=m.PROMPT_MAX)
    voice = body.get("voice")
    preset = ""
    if not isinstance(voice, dict):
        c.fail("voice", "Invalid input: expected object", "invalid_type")
    else:
        c.choice("voice.type", ("runway-preset",), value=voice.get("type"))
        given = voice.get("presetId")
        preset = given.strip() if isinstance(given, str) else ""
        if not preset:
            c.fail("voice.presetId", "Invalid input: expected string", "invalid_type")
    c.done()
    assert prompt is not None
    spec = plan(Capability.TEXT_TO_SPEECH, prompt=prompt, extras={"voice": preset})
    return await _create(service, key, body, str(model), spec, [])
