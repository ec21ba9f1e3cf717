"""The `reelserve` command as a user runs it: subprocesses against a real data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import wait_for_task

CLI = [sys.executable, "-m", "reelserve"]


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, check=check, timeout=120
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REELSERVE_DATA_DIR": str(tmp_path / "data")}


def test_keys_create_prints_the_key_alone_on_the_last_line(env: dict[str, str]) -> None:
    out = run(env, "keys", "create", "--name", "ci").stdout
    key = out.strip().splitlines()[-1]
    assert key.startswith("rs_") and " " not in key and len(key) > 40


def test_keys_list_shows_names_but_never_the_key(env: dict[str, str]) -> None:
    key = run(env, "keys", "create", "--name", "listed").stdout.strip().splitlines()[-1]
    listing = run(env, "keys", "list").stdout
    assert "listed" in listing and "active" in listing
    assert key not in listing


def test_a_duplicate_key_name_is_refused(env: dict[str, str]) -> None:
    run(env, "keys", "create", "--name", "twice")
    again = run(env, "keys", "create", "--name", "twice", check=False)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_revoking_an_unknown_key_fails(env: dict[str, str]) -> None:
    result = run(env, "keys", "revoke", "nobody", check=False)
    assert result.returncode == 1 and "no active key" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_generate_and_a_revoked_key_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    key = run(env, "keys", "create", "--name", "served").stdout.strip().splitlines()[-1]
    port = _free_port()
    env = {
        **env,
        "REELSERVE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "REELSERVE_X264_PRESET": "ultrafast",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": key}, timeout=30
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, (
                tmp_path / "server.log"
            ).read_text()
            time.sleep(0.2)
        answer = client.post(
            "/api/v1/runway/generate",
            json={"prompt": "served", "duration": 5, "quality": "720p", "aspectRatio": "16:9"},
        ).json()
        assert answer["code"] == 200
        assert wait_for_task(client, answer["data"]["taskId"])["state"] == "success"
        assert client.get("/docs").status_code == 200
        run(env, "keys", "revoke", "served")
        time.sleep(2.1)  # the server reuses a key lookup for 2 s
        refused = client.get(
            "/api/v1/runway/record-detail", params={"taskId": answer["data"]["taskId"]}
        ).json()
        assert refused["code"] == 401
        client.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        log.close()
    assert server.returncode == 0


def test_serve_without_worker_leaves_tasks_queued(env: dict[str, str], tmp_path: Path) -> None:
    key = run(env, "keys", "create", "--name", "noworker").stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        task = client.post(
            "/api/v1/runway/generate",
            json={"prompt": "waits", "duration": 5, "quality": "720p", "aspectRatio": "1:1"},
        ).json()["data"]["taskId"]
        time.sleep(1.5)
        detail = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()["data"]
        assert detail["state"] == "queueing" and detail["queuePosition"] == 1
        client.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
