"""Veo, 4o Image and Flux Kontext tests: polling in each family's words, decoding."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import av
import httpx
import numpy as np
from PIL import Image


@dataclass
class VideoInfo:
    width: int
    height: int
    seconds: float
    has_audio: bool


def video_info(data: bytes) -> VideoInfo:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate or 24)
        return VideoInfo(
            stream.codec_context.width,
            stream.codec_context.height,
            frames / rate,
            bool(container.streams.audio),
        )


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixels(image: Image.Image, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize(size), dtype=np.float32)


def fetch(client: httpx.Client, url: str) -> bytes:
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return response.content


def wait_record(
    client: httpx.Client,
    path: str,
    task_id: str,
    done: Any,
    timeout: float = 300,
) -> dict[str, Any]:
    """Poll `path` until `done(data)`; every answer must be code 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(path, params={"taskId": task_id}).json()
        assert body["code"] == 200, body
        data = dict(body["data"])
        if done(data):
            return data
        time.sleep(0.2)
    raise AssertionError(f"{task_id} did not finish in {timeout} s")


def wait_veo(client: httpx.Client, task_id: str, timeout: float = 300) -> dict[str, Any]:
    return wait_record(
        client, "/api/v1/veo/record-info", task_id, lambda d: d["successFlag"] != 0, timeout
    )


def wait_4o(client: httpx.Client, task_id: str, timeout: float = 300) -> dict[str, Any]:
    return wait_record(
        client,
        "/api/v1/gpt4o-image/record-info",
        task_id,
        lambda d: d["status"] != "GENERATING",
        timeout,
    )


def wait_flux(client: httpx.Client, task_id: str, timeout: float = 300) -> dict[str, Any]:
    return wait_record(
        client,
        "/api/v1/flux/kontext/record-info",
        task_id,
        lambda d: d["successFlag"] != 0,
        timeout,
    )
