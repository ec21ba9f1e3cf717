"""A Suno song on PostgreSQL with media in S3: stages, callbacks in order, stems from S3."""

from __future__ import annotations

from pathlib import Path

from tests.receivers import Receiver, Reply
from tests.s3 import s3_overrides
from tests.suno import audio_at, create, custom_song, song, wait_flag
from tests.support import run_server


def test_a_song_on_postgres_and_s3_is_staged_called_back_in_order_and_separated(
    tmp_path: Path,
) -> None:
    with (
        Receiver() as receiver,
        run_server(tmp_path / "data", backend="postgres", **s3_overrides()) as server,
    ):
        client = server.client("alice")
        made = song(
            client,
            custom_song(
                "One line sung in the cloud", callBackUrl=receiver.script("/pg", Reply(200))
            ),
        )
        stages = [r.json()["data"]["callbackType"] for r in receiver.wait_for("/pg", 3)]
        assert stages == ["text", "first", "complete"]
        assert [abs(t["duration"] - 34) <= 2 for t in made.tracks] == [True, True]
        body = {"taskId": made.task_id, "audioId": made.audio_id, "type": "separate_vocal",
                "callBackUrl": "https://example.com/cb"}  # fmt: skip
        stems_id = create(client, "/api/v1/vocal-removal/generate", body)
        record = wait_flag(client, "/api/v1/vocal-removal/record-info", stems_id)
        assert record["successFlag"] == "SUCCESS", record
        assert audio_at(client, record["response"]["vocalUrl"]).seconds > 30
        local = tmp_path / "data" / "blobs" / "media"
        assert not local.exists() or not any(local.rglob("*.*"))
