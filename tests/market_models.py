"""Running catalogue models end to end: real sources on a loopback server, decoded results.

`MarketRun` submits each model's documented example input (its source URLs
replaced by real files of the right kind on a loopback HTTP server, its
`task_id` by a real earlier task), then `check` waits for the task and decodes
every result URL: images by size, count and format, videos by codec, size,
length and whether they have an audio track, audio by length, text by shape;
and the callback by the spec's body.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from PIL import Image

from reelserve import catalogue
from reelserve.engines.base import Capability, Kind
from reelserve.media.encode import Mp4Writer
from tests.receivers import Receiver
from tests.support import RunningServer, StaticHttpServer, png_bytes

IMAGE_SIZE = (640, 480)
VIDEO_SIZE = (320, 240)
VIDEO_SECONDS = 2
AUDIO_SECONDS = 3.0
STATES = {"waiting", "queuing", "generating", "success", "fail"}


def video_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        with Mp4Writer(path, *VIDEO_SIZE, 24, preset="ultrafast") as writer:
            for i in range(24 * VIDEO_SECONDS):
                frame = np.zeros((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), np.uint8)
                frame[:, : (i * 13) % VIDEO_SIZE[0]] = (200, 80, 40)
                writer.write(frame)
        return path.read_bytes()


def wav_bytes(seconds: float = AUDIO_SECONDS, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    # A voiced-sounding signal with pauses, so a transcript has segments.
    signal = np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.7 * t) > -0.3)
    pcm = (signal * 0.5 * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def serve_sources(static: StaticHttpServer) -> dict[str, str]:
    """URLs of one real file per source kind (and a mask) on the loopback server."""
    return {
        "image": static.add("/m/image.png", png_bytes(*IMAGE_SIZE), "image/png"),
        "mask": static.add("/m/mask.png", png_bytes(*IMAGE_SIZE, (255, 255, 255)), "image/png"),
        "video": static.add("/m/video.mp4", video_bytes(), "video/mp4"),
        "audio": static.add("/m/audio.wav", wav_bytes(), "audio/wav"),
    }


def _put(values: dict[str, Any], source: catalogue.Source, url: str) -> None:
    names = [source.field, source.field + " "]
    name = next((n for n in names if n in values), source.field)
    if source.index is None:
        values[name] = url
    else:
        items = list(values.get(name) or [])
        while len(items) <= source.index:
            items.append(url)
        items[source.index] = url
        values[name] = items


def example_with_sources(model: catalogue.Model, urls: dict[str, str]) -> dict[str, Any]:
    """The model's documented example with every source pointing at a real file."""
    example = json.loads(json.dumps(model.example))
    values = catalogue.validate(model, example, source_max_bytes=10 * 2**20)
    spec = catalogue.plan(model, values)
    for source in spec.sources:
        url = urls["mask"] if source.role == "mask" else urls[source.kind]
        _put(example, source, url)
    return example


@dataclass
class Submitted:
    model: catalogue.Model
    sent: str
    task_id: str
    example: dict[str, Any]
    spec: catalogue.TaskSpec
    source_size: tuple[int, int] | None


