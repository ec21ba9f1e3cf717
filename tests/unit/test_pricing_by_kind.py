"""Market prices by output kind, and the per-model price table (`REELSERVE_MODEL_CREDITS`)."""

from __future__ import annotations

import pytest

from reelserve.settings import Settings
from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.pricing import price_of


def market(operation: str, model: str = "m", **params: object) -> NewTask:
    values = {"model_id": model, "spec": {}, **params}
    return NewTask("t", "k", Dialect.MARKET, operation, "synthetic", values, {})


@pytest.mark.parametrize(
    ("operation", "params", "price"),
    [
        ("text_to_image", {"count": 1}, 4),
        ("text_to_image", {"count": 4}, 16),
        ("image_to_image", {}, 4),
        ("text_to_speech", {"duration": 0}, 6),  # length follows the text: a minute
        ("sound_effect", {"duration": 10}, 3),  # a started half minute
        ("sound_effect", {"duration": 40}, 6),
        ("speech_to_text", {}, 2),
        ("text_to_video", {"duration": 10, "resolution": "1080p"}, 40),
        ("text_to_video", {"duration": 5, "resolution": "4k"}, 40),
        ("text_to_video", {"duration": 8, "resolution": "720P"}, 20),  # 12 * 8/5
    ],
)
def test_market_tasks_are_priced_by_kind(
    operation: str, params: dict[str, object], price: int
) -> None:
    assert price_of(market(operation, **params), Settings()) == price


def test_a_model_price_overrides_the_kind_and_the_first_match_wins() -> None:
    s = Settings(model_credits="nano-banana-*=18;*=1")
    assert price_of(market("text_to_image", "nano-banana-pro", count=4), s) == 18
    assert price_of(market("text_to_video", "kling-3.0/video", duration=10), s) == 1


def test_a_malformed_model_price_is_refused() -> None:
    with pytest.raises(ValueError, match="pattern=credits"):
        Settings(model_credits="nano-banana-pro")
