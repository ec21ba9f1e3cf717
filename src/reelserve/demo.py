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

    def wait_for(self, task_id: str, timeout: float = 30) -> tuple[dict[str, str], dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in self.received:
                payload = json.loads(body)
                if payload.get("data", {}).get("task_id") == task_id:
                    return headers, payload
            time.sleep(0.05)
        raise TimeoutError(f"no callback for {task_id} within {timeout} s")

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _say(text: str) -> None:
    print(text, flush=True)


def _wait(client: httpx.Client, task_id: str, label: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        data = client.get("/api/v1/runway/record-detail", params={"taskId": task_id}).json()["data"]
        line = f"  {label}: {data['state']} {int(100 * data.get('progress', 0))}%"
        if line != last:
            _say(line)
            last = line
        if data["state"] in ("success", "fail"):
            return dict(data)
        time.sleep(0.5)
    raise TimeoutError(f"{label} did not finish in {timeout} s")


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
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
        ) as client:
            _wait_healthy(client, server)
            made = _demo(client, Path(out_dir).resolve())
        _say("")
        _say("What it made:")
        for label, path, info in made:
            _say(
                f"  {label:<15} {path}  {info.width}x{info.height} {info.fps:g} fps "
                f"{info.frame_count} frames ({info.duration_s:.1f} s) {info.codec}/{info.pix_fmt}"
            )
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


def _wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up; see its log")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not come up within 60 s")


def _submit(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    answer = client.post(path, json=body).json()
    if answer["code"] != 200:
        raise RuntimeError(f"{path} answered {answer}")
    return str(answer["data"]["taskId"])


def _demo(client: httpx.Client, out: Path) -> list[tuple[str, Path, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    receiver = CallbackReceiver()
    try:
        return _run_demo(client, out, receiver)
    finally:
        receiver.close()


def _run_demo(
    client: httpx.Client, out: Path, receiver: CallbackReceiver
) -> list[tuple[str, Path, Any]]:
    _say("1. text-to-video (with a callback) and image-to-video, submitted together")
    t2v = _submit(
        client,
        "/api/v1/runway/generate",
        {
            "prompt": "A paper boat drifting across a calm lake at sunrise",
            "duration": 5,
            "quality": "720p",
            "aspectRatio": "16:9",
            "waterMark": "reelserve",
            "callBackUrl": receiver.url,
        },
    )
    i2v = _submit(
        client,
        "/api/v1/runway/generate",
        {
            "prompt": "The sun sets slowly over the hills",
            "duration": 5,
            "quality": "720p",
            "imageUrl": _demo_image(),
        },
    )
    _say(f"  text-to-video task {t2v}\n  image-to-video task {i2v}")
    results = {
        "text-to-video": _wait(client, t2v, "text-to-video"),
        "image-to-video": _wait(client, i2v, "image-to-video"),
    }
    headers, payload = receiver.wait_for(t2v)
    _say(f"  callback received at {receiver.url} (webhook-id {headers.get('webhook-id')}):")
    _say("    " + json.dumps(payload)[:300])
    _say("2. extend the text-to-video by 5 seconds")
    ext = _submit(
        client,
        "/api/v1/runway/extend",
        {
            "taskId": t2v,
            "prompt": "The boat reaches the shore",
            "quality": "720p",
        },
    )
    _say(f"  extension task {ext} (parent {t2v})")
    results["extension"] = _wait(client, ext, "extension")
    made = []
    for label, record in results.items():
        if record["state"] != "success":
            raise RuntimeError(f"{label} failed: {record['failCode']} {record['failMsg']}")
        path = out / f"{label}.mp4"
        with client.stream("GET", record["videoInfo"]["videoUrl"]) as response:
            response.raise_for_status()
            with path.open("wb") as fh:
                for chunk in response.iter_bytes():
                    fh.write(chunk)
        made.append((label, path, probe(path)))
    return made
