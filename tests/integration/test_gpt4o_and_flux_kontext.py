"""4o Image and Flux Kontext through a real server (kie-families.md §4 and §5).

4o sizes give 1024×1024 / 1536×1024 / 1024×1536 PNGs, `nVariants: 4` four
URLs, and an edit differs from a plain generation of the same prompt and is
measurably closer to its input image; Flux Kontext writes PNG or JPEG as
asked at the asked ratio and an edit starts from `inputImage`. Both records
and callbacks are the spec's, field by field; bad input is a 422 naming the
field; unknown and foreign ids are not found.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.kie_families import fetch, image_of, pixels, video_info, wait_4o, wait_flux
from tests.receivers import Receiver
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server

FOUR_O = "/api/v1/gpt4o-image/generate"
FLUX = "/api/v1/flux/kontext/generate"


@dataclass
class Images:
    server: RunningServer
    receiver: Receiver
    static: StaticHttpServer
    client: httpx.Client
    source: str = ""

    def create(self, path: str, body: dict[str, Any]) -> str:
        answer = self.client.post(path, json=body).json()
        assert answer["code"] == 200, answer
        return str(answer["data"]["taskId"])


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    static = StaticHttpServer()
    with Receiver() as receiver, run_server(tmp_path_factory.mktemp("images")) as server:
        run = Images(server, receiver, static, server.client())
        run.source = static.add("/src/photo.png", png_bytes(768, 512), "image/png")
        yield run
    static.close()


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


@pytest.mark.parametrize(
    ("size", "want"), [("1:1", (1024, 1024)), ("3:2", (1536, 1024)), ("2:3", (1024, 1536))]
)
def test_4o_sizes_give_their_pixel_sizes_and_the_spec_record_and_callback(
    images: Images, size: str, want: tuple[int, int]
) -> None:
    path = f"/cb/4o-{size.replace(':', 'x')}"
    body = {"prompt": "a red bicycle", "size": size, "callBackUrl": images.receiver.url(path)}
    task_id = images.create(FOUR_O, body)
    assert task_id.startswith("task_4o_") and len(task_id) == len("task_4o_") + 32
    record = wait_4o(images.client, task_id)
    assert record["status"] == "SUCCESS" and record["successFlag"] == 1, record
    assert record["progress"] == "1.00"
    assert record["errorCode"] is None and record["errorMessage"] == ""
    assert isinstance(record["createTime"], int) and isinstance(record["completeTime"], int)
    assert json.loads(record["paramJson"])["size"] == size
    urls = record["response"]["resultUrls"]
    assert record["response"]["result_urls"] == urls and len(urls) == 1
    picture = image_of(fetch(images.client, urls[0]))
    assert picture.size == want and picture.format == "PNG"
    sent = images.receiver.wait_for(path, 1, timeout=60)[0].json()
    assert sent == {
        "code": 200,
        "msg": "success",
        "data": {"taskId": task_id, "info": {"result_urls": urls}},
    }


def test_4o_n_variants_4_gives_4_urls_and_download_url_answers_a_bare_url(
    images: Images,
) -> None:
    task_id = images.create(FOUR_O, {"prompt": "four cats", "size": "1:1", "nVariants": 4})
    record = wait_4o(images.client, task_id)
    urls = record["response"]["resultUrls"]
    assert len(urls) == 4 and len(set(urls)) == 4
    answer = images.client.post(
        "/api/v1/gpt4o-image/download-url", json={"taskId": task_id, "url": urls[2]}
    ).json()
    assert answer["code"] == 200 and isinstance(answer["data"], str), answer
    assert fetch(images.client, answer["data"]) == fetch(images.client, urls[2])


def test_a_4o_edit_differs_from_a_plain_generation_and_is_closer_to_its_input(
    images: Images,
) -> None:
    prompt = "make it look like winter"
    plain = images.create(FOUR_O, {"prompt": prompt, "size": "3:2"})
    edit = images.create(FOUR_O, {"prompt": prompt, "size": "3:2", "filesUrl": [images.source]})
    plain_image = pixels(
        image_of(fetch(images.client, wait_4o(images.client, plain)["response"]["resultUrls"][0]))
    )
    edit_record = wait_4o(images.client, edit)
    edit_image = pixels(image_of(fetch(images.client, edit_record["response"]["resultUrls"][0])))
    source = pixels(image_of(png_bytes(768, 512)))
    assert _distance(plain_image, edit_image) > 5
    assert _distance(edit_image, source) < _distance(plain_image, source)


def test_flux_kontext_writes_the_asked_format_at_the_asked_ratio(images: Images) -> None:
    for fmt, ratio, want_format in (("png", "21:9", "PNG"), (None, "9:16", "JPEG")):
        body: dict[str, Any] = {"prompt": "a harbour", "aspectRatio": ratio}
        if fmt:
            body["outputFormat"] = fmt
        path = f"/cb/flux-{want_format}"
        body["callBackUrl"] = images.receiver.url(path)
        task_id = images.create(FLUX, body)
        assert task_id.startswith("fluxkontext_") and len(task_id) == len("fluxkontext_") + 32
        record = wait_flux(images.client, task_id)
        assert record["successFlag"] == 1, record
        assert record["errorCode"] is None and record["errorMessage"] == ""
        for name in ("createTime", "completeTime"):
            time.strptime(record[name], "%Y-%m-%dT%H:%M:%SZ")
        url = record["response"]["resultImageUrl"]
        assert record["response"]["originImageUrl"] == url
        picture = image_of(fetch(images.client, url))
        assert picture.format == want_format
        w, h = (int(x) for x in ratio.split(":"))
        assert abs(picture.width / picture.height - w / h) < 0.01, picture.size
        assert max(picture.size) == 1024
        sent = images.receiver.wait_for(path, 1, timeout=60)[0].json()
        assert sent == {
            "code": 200,
            "msg": "BFL image generated successfully.",
            "data": {
                "taskId": task_id,
                "info": {
                    "originImageUrl": sent["data"]["info"]["resultImageUrl"],
                    "resultImageUrl": sent["data"]["info"]["resultImageUrl"],
                },
            },
        }


def test_a_flux_kontext_edit_starts_from_its_input_image_and_keeps_its_ratio(
    images: Images,
) -> None:
    prompt = "add a hat"
    plain = images.create(FLUX, {"prompt": prompt, "aspectRatio": "3:4"})
    edit = images.create(FLUX, {"prompt": prompt, "inputImage": images.source})
    plain_image = image_of(
        fetch(images.client, wait_flux(images.client, plain)["response"]["resultImageUrl"])
    )
    edit_image = image_of(
        fetch(images.client, wait_flux(images.client, edit)["response"]["resultImageUrl"])
    )
    assert edit_image.size == (1024, 683)  # the input's 3:2, 1024 on the long side
    source = pixels(image_of(png_bytes(768, 512)))
    assert _distance(pixels(edit_image), source) < _distance(pixels(plain_image), source)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (FOUR_O, {"prompt": "p", "size": "1:1", "nVariants": 3}, "nVariants"),
        (FOUR_O, {"prompt": "p", "size": "4:3"}, "size"),
        (FOUR_O, {"prompt": "p"}, "size"),
        (FOUR_O, {"size": "1:1"}, "prompt"),
        (FOUR_O, {"prompt": "p", "size": "1:1", "maskUrl": "http://127.0.0.1:9/m.png"}, "maskUrl"),
        (
            FOUR_O,
            {"prompt": "p", "size": "1:1", "filesUrl": ["http://127.0.0.1:9/a.png"] * 6},
            "filesUrl",
        ),
        (FLUX, {"prompt": "p", "aspectRatio": "2:1"}, "aspectRatio"),
        (FLUX, {"prompt": "p", "outputFormat": "webp"}, "outputFormat"),
        (FLUX, {"prompt": "p", "model": "flux-pro"}, "model"),
        (FLUX, {"prompt": "p", "safetyTolerance": 7}, "safetyTolerance"),
        (
            FLUX,
            {"prompt": "p", "inputImage": "http://127.0.0.1:9/a.png", "safetyTolerance": 3},
            "safetyTolerance",
        ),
        (FLUX, {"aspectRatio": "16:9"}, "prompt"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    images: Images, path: str, body: dict[str, Any], field: str
) -> None:
    answer = images.client.post(path, json=body).json()
    assert answer["code"] == 422, answer
    assert answer["msg"].startswith(field), answer


def test_unknown_and_foreign_ids_are_not_found(images: Images) -> None:
    mine = images.create(FOUR_O, {"prompt": "p", "size": "1:1"})
    flux = images.create(FLUX, {"prompt": "p"})
    bob = images.server.client("bob")
    checks = [
        (images.client, "/api/v1/gpt4o-image/record-info", "task_4o_" + "0" * 32),
        (images.client, "/api/v1/flux/kontext/record-info", "fluxkontext_" + "0" * 32),
        (images.client, "/api/v1/flux/kontext/record-info", mine),  # another family's id
        (bob, "/api/v1/gpt4o-image/record-info", mine),
        (bob, "/api/v1/flux/kontext/record-info", flux),
    ]
    for client, path, task_id in checks:
        answer = client.get(path, params={"taskId": task_id})
        assert answer.status_code == 200 and answer.json()["code"] == 404, answer.json()
    answer = bob.post("/api/v1/gpt4o-image/download-url", json={"taskId": mine, "url": "x"})
    assert answer.json()["code"] == 404


def test_the_sdk_drives_4o_flux_kontext_and_veo_sync_and_async(
    images: Images, tmp_path: Path
) -> None:
    from reelserve.client import AsyncClient, Client

    key = images.server.keys["alice"]
    with Client(api_key=key, base_url=images.server.base_url) as client:
        four_o = client.gpt4o_image.generate("a kite", size="2:3", n_variants=2).wait(timeout=120)
        assert len(four_o.result_urls) == 2 and four_o.succeeded
        flux = client.flux_kontext.generate("a kite", output_format="png").wait(timeout=120)
        assert image_of(fetch(images.client, flux.result_image_url)).format == "PNG"
        veo = client.veo.generate("a kite", duration=4, aspect_ratio="9:16")
        path = veo.download(tmp_path / "kite.mp4", timeout=300)
        assert video_info(path.read_bytes()).height == 1280

    async def run() -> None:
        async with AsyncClient(api_key=key, base_url=images.server.base_url) as client:
            task = await client.flux_kontext.generate("a boat", aspect_ratio="1:1")
            record = await task.wait(timeout=120)
            assert record.succeeded and record.result_image_url

    asyncio.run(run())
