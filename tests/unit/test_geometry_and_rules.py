from __future__ import annotations

import base64

import pytest

from reelserve.errors import ValidationFailed
from reelserve.tasks import geometry
from reelserve.tasks.rules import DataUri, check_text, parse_image_source
from reelserve.worker.jobs import derive_seed


@pytest.mark.parametrize(
    ("size", "ratio"),
    [
        ((1920, 1080), "16:9"),
        ((1080, 1920), "9:16"),
        ((800, 600), "4:3"),
        ((600, 800), "3:4"),
        ((500, 500), "1:1"),
        ((3000, 1000), "16:9"),
        ((1000, 3000), "9:16"),
        ((1100, 1000), "1:1"),
    ],
)
def test_nearest_ratio(size: tuple[int, int], ratio: str) -> None:
    assert geometry.nearest_ratio(*size) == ratio


def test_every_ratio_and_quality_has_a_size_of_even_numbers() -> None:
    for r in geometry.ASPECT_RATIOS:
        for q in geometry.QUALITIES:
            w, h = geometry.output_size(r, q)
            assert w % 2 == 0 and h % 2 == 0
            assert abs(w / h - geometry.ratio_value(r)) < 0.01


def test_text_rules_name_the_field() -> None:
    with pytest.raises(ValidationFailed, match=r"^prompt: .*1\.\.10"):
        check_text("prompt", "x" * 11, 10)
    with pytest.raises(ValidationFailed, match=r"^prompt: is required"):
        check_text("prompt", "   ", 10)


def test_data_uris_are_decoded_and_checked() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG....").decode()
    assert parse_image_source("imageUrl", uri, 100) == DataUri("image/png", b"\x89PNG....")
    with pytest.raises(ValidationFailed, match="at most 4 bytes"):
        parse_image_source("imageUrl", uri, 4)
    with pytest.raises(ValidationFailed, match="base64"):
        parse_image_source("imageUrl", "data:image/png;base64,@@@", 100)
    with pytest.raises(ValidationFailed, match="image/jpeg"):
        parse_image_source("imageUrl", "data:text/plain;base64,aGk=", 100)


def test_seed_depends_only_on_what_was_asked() -> None:
    assert derive_seed(a=1, b="x") == derive_seed(b="x", a=1)
    assert derive_seed(a=1) != derive_seed(a=2)
    assert 0 <= derive_seed(a=1) < 2**31
