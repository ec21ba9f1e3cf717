"""Every `/v1` model's rules, generated from its table: each bad value is refused with an
issue naming its path, before any service is touched (the server test sends a sample)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reelserve.families.runway_official import models as m
from reelserve.families.runway_official import submit
from reelserve.families.runway_official.checks import Checker, utf16_length
from reelserve.families.runway_official.errors import BodyInvalid, issue

VERSION = "2024-11-06"
IMAGE = "https://example.com/a.png"


def issues_of(body: dict[str, Any], *, from_image: bool) -> list[tuple[list[Any], str]]:
    """The issues `body` gets; the service is None, so reaching it would raise otherwise."""
    with pytest.raises(BodyInvalid) as refused:
        asyncio.run(submit.video(None, None, body, VERSION, from_image=from_image))  # type: ignore[arg-type]
    return [(i["path"], i["code"]) for i in refused.value.issues]


def good_video_body(model: m.VideoModel, from_image: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model.name, "ratio": model.ratios[0]}
    body["duration"] = model.durations[0]
    body["promptText"] = "a prompt"
    if from_image:
        body["promptImage"] = IMAGE
    return body


VIDEO_MODELS = [(model, True) for model in m.IMAGE_TO_VIDEO.values()] + [
    (model, False) for model in m.TEXT_TO_VIDEO.values()
]
IDS = [f"{'i2v' if image else 't2v'}-{model.name}" for model, image in VIDEO_MODELS]


@pytest.mark.parametrize(("model", "from_image"), VIDEO_MODELS, ids=IDS)
def test_a_ratio_the_model_does_not_make_is_refused(model: m.VideoModel, from_image: bool) -> None:
    body = {**good_video_body(model, from_image), "ratio": "999:999"}
    assert issues_of(body, from_image=from_image) == [(["ratio"], "invalid_value")]


@pytest.mark.parametrize(("model", "from_image"), VIDEO_MODELS, ids=IDS)
def test_a_duration_the_model_does_not_make_is_refused(
    model: m.VideoModel, from_image: bool
) -> None:
    for duration in (max(model.durations) + 1, min(model.durations) - 1, "5", True):
        body = {**good_video_body(model, from_image), "duration": duration}
        assert issues_of(body, from_image=from_image) == [(["duration"], "invalid_value")]


@pytest.mark.parametrize(("model", "from_image"), VIDEO_MODELS, ids=IDS)
def test_required_fields_are_required(model: m.VideoModel, from_image: bool) -> None:
    body = good_video_body(model, from_image)
    expected: list[tuple[list[Any], str]] = []
    if from_image:
        del body["promptImage"]
        expected.append((["promptImage"], "invalid_type"))
    if model.default_ratio is None:
        del body["ratio"]
        expected.append((["ratio"], "invalid_value"))
    if model.default_duration is None:
        del body["duration"]
        expected.append((["duration"], "invalid_value"))
    if model.prompt_required:
        del body["promptText"]
        expected.append((["promptText"], "invalid_type"))
    assert issues_of(body, from_image=from_image) == expected


@pytest.mark.parametrize(("model", "from_image"), VIDEO_MODELS, ids=IDS)
def test_prompts_are_limited_in_utf16_code_units(model: m.VideoModel, from_image: bool) -> None:
    # 500 emoji are 1000 UTF-16 units (allowed); one more character is too many.
    body = {**good_video_body(model, from_image), "promptText": "😀" * 500 + "x"}
    assert issues_of(body, from_image=from_image) == [(["promptText"], "too_big")]


@pytest.mark.parametrize("model", list(m.IMAGE_TO_VIDEO.values()), ids=list(m.IMAGE_TO_VIDEO))
def test_prompt_image_positions_follow_the_model(model: m.VideoModel) -> None:
    body = good_video_body(model, True)
    both = [{"uri": IMAGE, "position": "first"}, {"uri": IMAGE, "position": "last"}]
    body["promptImage"] = both
    if "last" in model.positions:
        with pytest.raises(AttributeError):  # valid: it goes on to admit() on the None service
            asyncio.run(submit.video(None, None, body, VERSION, from_image=True))  # type: ignore[arg-type]
    else:
        assert issues_of(body, from_image=True) == [(["promptImage"], "too_big")]
    body["promptImage"] = [{"uri": IMAGE, "position": "middle"}]
    assert issues_of(body, from_image=True) == [(["promptImage", 0, "position"], "invalid_value")]
    body["promptImage"] = [{"uri": "ftp://example.com/a.png", "position": "first"}]
    assert issues_of(body, from_image=True) == [(["promptImage", 0, "uri"], "custom")]


def test_the_2024_09_13_version_reads_gen3a_turbo_ratios_as_that_version_sent_them() -> None:
    c = Checker({"ratio": "16:9"})
    assert submit._ratio(c, m.GEN3_RATIOS, "1280:768", "2024-09-13") == "1280:768"
    assert submit._ratio(Checker({"ratio": "16:9"}), m.GEN3_RATIOS, None, VERSION) is None


def test_issue_paths_turn_indexes_into_numbers() -> None:
    assert issue("promptImage.0.uri", "bad")["path"] == ["promptImage", 0, "uri"]
    assert utf16_length("😀a") == 3


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7"])
def test_seeds_outside_32_bits_or_not_integers_are_refused(seed: Any) -> None:
    model = m.IMAGE_TO_VIDEO["gen4_turbo"]
    body = {**good_video_body(model, True), "seed": seed}
    ((path, _code),) = issues_of(body, from_image=True)
    assert path == ["seed"]


def test_every_model_is_listed_once_for_the_organization() -> None:
    names = m.all_models()
    assert len(names) == len(set(names))
    assert {"gen4_turbo", "gen4.5", "gen4_aleph", "gen4_image", "upscale_v1"} <= set(names)
