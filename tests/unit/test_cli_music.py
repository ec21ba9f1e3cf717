"""`reelserve music` against a real loopback HTTP server that answers canned Suno JSON:
arguments to bodies, the stage lines, the files saved, --json, exit codes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reelserve.cli import app


class Canned:
    """A Suno-speaking server: each record-info path answers its list of records in turn
    (the last one for ever); `/files/...` serves bytes; every POST body is kept."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, bytes] = {}
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.refuse: dict[str, tuple[int, str]] = {}
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                canned.posts.append((self.path, body))
                if self.path in canned.refuse:
                    code, msg = canned.refuse[self.path]
                    self._json({"code": code, "msg": msg, "data": None})
                else:
                    self._json({"code": 200, "msg": "success", "data": {"taskId": "suno_1"}})

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in canned.files:
                    self._send(200, "application/octet-stream", canned.files[path])
                    return
                queue = canned.records.get(path)
                if not queue:
                    self._json({"code": 404, "msg": "not found", "data": None})
                    return
                record = queue.pop(0) if len(queue) > 1 else queue[0]
                self._json({"code": 200, "msg": "success", "data": record})

            def _json(self, body: dict[str, Any]) -> None:
                self._send(200, "application/json", json.dumps(body).encode())

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def song(self, status: str, tracks: int = 2, audio: int = 2) -> dict[str, Any]:
        """A record-info of a song at `status`: `tracks` listed, the first `audio` stored."""
        items = [
            {
                "id": f"t-{i}",
                "audioUrl": f"{self.base_url}/files/t{i}.mp3" if i < audio else "",
                "streamAudioUrl": f"{self.base_url}/files/t{i}.mp3" if i < audio else "",
                "imageUrl": f"{self.base_url}/files/c{i}.png" if i < audio else "",
                "title": "Rain",
                "tags": "folk",
                "prompt": "[Verse]\nRain",
                "duration": 34.0 if i < audio else None,
            }
            for i in range(tracks)
        ]
        return {"taskId": "suno_1", "response": {"sunoData": items}, "status": status}


@pytest.fixture
def canned() -> Iterator[Canned]:
    server = Canned()
    for name in ("t0.mp3", "t1.mp3", "c0.png", "c1.png"):
        server.files[f"/files/{name}"] = name.encode()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def music(canned: Canned, *args: str, cwd: Path | None = None) -> Any:
    env = {
        "REELSERVE_BASE_URL": canned.base_url,
        "REELSERVE_API_KEY": "rs_test",
        "KIE_API_KEY": "",
        "REELSERVE_CALLBACK_URL": "",
        "COLUMNS": "120",
    }
    return CliRunner().invoke(app, ["music", *args], env=env, catch_exceptions=False)


def song_stages(canned: Canned) -> None:
    canned.records["/api/v1/generate/record-info"] = [
        canned.song("PENDING", tracks=0),
        canned.song("TEXT_SUCCESS", audio=0),
        canned.song("FIRST_SUCCESS", audio=1),
        canned.song("SUCCESS"),
    ]


def test_generate_without_wait_prints_the_task_id_and_sends_non_custom_mode(
    canned: Canned,
) -> None:
    done = music(canned, "generate", "a song about rain", "--callback-url", "https://e.com/cb")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "suno_1"
    assert canned.posts == [
        (
            "/api/v1/generate",
            {
                "prompt": "a song about rain",
                "customMode": False,
                "instrumental": False,
                "model": "V4_5",
                "callBackUrl": "https://e.com/cb",
            },
        )
    ]


def test_wait_shows_each_stage_and_saves_both_tracks_and_covers(
    canned: Canned, tmp_path: Path
) -> None:
    song_stages(canned)
    lyrics = tmp_path / "rain.txt"
    lyrics.write_text("[Verse]\nRain on the roof\n", encoding="utf-8")
    out = tmp_path / "songs"
    done = music(
        canned,
        "generate",
        "--lyrics",
        str(lyrics),
        "--style",
        "folk",
        "--title",
        "Rain",
        "--model",
        "V5",
        "--callback-url",
        "https://e.com/cb",
        "--out",
        str(out),
    )
    assert done.exit_code == 0, done.output
    saved = done.stdout.strip().splitlines()
    assert saved == [str(out / n) for n in ("t-0.mp3", "t-0.png", "t-1.mp3", "t-1.png")]
    assert (out / "t-1.mp3").read_bytes() == b"t1.mp3"
    stages = [line.split(": ", 1)[1] for line in done.stderr.splitlines() if "suno_1: " in line]
    assert stages == ["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS"]
    body = canned.posts[0][1]
    assert body["customMode"] is True and body["prompt"] == "[Verse]\nRain on the roof\n"
    assert (body["style"], body["title"], body["model"]) == ("folk", "Rain", "V5")


def test_first_stops_at_first_success_with_the_first_track(canned: Canned, tmp_path: Path) -> None:
    song_stages(canned)
    done = music(
        canned, "generate", "rain", "--first", "--no-covers", "--json", "--out", str(tmp_path)
    )
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["stage"] == "FIRST_SUCCESS" and data["state"] == "generating"
    assert data["files"] == [str(tmp_path / "t-0.mp3")]
    assert data["record"]["status"] == "FIRST_SUCCESS"


