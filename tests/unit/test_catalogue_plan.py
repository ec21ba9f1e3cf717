"""Planning: every model's example plans to the right operation and size; the Decisions hold."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from reelserve import catalogue
from reelserve.catalogue import extras, geometry
from reelserve.engines.base import Capability, Kind
from reelserve.tasks import catalogue as old_catalogue
from reelserve.tasks.rules import DataUri

C = Capability
SOURCE = (1200, 800)  # 3:2, unlike every default


def spec_of(name: str, **changes: Any) -> catalogue.TaskSpec:
    model = catalogue.resolve(name)
    data = {**model.example, **changes}
    return catalogue.plan(model, catalogue.validate(model, data))


def _expected_operation(model: catalogue.Model) -> Capability:
    for field, operation in extras.INPUT_OPERATIONS.get(model.name, ()):
        if model.example.get(field):
            return operation
    spec = spec_of(model.name)
    no_frames = not spec.sources and not spec.parent_task_id
    if model.operation is Capability.IMAGE_TO_VIDEO and no_frames:
        return Capability.TEXT_TO_VIDEO  # no frame input given: from the prompt alone
    return model.operation


def test_image_to_video_without_any_frame_input_runs_from_the_prompt() -> None:
    assert spec_of("wan/2-7-image-to-video").operation is Capability.TEXT_TO_VIDEO
    with_frame = spec_of("wan/2-7-image-to-video", first_frame_url="https://example.com/a.png")
    assert with_frame.operation is Capability.IMAGE_TO_VIDEO


@pytest.mark.parametrize("name", [m.name for m in catalogue.models()])
def test_every_models_example_validates_and_plans_to_its_operation_and_kind(name: str) -> None:
    model = catalogue.resolve(name)
    spec = spec_of(name)
    assert spec.operation is _expected_operation(model)
    assert spec.kind is spec.operation.kind
    assert spec.count >= 1 and spec.duration_s >= 0
    assert spec.image_format in ("png", "jpeg", "webp")
    assert spec.audio_format in ("mp3", "wav")


@pytest.mark.parametrize("name", [m.name for m in catalogue.models()])
def test_every_models_output_has_the_asked_ratio_within_2_percent(name: str) -> None:
    spec = spec_of(name)
    if spec.kind not in (Kind.VIDEO, Kind.IMAGE):
        assert catalogue.output_size(spec, SOURCE) == (0, 0)
        return
    width, height = catalogue.output_size(spec, SOURCE)
    if spec.scale:
        assert (width, height) == (SOURCE[0] * spec.scale, SOURCE[1] * spec.scale)
        return
    asked = SOURCE[0] / SOURCE[1] if spec.ratio == "auto" else geometry.ratio_value(spec.ratio)
    assert abs(width / height - asked) / asked < 0.02, (spec.ratio, width, height)
    if spec.kind is Kind.VIDEO:
        assert width % 2 == 0 and height % 2 == 0


@pytest.mark.parametrize(
    ("name", "changes", "size"),
    [
        ("bytedance/v1-pro-text-to-video", {"resolution": "480p"}, (852, 480)),
        ("bytedance/v1-pro-text-to-video", {"resolution": "1080p", "aspect_ratio": "21:9"},
         (2520, 1080)),
        ("bytedance/v1-lite-text-to-video", {"aspect_ratio": "9:21", "resolution": "720p"},
         (720, 1680)),
        ("kling-2.6/text-to-video", {"aspect_ratio": "1:1"}, (960, 960)),
        ("kling-3.0/video", {"mode": "std"}, (1280, 720)),
        ("kling-3.0/video", {"mode": "4K"}, (3840, 2160)),
        ("sora-2-text-to-video", {"aspect_ratio": "portrait"}, (720, 1280)),
        ("sora-2-pro-text-to-video", {"size": "high", "aspect_ratio": "portrait"}, (1080, 1920)),
        ("sora-2-pro-text-to-video", {"size": "standard"}, (1280, 720)),
        ("grok-imagine/text-to-video", {"aspect_ratio": "3:2", "resolution": "720p"},
         (1080, 720)),
        ("wan/2-7-text-to-video", {"ratio": "9:16", "resolution": "720p"}, (720, 1280)),
        ("hailuo/02-text-to-video-pro", {}, (1280, 720)),
        ("z-image", {"aspect_ratio": "16:9"}, (1024, 576)),
        ("nano-banana-pro", {"aspect_ratio": "9:16", "resolution": "2K"}, (1152, 2048)),
        ("wan/2-7-image", {"aspect_ratio": "16:9", "resolution": "4K", "input_urls": []},
         (4096, 2304)),
        ("bytedance/seedream-v4-text-to-image", {"image_size": "portrait_3_2"}, (683, 1024)),
        ("bytedance/seedream-v4-text-to-image",
         {"image_size": "landscape_21_9", "image_resolution": "2K"}, (2048, 878)),
        ("qwen/text-to-image", {"image_size": "square"}, (1024, 1024)),
        ("qwen/text-to-image", {"image_size": "portrait_16_9"}, (576, 1024)),
        ("google/nano-banana", {"image_size": "4:5"}, (819, 1024)),
        ("ideogram/v3-reframe", {"image_size": "landscape_16_9"}, (1024, 576)),
    ],
)  # fmt: skip
def test_sizes_follow_the_geometry_decisions(
    name: str, changes: dict[str, Any], size: tuple[int, int]
) -> None:
    spec = spec_of(name, **changes)
    assert (spec.width, spec.height) == size
    assert catalogue.output_size(spec, SOURCE) == size


def test_auto_ratios_take_the_sources_else_16_9_for_video_and_1_1_for_images() -> None:
    banana = spec_of("nano-banana-2", aspect_ratio="auto")
    assert banana.ratio == "auto" and (banana.width, banana.height) == (0, 0)
    assert catalogue.output_size(banana, None) == (1024, 1024)
    assert catalogue.output_size(banana, (600, 900)) == (683, 1024)
    seedance = spec_of("bytedance/seedance-2", aspect_ratio="adaptive")
    assert catalogue.output_size(seedance, None) == (1280, 720)
    assert catalogue.output_size(seedance, (900, 1600)) == (720, 1280)
    kling = spec_of("kling-2.6/image-to-video")
    assert kling.ratio == "auto"
    assert catalogue.output_size(kling, (1000, 1000)) == (720, 720)


def test_tools_keep_or_multiply_the_sources_size() -> None:
    assert catalogue.output_size(spec_of("recraft/remove-background"), SOURCE) == SOURCE
    assert spec_of("recraft/remove-background").image_format == "png"
    assert catalogue.output_size(spec_of("sora-watermark-remover"), SOURCE) == SOURCE
    topaz = spec_of("topaz/image-upscale", upscale_factor="4")
    assert topaz.scale == 4 and catalogue.output_size(topaz, (300, 200)) == (1200, 800)
    assert spec_of("topaz/video-upscale").scale == 2
    assert spec_of("recraft/crisp-upscale").scale == 2
    grok = spec_of("grok-imagine/upscale")
    assert grok.scale == 2 and grok.parent_task_id == "task_grok_12345678"
    assert spec_of("topaz/video-upscale").duration_s == 0


@pytest.mark.parametrize(
    ("name", "changes", "sound"),
    [
        ("kling-2.6/text-to-video", {"sound": False}, False),
        ("kling-2.6/text-to-video", {"sound": "true"}, True),
        ("bytedance/seedance-2", {"generate_audio": None}, True),  # defaults to true
        ("bytedance/seedance-2", {"generate_audio": False}, False),
        ("bytedance/seedance-1.5-pro", {}, False),
        ("wan/2-6-flash-image-to-video", {"audio": True}, True),
        ("sora-2-text-to-video", {}, True),
        ("gemini-omni-video", {}, True),
        ("kling/ai-avatar-pro", {}, True),
        ("wan/2-7-text-to-video", {"audio_url": "https://a.example/voice.mp3"}, True),
        ("wan/2-7-videoedit", {"audio_setting": "origin"}, True),
        ("bytedance/v1-pro-text-to-video", {}, False),
        ("z-image", {}, False),
    ],
)
def test_sound_follows_the_flag_else_the_model(
    name: str, changes: dict[str, Any], sound: bool
) -> None:
    assert spec_of(name, **changes).sound is sound


@pytest.mark.parametrize(
    ("name", "changes", "seconds"),
    [
        ("kling-2.6/text-to-video", {"duration": 10}, 10),
        ("sora-2-text-to-video", {"n_frames": "15"}, 15),
        ("sora-2-pro-storyboard", {}, 15),
        ("elevenlabs/sound-effect-v2", {}, 5),
        ("elevenlabs/sound-effect-v2", {"duration_seconds": "2.5"}, 2.5),
        ("grok-imagine/extend", {"extend_times": "10"}, 10),
        ("wan/2-2-a14b-speech-to-video-turbo", {"num_frames": 120, "frames_per_second": 24}, 5),
        ("hailuo/02-text-to-video-pro", {}, 5),
        ("wan/2-7-videoedit", {}, 0),
        ("elevenlabs/text-to-speech-turbo-2-5", {}, 0),
        ("kling-3.0/video", {"multi_shots": True,
                             "multi_prompt": [{"prompt": "a", "duration": 3},
                                              {"prompt": "b", "duration": 4}]}, 7),
    ],
)  # fmt: skip
def test_durations_come_from_the_models_own_fields(
    name: str, changes: dict[str, Any], seconds: float
) -> None:
    assert spec_of(name, **changes).duration_s == seconds


def test_counts_come_from_n_num_images_max_images_and_grok_makes_six() -> None:
    assert spec_of("grok-imagine/text-to-image").count == 6
    assert spec_of("grok-imagine/image-to-image").count == 1
    assert spec_of("bytedance/seedream-v4-text-to-image", max_images=3).count == 3
    assert spec_of("qwen/image-edit", num_images="2").count == 2
    assert spec_of("wan/2-7-image", n=2).count == 2
    assert spec_of("z-image").count == 1


def test_formats_are_normalized() -> None:
    assert spec_of("nano-banana-2").image_format == "jpeg"  # the docs' default jpg
    assert spec_of("google/nano-banana", output_format="jpeg").image_format == "jpeg"
    effect = "elevenlabs/sound-effect-v2"
    assert spec_of(effect, output_format="pcm_16000").audio_format == "wav"
    assert spec_of(effect, output_format="opus_48000_64").audio_format == "mp3"
    assert spec_of(effect).audio_format == "mp3"


def test_the_operation_follows_the_input_where_the_model_takes_both() -> None:
    image = "https://a.example/a.png"
    assert spec_of("kling-3.0/video").operation is C.TEXT_TO_VIDEO
    kling = spec_of("kling-3.0/video", image_urls=[image, "https://a.example/b.png"])
    assert kling.operation is C.IMAGE_TO_VIDEO
    assert [s.role for s in kling.sources] == ["first_frame", "last_frame"]
    assert spec_of("wan/2-7-image", input_urls=[]).operation is C.TEXT_TO_IMAGE
    assert spec_of("wan/2-7-image", input_urls=[image]).operation is C.IMAGE_TO_IMAGE
    assert spec_of("gpt-image-2", input_urls=[image]).operation is C.IMAGE_TO_IMAGE
    assert spec_of("nano-banana-2", image_input=[image]).operation is C.IMAGE_TO_IMAGE
    seedance = spec_of("bytedance/seedance-2", reference_image_urls=[], first_frame_url=image)
    assert seedance.operation is C.IMAGE_TO_VIDEO
    assert seedance.sources[0].role == "first_frame"


def test_grok_image_to_video_by_task_id_names_its_parent() -> None:
    model = catalogue.resolve("grok-imagine/image-to-video")
    values = catalogue.validate(model, {"task_id": "task_grok_1", "index": "3", "prompt": "go"})
    spec = catalogue.plan(model, values)
    assert (spec.operation, spec.parent_task_id, spec.parent_index) == (
        C.IMAGE_TO_VIDEO, "task_grok_1", 3,
    )  # fmt: skip
    assert spec.sources == ()
    assert spec_of("grok-imagine/image-to-video").parent_index is None


def test_sources_name_field_index_kind_and_role_and_decode_data_uris() -> None:
    png = base64.b64encode(b"\x89PNG....").decode()
    spec = spec_of("kling/ai-avatar-pro", image_url=f"data:image/png;base64,{png}")
    by_field = {s.field: s for s in spec.sources}
    assert by_field["image_url"].value == DataUri("image/png", b"\x89PNG....")
    assert (by_field["image_url"].index, by_field["image_url"].role) == (None, "image")
    assert (by_field["audio_url"].kind, by_field["audio_url"].role) == ("audio", "audio")
    assert catalogue.primary_source(spec) is by_field["image_url"]
    motion = spec_of("kling-2.6/motion-control")
    assert catalogue.primary_source(motion) is not None
    assert catalogue.primary_source(motion).kind == "video"  # type: ignore[union-attr]
    elements = [{"name": "cat", "element_input_urls": ["https://a.example/1.png"] * 2}]
    kling = spec_of("kling-3.0/video", kling_elements=elements)
    assert [(s.field, s.index) for s in kling.sources] == [
        ("kling_elements[0].element_input_urls", 0),
        ("kling_elements[0].element_input_urls", 1),
    ]
    assert "kling_elements" in kling.extras and "image_urls" not in kling.extras


def test_prompts_seeds_and_extras() -> None:
    dialogue = [
        {"text": "Hi", "voice": "EkK5I93UQWFDigLMpZcX"},
        {"text": "Hello", "voice": "EkK5I93UQWFDigLMpZcX"},
    ]
    assert spec_of("elevenlabs/text-to-dialogue-v3", dialogue=dialogue).prompt == "Hi\nHello"
    tts = spec_of("elevenlabs/text-to-speech-turbo-2-5", text="Read me", voice="Aria")
    assert tts.prompt == "Read me" and tts.extras["voice"] == "Aria"
    shots = [{"Scene": "A cat", "duration": 5}, {"Scene": "A dog", "duration": 5}]
    assert spec_of("sora-2-pro-storyboard", shots=shots).prompt == "A cat\nA dog"
    assert spec_of("bytedance/v1-pro-text-to-video").seed is None  # default -1 = random
    assert spec_of("bytedance/v1-pro-text-to-video", seed="42").seed == 42
    imagen = spec_of("google/imagen4", seed="my-seed")
    assert imagen.seed is None and imagen.extras["seed"] == "my-seed"
    assert spec_of("bytedance/seedance-2", return_last_frame="true").return_last_frame is True


def test_the_old_catalogue_uses_the_same_market_sizes() -> None:
    assert old_catalogue.market_size is catalogue.market_size
    assert catalogue.market_size("480p", "16:9") == (852, 480)
    assert catalogue.market_size("360p", "1:1") == (480, 480)
