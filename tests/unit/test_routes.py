"""Routes (`REELSERVE_ROUTES`): first match wins, globs over model names and operations."""

from __future__ import annotations

import pytest

from reelserve.engines.base import Capability
from reelserve.settings import Settings
from reelserve.tasks.routes import Route, engine_names, parse_routes, pick

TABLE = parse_routes(
    "kling-*=upstream:kie,synthetic; text_to_image=z-image ;nano-banana-*=upstream:kie;*=synthetic"
)


def test_routes_parse_in_order_with_their_fallbacks() -> None:
    assert (
        Route("kling-*", ("upstream:kie", "synthetic")),
        Route("text_to_image", ("z-image",)),
        Route("nano-banana-*", ("upstream:kie",)),
        Route("*", ("synthetic",)),
    ) == TABLE
    assert engine_names(TABLE) == {"upstream:kie", "synthetic", "z-image"}


@pytest.mark.parametrize(
    ("model", "operation", "engines"),
    [
        ("kling-3.0/video", "text_to_video", ("upstream:kie", "synthetic")),
        # The operation entry comes before the model glob, so it wins for images.
        ("nano-banana-pro", "text_to_image", ("z-image",)),
        ("nano-banana-pro", "image_to_image", ("upstream:kie",)),
        ("bytedance/seedance-2", "text_to_video", ("synthetic",)),
        (None, "extend", ("synthetic",)),
    ],
)
def test_the_first_matching_route_picks_the_engines(
    model: str | None, operation: str, engines: tuple[str, ...]
) -> None:
    assert pick(TABLE, model, operation) == engines


def test_extend_video_names_the_extend_operation() -> None:
    assert pick(parse_routes("extend_video=ltx-video"), None, "extend") == ("ltx-video",)
    assert pick(parse_routes("extend_video=ltx-video"), None, "text_to_video") == ()


@pytest.mark.parametrize("bad", ["kling-*", "=synthetic", "kling-*=", "a=b;c"])
def test_a_malformed_route_is_an_error_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="pattern=engine"):
        parse_routes(bad)


def test_routes_come_before_the_engines_shorthand_and_neither_means_synthetic() -> None:
    assert Settings().engine_for(Capability.TEXT_TO_IMAGE, "z-image") == "synthetic"
    s = Settings(routes="z-image=fast-images", engines="text_to_video=ltx-video")
    assert s.engine_for(Capability.TEXT_TO_IMAGE, "z-image") == "fast-images"
    assert s.engine_for(Capability.TEXT_TO_VIDEO, "kling-3.0/video") == "ltx-video"
    # No `*` entry: an operation no route names is not served (505 at submit).
    assert s.engine_for(Capability.TEXT_TO_SPEECH, "elevenlabs/text-to-speech-turbo-2-5") is None
    assert s.routed_engines() == {"fast-images", "ltx-video"}


def test_routes_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSERVE_ROUTES", "sora-2-*=upstream:kie,synthetic;*=synthetic")
    s = Settings()
    assert s.engines_for(Capability.TEXT_TO_VIDEO, "sora-2-text-to-video") == (
        "upstream:kie",
        "synthetic",
    )
