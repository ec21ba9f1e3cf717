from __future__ import annotations

import pytest

from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.pricing import DEFAULT_PER_5S, price_of


def task(operation: str, **params: object) -> NewTask:
    return NewTask("t", "k", Dialect.RUNWAY, operation, "synthetic", dict(params), {})


@pytest.mark.parametrize(
    ("operation", "params", "price"),
    [
        ("text_to_video", {"duration": 5, "quality": "720p"}, 12),
        ("text_to_video", {"duration": 10, "quality": "720p"}, 24),
        ("image_to_video", {"duration": 5, "quality": "1080p"}, 20),
        ("extend", {"duration": 15, "quality": "720p"}, 12),  # only the new 5 s
        ("video_to_video", {}, 12),  # Aleph: 5 s
        ("video_to_video", {"duration": 10, "resolution": "720p"}, 24),  # market
        ("text_to_video", {"duration": 1, "resolution": "360p"}, 1),  # 4 * 1/5 rounded up
        ("text_to_video", {"duration": 3, "resolution": "480p"}, 4),  # 6 * 3/5 = 3.6
    ],
)
def test_price_by_operation_duration_and_quality(
    operation: str, params: dict[str, object], price: int
) -> None:
    assert price_of(task(operation, **params), DEFAULT_PER_5S) == price
