"""The server's overhead around each image, music, upscale, matting and lyrics engine (issue 16).

    .venv/bin/python -m bench.image_music_engines [--tasks 5]

One real server (tests/support.run_server_with: SQLite, local blobs,
in-process worker) routes each operation to its open-model engine, each on a
tiny random-weight checkpoint of the real classes (tests/tiny_*.py), each in
its child process. Once every engine has loaded (/readyz), per engine after
one warm-up task, `--tasks` tasks are submitted one after another through the
family's own endpoint and polled every 5 ms until they end. Per task: wall time
(submit → success seen) and the pipeline calls' own time measured in the
child (the baseline; a Suno task makes two tracks, so two calls); overhead =
wall − pipeline: HTTP, queue, claim, child round trips, decoding inputs,
fitting, encoding (PNG, MP3, MP4), blob store and the task's writes. Medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

Submit = Callable[[httpx.Client, int], tuple[str, str, str]]
"""(client, i) -> (task id, record path, the record's field that says it ended)."""

MARKET_RECORD = "/api/v1/jobs/recordInfo"
SUNO_RECORD = "/api/v1/generate/record-info"
STEMS_RECORD = "/api/v1/vocal-removal/record-info"
LYRIC = "[Verse]\nNeon rivers running through the night"
ROUTES = (
    "flux-kontext-*=flux-kontext;qwen*=qwen-image;text_to_image=z-image;upscale_image=swin2sr;"
    "remove_background=rembg;text_to_music=ace-step;separate_stems=demucs;"
    "write_lyrics=lyrics-lm;*=synthetic"
)


@dataclass(frozen=True)
class Case:
    engine: str
    what: str
    submit: Submit


def _created(answer: httpx.Response) -> str:
    body = answer.json()
    assert body["code"] == 200, body
    return str(body["data"]["taskId"])


def _market(model: str, make: Callable[[int], dict[str, Any]]) -> Submit:
    def submit(client: httpx.Client, i: int) -> tuple[str, str, str]:
        body = {"model": model, "input": make(i)}
        return _created(client.post("/api/v1/jobs/createTask", json=body)), MARKET_RECORD, "state"

    return submit


def _kontext(image: str) -> Submit:
    def submit(client: httpx.Client, i: int) -> tuple[str, str, str]:
        body = {"prompt": f"add a hat {i}", "inputImage": image, "model": "flux-kontext-pro"}
        answer = client.post("/api/v1/flux/kontext/generate", json=body)
        return _created(answer), "/api/v1/flux/kontext/record-info", "successFlag"

    return submit


def _song(client: httpx.Client, i: int) -> tuple[str, str, str]:
    body = {"prompt": LYRIC, "style": f"synth pop {i}", "title": "Neon", "customMode": True,
            "instrumental": False, "model": "V4_5",
            "callBackUrl": "https://example.com/cb"}  # fmt: skip
    return _created(client.post("/api/v1/generate", json=body)), SUNO_RECORD, "status"


def _lyrics(client: httpx.Client, i: int) -> tuple[str, str, str]:
    body = {"prompt": f"a lighthouse keeper {i}", "callBackUrl": "https://example.com/cb"}
    answer = client.post("/api/v1/lyrics", json=body)
    return _created(answer), "/api/v1/lyrics/record-info", "status"


def _stems(source: tuple[str, str]) -> Submit:
    def submit(client: httpx.Client, i: int) -> tuple[str, str, str]:
        body = {"taskId": source[0], "audioId": source[1], "type": "separate_vocal",
                "callBackUrl": f"https://example.com/cb/{i}"}  # fmt: skip
        return (
            _created(client.post("/api/v1/vocal-removal/generate", json=body)),
            STEMS_RECORD,
            ("successFlag"),
        )

    return submit


DONE = {"success", "fail", "SUCCESS", "CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED",
        "GENERATE_WAV_FAILED", "GENERATE_LYRICS_FAILED", 1, 2, 3, "1", "2", "3"}  # fmt: skip
OK = {"success", "SUCCESS", 1, "1"}


def run_task(client: httpx.Client, submit: Submit, i: int) -> float:
    started = time.perf_counter()
    task_id, path, field = submit(client, i)
    while True:
        data = client.get(path, params={"taskId": task_id}).json()["data"]
        if data.get(field) in DONE:
            break
        time.sleep(0.005)
    wall = time.perf_counter() - started
    assert data.get(field) in OK, data
    return wall


def cases(client: httpx.Client, static_url: str, data_url: str) -> list[Case]:
    sound = {"prompt": "rain on a tin roof", "model": "V5", "soundLoop": True, "soundTempo": 120,
             "soundKey": "Am", "callBackUrl": "https://example.com/cb"}  # fmt: skip
    loop_id = _created(client.post("/api/v1/generate/sounds", json=sound))
    while (record := client.get(SUNO_RECORD, params={"taskId": loop_id}).json()["data"])[
        "status"
    ] not in DONE:
        time.sleep(0.05)
    assert record["status"] == "SUCCESS", record
    loop = (loop_id, str(record["response"]["sunoData"][0]["id"]))
    upscale = {"image_url": static_url, "upscale_factor": "2"}
    return [
        Case("z-image", "market z-image, 1 image 16:9",
             _market("z-image", lambda i: {"prompt": f"a red car {i}", "aspect_ratio": "16:9"})),
        Case("flux-kontext", "Flux Kontext edit of a 96x64 PNG", _kontext(data_url)),
        Case("qwen-image", "market qwen/text-to-image",
             _market("qwen/text-to-image", lambda i: {"prompt": f"a sign {i}"})),
        Case("swin2sr", "market topaz/image-upscale, 48x40 PNG x2",
             _market("topaz/image-upscale", lambda i: upscale)),
        Case("rembg", "market recraft/remove-background, 48x40 PNG",
             _market("recraft/remove-background", lambda i: {"image": static_url})),
        Case("ace-step", "Suno custom generate: 2 tracks of 34 s, MP3 + covers", _song),
        Case("demucs", "Suno vocal removal of an 8 s loop: 2 stems, MP3", _stems(loop)),
        Case("lyrics-lm", "Suno lyrics: 2 sheets of 40 new tokens", _lyrics),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=5)
    args = parser.parse_args()
    import base64

    from tests.engines.conftest import ImageWeights, image_settings
    from tests.support import StaticHttpServer, png_bytes, run_server_with
    from tests.tiny_image_pipelines import (
        build_flux_kontext,
        build_qwen_image,
        build_qwen_image_edit,
        build_zimage,
    )
    from tests.tiny_matting import red_channel_model
    from tests.tiny_music import build_ace_step, build_demucs
    from tests.tiny_swin2sr import build_swin2sr
    from tests.tiny_text import build_lyrics_lm

    from reelserve.engines.isolated import IsolatedEngine

    static = StaticHttpServer()
    with tempfile.TemporaryDirectory(prefix="bench-i16-") as tmp:
        root = Path(tmp)

        weights = ImageWeights(
            zimage=build_zimage(root / "z"),
            kontext=build_flux_kontext(root / "k"),
            flux=root / "unused",
            klein=root / "unused",
            qwen=build_qwen_image(root / "q"),
            qwen_edit=build_qwen_image_edit(root / "qe"),
        )
        settings = image_settings(weights, routes=ROUTES)
        settings.update(
            ace_step_model_dir=build_ace_step(root / "ace"), ace_step_steps=2,
            demucs_model_dir=build_demucs(root / "demucs" / "htdemucs"), demucs_device="cpu",
            demucs_shifts=0, swin2sr_model_dir=build_swin2sr(root / "swin", upscale=2),
            swin2sr_device="cpu", rembg_model=red_channel_model(root / "rembg" / "red.onnx"),
            lyrics_lm_model_dir=build_lyrics_lm(root / "lm"), lyrics_lm_device="cpu",
            lyrics_lm_max_new_tokens=40, worker_poll_s=0.01,
        )  # fmt: skip
        image = static.add("/in.png", png_bytes(48, 40), "image/png")
        kontext = "data:image/png;base64," + base64.b64encode(png_bytes(96, 64)).decode()
        with run_server_with(root / "data", {"alice": None}, **settings) as server:
            client = server.client("alice")
            # The worker sets up every routed engine at start, in the background: measure
            # once all are loaded (/readyz), or the first case shares the CPU with loading.
            while client.get("/readyz").status_code != 200:
                time.sleep(0.1)
            print(f"{'engine':13} {'task':52} {'wall':>8} {'pipeline':>9} {'overhead':>9}")
            for case in cases(client, image, kontext):
                submit = case.submit
                run_task(client, submit, 0)  # warm-up: loads the model
                engine = server.app.state.worker.registry.loaded(case.engine)
                assert isinstance(engine, IsolatedEngine), case.engine
                walls, pipes = [], []
                for i in range(1, args.tasks + 1):
                    before = engine.stats.total_pipeline_s
                    walls.append(run_task(client, submit, i))
                    pipes.append(engine.stats.total_pipeline_s - before)
                wall = statistics.median(walls) * 1000
                pipe = statistics.median(pipes) * 1000
                over = statistics.median(w - p for w, p in zip(walls, pipes, strict=True)) * 1000
                print(f"{case.engine:13} {case.what:52} {wall:6.0f} ms {pipe:6.0f} ms "
                      f"{over:6.0f} ms  (wall/pipeline {wall / pipe:.2f})")  # fmt: skip
    static.close()


if __name__ == "__main__":
    main()
