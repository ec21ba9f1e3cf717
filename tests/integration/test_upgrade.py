"""An upgrade from a database made before results were artifacts keeps old tasks readable.

The schema is migrated to revision 0006 (the last one before artifacts), a
finished video task is written as that version wrote it, then the current
code opens the database (migrating to the head) and reads the task.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from reelserve.store.db import Database
from reelserve.store.migrate import MIGRATIONS_DIR
from reelserve.store.store import Store
from reelserve.store.tables import tasks
from reelserve.tasks.models import Status
from tests.databases import BACKENDS, database_url

OLD_RESULT = {
    "video_id": "v1",
    "video_key": "media/old-task/v1/video.mp4",
    "cover_key": "media/old-task/v1/cover.png",
    "width": 1280,
    "height": 720,
    "frames": 120,
    "fps": 24,
}


def _upgrade_to(revision: str) -> object:
    def run(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


def _old_row(connection: Connection) -> None:
    now = time.time()
    connection.execute(
        insert(tasks).values(
            id="old-task",
            api_key_id="k",
            dialect="runway",
            operation="text_to_video",
            engine="synthetic",
            status="succeeded",
            params={"prompt": "p", "duration": 5, "quality": "720p", "aspect_ratio": "16:9"},
            request={"prompt": "p", "imageUrl": "", "expandPrompt": False},
            created_at=now,
            updated_at=now,
            started_at=now,
            finished_at=now,
            progress=1.0,
            attempts=1,
            fail_msg="",
            result=OLD_RESULT,
        )
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_task_finished_before_artifacts_reads_as_a_video_and_its_cover(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url:
        old = Database(url)
        await old.write(_upgrade_to("0006"))  # type: ignore[arg-type]
        await old.write(_old_row)
        await old.dispose()

        store = Store(url)
        await store.open()
        try:
            task = await store.tasks.get("old-task")
            raw = await store.db.read(
                lambda c: c.execute(select(tasks.c.result).where(tasks.c.id == "old-task")).one()
            )
        finally:
            await store.close()
    assert task is not None and task.status is Status.SUCCEEDED and task.result is not None
    result = task.result
    assert (result.video_id, result.video_key, result.cover_key) == (
        "v1",
        OLD_RESULT["video_key"],
        OLD_RESULT["cover_key"],
    )
    assert (result.width, result.height, result.frames, result.fps) == (1280, 720, 120, 24)
    assert [(a.kind, a.role, a.key) for a in result.artifacts] == [
        ("video", "video", OLD_RESULT["video_key"]),
        ("image", "cover", OLD_RESULT["cover_key"]),
    ]
    assert result.artifacts[0].duration == 5.0
    stored = raw[0] if isinstance(raw[0], dict) else __import__("json").loads(raw[0])
    # The migration rewrote the row: the old fields stay, the artifact list was added.
    assert {k: stored[k] for k in OLD_RESULT} == OLD_RESULT
    assert [a["role"] for a in stored["artifacts"]] == ["video", "cover"]
