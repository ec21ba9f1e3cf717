"""`reelserve quickstart`: a server on embedded defaults and a demo against it, end to end."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from reelserve.client import Client, Task, TaskRecord
from reelserve.client.webhooks import RunwayCallback, parse_callback
from reelserve.media.decode import probe


def _free_port(preferred: int = 8000) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


def _demo_image() -> str:
    """A small PNG (a sunset-like gradient with a disc) as a data: URI."""
    import numpy as np
    from PIL import Image

    h, w = 480, 640
    y = np.linspace(0, 1, h)[:, None]
    x = np.linspace(0, 1, w)[None, :]
    r = 255 * (0.9 - 0.3 * y) + 0 * x
    g = 255 * (0.35 + 0.3 * y) * (0.8 + 0.2 * x)
    b = 255 * (0.3 + 0.6 * y) + 0 * x
    disc = ((x - 0.7) ** 2 + (y - 0.35) ** 2) < 0.012
    rgb = np.stack([r, g, b], axis=-1)
    rgb[disc] = (255, 220, 120)
    buf = io.BytesIO()
    Image.fromarray(rgb.clip(0, 255).astype("uint8")).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class CallbackReceiver:
    """A local webhook receiver: records every callback the server POSTs to it."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/reelserve-callback"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def wait_for(
        self, task_id: str, timeout: float = 30
    ) -> tuple[dict[str, str], dict[str, Any], RunwayCallback]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in self.received:
                event = parse_callback(body, "runway")
                if isinstance(event, RunwayCallback) and event.task_id == task_id:
                    return headers, json.loads(body), event
            time.sleep(0.05)
        raise TimeoutError(f"no callback for {task_id} within {timeout} s")

    def stages_of(self, task_id: str, count: int, timeout: float = 30) -> list[str]:
        """The `callbackType`s of a Suno song's callbacks, in arrival order (once `count` came)."""
        deadline = time.monotonic() + timeout
        stages: list[str] = []
        while time.monotonic() < deadline:
            stages = []
            for _, body in list(self.received):
                data = json.loads(body).get("data") or {}
                if isinstance(data, dict) and data.get("task_id") == task_id:
                    stages.append(str(data.get("callbackType")))
            if len(stages) >= count:
                return stages
            time.sleep(0.05)
        raise TimeoutError(f"{len(stages)} of {count} callbacks for {task_id} within {timeout} s")

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _say(text: str) -> None:
    print(text, flush=True)


def _wait(task: Task, label: str, timeout: float = 300) -> TaskRecord:
    """Wait for a task through the SDK, printing each new state and progress."""
    last = ""

    def show(record: TaskRecord) -> None:
        nonlocal last
        line = f"  {label}: {record.state} {int(100 * record.progress)}%"
        if line != last:
            _say(line)
            last = line

    return task.wait(timeout=timeout, poll_interval=0.5, on_progress=show)