def test_a_failed_song_exits_1_with_its_code(canned: Canned) -> None:
    canned.records["/api/v1/generate/record-info"] = [
        {
            "taskId": "suno_1",
            "response": {"sunoData": []},
            "status": "GENERATE_AUDIO_FAILED",
            "errorCode": 501,
            "errorMessage": "Audio generation failed.",
        }
    ]
    done = music(canned, "generate", "rain", "--wait", "--json")
    assert done.exit_code == 1
    assert json.loads(done.stdout)["code"] == 501
    assert "Audio generation failed." in done.stderr


def test_a_missing_callback_url_is_the_servers_422_with_a_hint(canned: Canned) -> None:
    canned.refuse["/api/v1/generate"] = (422, "callBackUrl: is required")
    done = music(canned, "generate", "rain")
    assert done.exit_code == 1
    assert "callBackUrl: is required" in done.stderr and "--callback-url" in done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate"], "PROMPT"),
        (["generate", "x", "--lyrics-text", "la"], "PROMPT"),
        (["generate", "--lyrics-text", "la", "--lyrics", "f.txt"], "--lyrics"),
        (["generate", "--style", "folk", "--title", "T"], "--instrumental"),
        (["generate", "--lyrics-text", "la", "--instrumental"], "--instrumental"),
        (["generate", "--lyrics", "/no/such/file"], "no such file"),
    ],
)
def test_usage_problems_exit_2(canned: Canned, args: list[str], words: str) -> None:
    done = music(canned, *args)
    assert done.exit_code == 2, done.output
    assert words in done.stderr
    assert canned.posts == []


def test_custom_instrumental_sends_an_empty_prompt(canned: Canned) -> None:
    done = music(canned, "generate", "--instrumental", "--style", "ambient", "--title", "Still")
    assert done.exit_code == 0, done.output
    body = canned.posts[0][1]
    assert body["prompt"] == "" and body["customMode"] is True and body["instrumental"] is True


def test_extend_sends_continue_at_and_its_own_fields(canned: Canned) -> None:
    done = music(
        canned, "extend", "t-0", "--continue-at", "20", "--style", "folk", "--title", "Rain 2"
    )
    assert done.exit_code == 0, done.output
    path, body = canned.posts[0]
    assert path == "/api/v1/generate/extend"
    assert body["audioId"] == "t-0" and body["continueAt"] == 20.0
    assert body["defaultParamFlag"] is True


def test_stems_wav_and_video_save_their_files(canned: Canned, tmp_path: Path) -> None:
    canned.records["/api/v1/vocal-removal/record-info"] = [
        {"taskId": "s", "successFlag": "PENDING"},
        {
            "taskId": "s",
            "successFlag": "SUCCESS",
            "response": {
                "vocalUrl": f"{canned.base_url}/files/t0.mp3",
                "instrumentalUrl": f"{canned.base_url}/files/t1.mp3",
                "drumsUrl": None,
            },
        },
    ]
    done = music(canned, "stems", "suno_1", "t-0", "--split", "--out", str(tmp_path))
    assert done.exit_code == 0, done.output
    assert sorted(Path(p).name for p in done.stdout.split()) == [
        "t-0-instrumental.mp3",
        "t-0-vocal.mp3",
    ]
    assert canned.posts[-1] == (
        "/api/v1/vocal-removal/generate",
        {"taskId": "suno_1", "audioId": "t-0", "type": "split_stem"},
    )
    canned.files["/files/a.wav"] = b"RIFF"
    wav_url = f"{canned.base_url}/files/a.wav"
    canned.records["/api/v1/wav/record-info"] = [
        {"taskId": "w", "successFlag": "SUCCESS", "response": {"audioWavUrl": wav_url}}
    ]
    done = music(canned, "wav", "suno_1", "t-0", "--out", str(tmp_path))
    assert done.exit_code == 0, done.output
    assert (tmp_path / "t-0.wav").read_bytes() == b"RIFF"
    canned.records["/api/v1/mp4/record-info"] = [
        {"taskId": "v", "successFlag": "GENERATE_MP4_FAILED", "errorCode": 500,
         "errorMessage": "Internal Error - Please try again later"}
    ]  # fmt: skip
    done = music(canned, "video", "suno_1", "t-0", "--author", "me", "--wait")
    assert done.exit_code == 1 and "Internal Error" in done.stderr
    assert canned.posts[-1][1] == {"taskId": "suno_1", "audioId": "t-0", "author": "me"}


def test_lyrics_wait_prints_the_sheets(canned: Canned) -> None:
    canned.records["/api/v1/lyrics/record-info"] = [
        {"taskId": "l", "status": "PENDING"},
        {
            "taskId": "l",
            "status": "SUCCESS",
            "response": {"data": [{"text": "[Verse]\nla", "title": "La", "status": "complete"}]},
        },
    ]
    done = music(canned, "lyrics", "rain", "--wait")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("# La\n[Verse]\nla")


def test_status_shows_the_stage_and_tracks(canned: Canned) -> None:
    canned.records["/api/v1/generate/record-info"] = [canned.song("FIRST_SUCCESS", audio=1)]
    done = music(canned, "status", "suno_1")
    assert done.exit_code == 0, done.output
    assert "FIRST_SUCCESS" in done.stdout and "t-0" in done.stdout and "t-1" in done.stdout
    done = music(canned, "status", "suno_1", "--json")
    assert json.loads(done.stdout)["status"] == "FIRST_SUCCESS"
