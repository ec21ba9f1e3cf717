"""The `synthetic/*` models validate exactly as `tasks/catalogue.py` does (kie-api.md §2).

The cases are those of tests/integration/test_aleph_market_validation.py; each
is checked against both the old pydantic path and the new catalogue, so the
two agree on every accept and every 422 field.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.support import png_bytes

from reelserve import catalogue
from reelserve.errors import ValidationFailed
from reelserve.tasks import catalogue as old
from reelserve.tasks.rules import DataUri

DROP = object()
VIDEO_URL = "https://videos.example.com/source.mp4"
PNG_URI = "data:image/png;base64," + base64.b64encode(png_bytes(32, 24)).decode()
MP4_URI = "data:video/mp4;base64," + base64.b64encode(b"\x00\x00\x00\x18ftypmp42").decode()
SYNTHETIC = ("synthetic/text-to-video", "synthetic/image-to-video", "synthetic/video-to-video")
MAX = 10 * 1024 * 1024


def market_input(model: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": "A fox in the snow"}
    if model.endswith("image-to-video"):
        body["image_url"] = "https://images.example.com/a.png"
    if model.endswith("video-to-video"):
        body["video_url"] = VIDEO_URL
    for name, value in changes.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def _old(model: str, data: dict[str, Any]) -> old.MarketRequest:
    return old.parse_market_input(
        old.model_named(model), data, callback_url=None, submitted={}, source_max_bytes=MAX
    )


MARKET_BAD = [
    ("input.prompt", {"prompt": DROP}),
    ("input.prompt", {"prompt": ""}),
    ("input.prompt", {"prompt": " "}),
    ("input.prompt", {"prompt": "x" * 5001}),
    ("input.prompt", {"prompt": ["x"]}),
    ("input.duration", {"duration": 0}),
    ("input.duration", {"duration": 11}),
    ("input.duration", {"duration": "eleven"}),
    ("input.duration", {"duration": 2.5}),
    ("input.duration", {"duration": "11"}),
    ("input.duration", {"duration": True}),
    ("input.resolution", {"resolution": "4k"}),
    ("input.resolution", {"resolution": 720}),
    ("input.aspect_ratio", {"aspect_ratio": "21:9"}),
    ("input.seed", {"seed": -5}),
    ("input.seed", {"seed": "seed"}),
    ("input.seed", {"seed": 2**32}),
]


@pytest.mark.parametrize("model", SYNTHETIC)
@pytest.mark.parametrize(("field", "changes"), MARKET_BAD)
def test_each_bad_synthetic_input_is_422_naming_the_same_field_as_before(
    model: str, field: str, changes: dict[str, Any]
) -> None:
    data = market_input(model, **changes)
    with pytest.raises(ValidationFailed) as before:
        _old(model, data)
    with pytest.raises(ValidationFailed) as now:
        catalogue.validate(catalogue.resolve(model), data)
    assert before.value.field == now.value.field == field
    assert now.value.message.startswith(field + ":")


@pytest.mark.parametrize(
    ("model", "field", "changes"),
    [
        ("synthetic/image-to-video", "input.image_url", {"image_url": DROP}),
        ("synthetic/image-to-video", "input.image_url", {"image_url": ""}),
        ("synthetic/image-to-video", "input.image_url", {"image_url": "file:///etc/passwd"}),
        ("synthetic/image-to-video", "input.image_url", {"image_url": MP4_URI}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": DROP}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": ""}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": "nope"}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": PNG_URI}),
    ],
)  # fmt: skip
def test_a_missing_or_bad_source_is_422_naming_input_dot_field(
    model: str, field: str, changes: dict[str, Any]
) -> None:
    data = market_input(model, **changes)
    with pytest.raises(ValidationFailed) as before:
        _old(model, data)
    with pytest.raises(ValidationFailed) as now:
        catalogue.validate(catalogue.resolve(model), data)
    assert before.value.field == now.value.field == field


@pytest.mark.parametrize("model", SYNTHETIC)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"duration": "10", "resolution": "360p", "aspect_ratio": "9:16", "seed": "3"},
        {"duration": 1, "resolution": "1080p", "aspect_ratio": "1:1", "seed": None, "x": 1},
        {"duration": "", "resolution": "", "aspect_ratio": ""},
        {"duration": 5.0, "seed": 2**32 - 1},
    ],
)
def test_valid_synthetic_inputs_plan_to_what_the_old_catalogue_made(
    model: str, changes: dict[str, Any]
) -> None:
    data = market_input(model, **changes)
    before = _old(model, data)
    served = catalogue.resolve(model)
    spec = catalogue.plan(served, catalogue.validate(served, data))
    assert spec.operation is served.operation is before.model.operation
    assert (spec.width, spec.height) == (before.width, before.height)
    assert catalogue.output_size(spec, (333, 777)) == (before.width, before.height)
    assert spec.duration_s == before.duration
    assert spec.resolution == before.resolution
    assert spec.seed == before.seed
    assert spec.prompt == before.prompt
    assert not spec.sound


def test_a_synthetic_data_uri_source_is_decoded_like_before() -> None:
    model = "synthetic/image-to-video"
    data = market_input(model, image_url=PNG_URI)
    before = _old(model, data)
    served = catalogue.resolve(model)
    spec = catalogue.plan(served, catalogue.validate(served, data))
    assert isinstance(before.image, DataUri)
    assert spec.sources[0].value == before.image
    assert (spec.sources[0].field, spec.sources[0].role) == ("image_url", "first_frame")