def run_quickstart(*, keep_serving: bool, out_dir: str) -> int:
    data_dir = Path(os.environ.get("REELSERVE_DATA_DIR", "reelserve-data")).resolve()
    port = int(os.environ.get("REELSERVE_PORT") or _free_port())
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        REELSERVE_DATA_DIR=str(data_dir),
        REELSERVE_PORT=str(port),
        REELSERVE_HOST="127.0.0.1",
        REELSERVE_PUBLIC_URL=base,
        REELSERVE_ALLOW_PRIVATE_URLS="true",
    )
    cmd = [sys.executable, "-m", "reelserve"]
    _say(f"data directory: {data_dir}")
    created = subprocess.run(
        [*cmd, "keys", "create", "--name", f"quickstart-{int(time.time())}"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    api_key = created.stdout.strip().splitlines()[-1]
    log_path = data_dir / "quickstart-server.log"
    log = log_path.open("ab")
    server = subprocess.Popen([*cmd, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    _say(f"server starting on {base} (log: {log_path})")
    try:
        _wait_healthy(base, server)
        with Client(api_key=api_key, base_url=base, timeout=30) as client:
            made = _demo(client, Path(out_dir).resolve())
        _say("")
        _say("What it made:")
        for label, path, info in made:
            _say(f"  {label:<15} {path}  {_describe(path, info)}")
        _say("")
        if keep_serving:
            _say(f"Server left running on {base} (pid {server.pid}); API key: {api_key}")
            _say(f'  curl -s {base}/api/v1/runway/generate -H "Authorization: Bearer {api_key}" \\')
            _say('    -H "Content-Type: application/json" \\')
            body = '{"prompt":"a lighthouse","duration":5,"quality":"720p","aspectRatio":"16:9"}'
            _say(f"    -d '{body}'")
            _say(f"  API docs: {base}/docs   stop it with: kill {server.pid}")
            server = None  # type: ignore[assignment]
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            _say("server stopped.")
        log.close()


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up; see its log")
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not come up within 60 s")


def _demo(client: Client, out: Path) -> list[tuple[str, Path, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    receiver = CallbackReceiver()
    try:
        return _run_demo(client, out, receiver)
    finally:
        receiver.close()


def _run_demo(client: Client, out: Path, receiver: CallbackReceiver) -> list[tuple[str, Path, Any]]:
    _say("1. text-to-video (with a callback) and image-to-video, submitted together")
    t2v = client.runway.generate(
        prompt="A paper boat drifting across a calm lake at sunrise",
        duration=5,
        quality="720p",
        aspect_ratio="16:9",
        watermark="reelserve",
        callback_url=receiver.url,
    )
    i2v = client.runway.generate(
        prompt="The sun sets slowly over the hills",
        duration=5,
        quality="720p",
        image_url=_demo_image(),
    )
    _say(f"  text-to-video task {t2v.id}\n  image-to-video task {i2v.id}")
    tasks = {"text-to-video": t2v, "image-to-video": i2v}
    for label, task in tasks.items():
        _wait(task, label)
    headers, payload, event = receiver.wait_for(t2v.id)
    _say(f"  callback received at {receiver.url} (webhook-id {headers.get('webhook-id')}):")
    _say("    " + json.dumps(payload)[:300])
    if not event.succeeded:
        raise RuntimeError(f"the callback reports a failure: {event.code} {event.msg}")
    _say("2. extend the text-to-video by 5 seconds")
    ext = client.runway.extend(t2v, prompt="The boat reaches the shore", quality="720p")
    _say(f"  extension task {ext.id} (parent {t2v.id})")
    _wait(ext, "extension")
    tasks["extension"] = ext
    made: list[tuple[str, Path, Any]] = []
    for label, task in tasks.items():
        # wait() raised TaskFailed for a failed task: every one here succeeded
        path = task.download(out / f"{label}.mp4")
        made.append((label, path, probe(path)))
    _say("3. the market by KIE's model names: an image and a voice-over")
    image = client.jobs.create(
        "nano-banana-pro",
        {"prompt": "A paper boat on a calm lake", "aspect_ratio": "16:9", "resolution": "1K"},
    )
    speech = client.jobs.create(
        "elevenlabs/text-to-speech-turbo-2-5",
        {"text": "The paper boat reaches the far shore at sunrise.", "voice": "Rachel"},
    )
    for label, task, name in (("image", image, "image.png"), ("speech", speech, "speech.mp3")):
        _wait(task, label)
        path = task.download(out / name)
        made.append((label, path, None))
    _say("4. Suno: a two-track song from lyrics, with its three staged callbacks")
    song = client.suno.generate(
        prompt="[Verse]\nA paper boat on silver water\nSails into the morning light",
        style="folk pop, 100 bpm",
        title="Paper Boat",
        custom_mode=True,
        callback_url=receiver.url,
    )
    _say(f"  song task {song.id}")
    _wait(song, "song")
    stages = receiver.stages_of(song.id, 3)
    _say(f"  callbacks received in order: {', '.join(stages)}")
    for index, path in enumerate(p for p in song.download_tracks(out, covers=False)):
        target = path.with_name(f"song-{index + 1}.mp3")
        path.replace(target)
        made.append((f"song track {index + 1}", target, None))
    return made


def _describe(path: Path, info: Any) -> str:
    """One line on a file the demo made (procedural output of the synthetic engines)."""
    if info is not None:
        return (
            f"{info.width}x{info.height} {info.fps:g} fps {info.frame_count} frames "
            f"({info.duration_s:.1f} s) {info.codec}/{info.pix_fmt}"
        )
    if path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as image:
            return f"{image.width}x{image.height} {image.format} {image.mode}"
    from reelserve.media.audio import probe_audio

    audio = probe_audio(path)
    return f"{audio.seconds:.1f} s {audio.codec} {audio.sample_rate} Hz, {audio.channels} ch"