@dataclass
class MarketRun:
    server: RunningServer
    receiver: Receiver
    urls: dict[str, str]
    client: httpx.Client = field(init=False)
    parents: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = self.server.client()

    def create(self, model: str, input: dict[str, Any], path: str = "") -> str:
        body: dict[str, Any] = {"model": model, "input": input}
        if path:
            body["callBackUrl"] = self.receiver.url(path)
        answer = self.client.post("/api/v1/jobs/createTask", json=body).json()
        assert answer["code"] == 200, (model, answer)
        task_id = str(answer["data"]["taskId"])
        assert task_id.startswith("task_"), task_id
        return task_id

    def parent_for(self, spec: catalogue.TaskSpec) -> str:
        """A finished task to stand for `input.task_id`: a video, or images for image-to-video."""
        wants_image = spec.operation is Capability.IMAGE_TO_VIDEO
        model = "grok-imagine/text-to-image" if wants_image else "grok-imagine/text-to-video"
        if model not in self.parents:
            prompt = {"prompt": "a parent for a task_id input", "aspect_ratio": "16:9"}
            task_id = self.create(model, prompt)
            record = self.wait(task_id)
            assert record["state"] == "success", record
            self.parents[model] = task_id
        return self.parents[model]

    def submit(self, model: catalogue.Model, sent: str | None = None) -> Submitted:
        example = example_with_sources(model, self.urls)
        values = catalogue.validate(model, example, source_max_bytes=10 * 2**20)
        spec = catalogue.plan(model, values)
        if spec.parent_task_id is not None:
            field = next(k for k, v in example.items() if v == spec.parent_task_id)
            example[field] = self.parent_for(spec)
            values = catalogue.validate(model, example, source_max_bytes=10 * 2**20)
            spec = catalogue.plan(model, values)
        primary = catalogue.primary_source(spec)
        source_size: tuple[int, int] | None = None
        if spec.parent_task_id is None and primary is not None:
            source_size = VIDEO_SIZE if primary.kind == "video" else IMAGE_SIZE
        name = sent or model.name
        task_id = self.create(name, example, "/cb/" + task_path(name))
        return Submitted(model, name, task_id, example, spec, source_size)

    def wait(self, task_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.client.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()
            assert body["code"] == 200, body
            data = dict(body["data"])
            assert data["state"] in STATES, data
            if data["state"] in ("success", "fail"):
                return data
            time.sleep(0.2)
        raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def task_path(name: str) -> str:
    return name.replace("/", "_").replace(".", "_")


def expected_size(job: Submitted) -> tuple[int, int] | None:
    spec = job.spec
    if spec.parent_task_id is not None:
        return None  # the parent task's own size
    width, height = catalogue.output_size(spec, job.source_size)
    if spec.kind is Kind.VIDEO:
        width, height = width // 2 * 2, height // 2 * 2
        scale = min(1.0, 4096 / max(width, height))
        width, height = int(width * scale) // 2 * 2, int(height * scale) // 2 * 2
    return width, height


def download(client: httpx.Client, url: str) -> bytes:
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return response.content


def check_images(job: Submitted, urls: list[str], client: httpx.Client) -> None:
    spec = job.spec
    assert len(urls) == spec.count, (job.sent, len(urls), spec.count)
    want = expected_size(job)
    formats = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
    for url in urls:
        image = Image.open(io.BytesIO(download(client, url)))
        assert image.format == formats[spec.image_format], (job.sent, image.format)
        if want is not None:
            assert image.size == want, (job.sent, image.size, want)
        if spec.ratio not in ("auto", "") and not spec.scale and job.source_size is None:
            w, h = (int(x) for x in spec.ratio.split(":"))
            assert math.isclose(image.size[0] / image.size[1], w / h, rel_tol=0.02), job.sent
        if spec.operation is Capability.REMOVE_BACKGROUND:
            assert image.mode == "RGBA", image.mode


def check_video(job: Submitted, data: bytes) -> None:
    spec = job.spec
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(data)
        f.flush()
        with av.open(f.name) as container:
            video = container.streams.video[0]
            assert video.codec_context.name == "h264", job.sent
            assert video.codec_context.pix_fmt == "yuv420p", job.sent
            audio = list(container.streams.audio)
            assert bool(audio) == spec.sound, (job.sent, "audio track", bool(audio), spec.sound)
            if audio:
                assert audio[0].codec_context.name == "aac", job.sent
            frames = sum(1 for _ in container.decode(video=0))
            size = (video.codec_context.width, video.codec_context.height)
    want = expected_size(job)
    if want is not None:
        assert size == want, (job.sent, size, want)
    if spec.ratio not in ("auto", "") and not spec.scale and job.source_size is None and want:
        w, h = (int(x) for x in spec.ratio.split(":"))
        assert math.isclose(size[0] / size[1], w / h, rel_tol=0.02), (job.sent, size, spec.ratio)
    seconds = spec.duration_s
    if spec.operation is Capability.VIDEO_TO_VIDEO and job.source_size == VIDEO_SIZE:
        seconds = min(seconds or VIDEO_SECONDS, VIDEO_SECONDS)  # never longer than the source
    if seconds and spec.operation is not Capability.EXTEND:
        assert abs(frames / 24 - seconds) <= 1 / 24 + 1e-6, (job.sent, frames, seconds)
    assert data.find(b"moov") < data.find(b"mdat"), "faststart"


def check_audio(job: Submitted, data: bytes) -> None:
    spec = job.spec
    with tempfile.NamedTemporaryFile(suffix="." + spec.audio_format) as f:
        f.write(data)
        f.flush()
        with av.open(f.name) as container:
            stream = container.streams.audio[0]
            samples = sum(frame.samples for frame in container.decode(audio=0))
            seconds = samples / stream.rate
    assert seconds > 0.2, (job.sent, seconds)
    if spec.duration_s and spec.operation is not Capability.TEXT_TO_SPEECH:
        assert abs(seconds - spec.duration_s) < 0.1, (job.sent, seconds, spec.duration_s)
    if spec.operation is Capability.AUDIO_ISOLATION:
        assert abs(seconds - AUDIO_SECONDS) < 0.1, (job.sent, seconds)


def check(run: MarketRun, job: Submitted) -> dict[str, Any]:
    """The task succeeded and every result is what the model's spec asked for."""
    record = run.wait(job.task_id)
    assert record["state"] == "success", (job.sent, record["failMsg"])
    assert record["model"] == job.sent
    assert isinstance(record["resultJson"], str)
    result = json.loads(record["resultJson"])
    assert ("progress" in record) == job.sent.startswith("sora-2"), job.sent
    spec = job.spec
    if spec.kind is Kind.TEXT:
        if spec.operation is Capability.CREATE_CHARACTER:
            assert set(result) == {"character_id"} and result["character_id"], result
        else:
            assert set(result) == {"resultObject"}, result
            assert "synthetic" in result["resultObject"]["text"].lower(), result
    else:
        urls = result["resultUrls"]
        assert urls and all(isinstance(u, str) for u in urls), result
        if spec.kind is Kind.IMAGE:
            check_images(job, urls, run.client)
        elif spec.kind is Kind.VIDEO:
            assert len(urls) == 1, urls
            check_video(job, download(run.client, urls[0]))
            if spec.return_last_frame:
                assert len(result["firstFrameUrl"]) == len(result["lastFrameUrl"]) == 1
                Image.open(io.BytesIO(download(run.client, result["lastFrameUrl"][0])))
            else:
                assert "lastFrameUrl" not in result
        else:
            assert len(urls) == 1, urls
            check_audio(job, download(run.client, urls[0]))
    callback = run.receiver.wait_for("/cb/" + task_path(job.sent), 1, timeout=30)[0].json()
    assert callback["code"] == 200 and callback["msg"] == "success", callback
    data = callback["data"]
    assert data["taskId"] == job.task_id and data["state"] == "success", data
    assert data["model"] == job.sent
    assert set(json.loads(data["resultJson"])) == set(result)
    assert "creditsConsumed" in data and "progress" not in data
    return record
