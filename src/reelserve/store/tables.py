"""Table definitions. Timestamps are Unix seconds (float) so every backend compares them alike."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    # Kept as given: signing needs the key itself. Readers of the database can
    # forge callbacks, as they can with any webhook sender that signs.
    Column("webhook_hmac_key", Text, nullable=True),
    # New tasks per 10 s (0: unlimited), running tasks, queued tasks (0: unlimited).
    Column("rate_limit", Integer, nullable=False, server_default="20"),
    Column("max_concurrent", Integer, nullable=False, server_default="0"),
    Column("max_queued", Integer, nullable=False, server_default="0"),
    # When a worker last started one of this key's tasks: the fair-share order.
    Column("last_claimed_at", Float, nullable=True),
    # Credit balance; NULL is unlimited.
    Column("credits", Integer, nullable=True),
)

tasks = Table(
    "tasks",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("api_key_id", String(32), nullable=False),
    Column("dialect", String(16), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("engine", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("request", JSON, nullable=False),
    Column("parent_id", String(64), nullable=True),
    Column("callback_url", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("progress", Float, nullable=False, default=0.0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_token", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("worker_id", String(128), nullable=True),
    Column("fail_code", Integer, nullable=True),
    Column("fail_msg", Text, nullable=False, default=""),
    Column("result", JSON, nullable=True),
    Column("media_expired_at", Float, nullable=True),
    # What the task costs, what was taken from a finite balance, and whether
    # that was given back (a failed task is refunded exactly once).
    Column("cost", Integer, nullable=False, server_default="0"),
    Column("credits_charged", Integer, nullable=False, server_default="0"),
    Column("credits_refunded", Boolean, nullable=False, server_default=false()),
    # A running task asked to stop (its worker ends it as canceled); a deleted one.
    Column("cancel_requested_at", Float, nullable=True),
    Column("deleted_at", Float, nullable=True),
    Index("ix_tasks_status_seq", "status", "seq"),
    Index("ix_tasks_key_created", "api_key_id", "created_at"),
    Index("ix_tasks_key_status", "api_key_id", "status"),
    Index("ix_tasks_parent_id", "parent_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("webhook_id", String(64), nullable=False),
    Column("task_id", String(64), nullable=False, index=True),
    Column("api_key_id", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("origin", String(300), nullable=False),
    Column("body", Text, nullable=False),
    # Which of the task's callbacks this is: Suno's `text`/`first`/`complete`, else "".
    Column("stage", String(16), nullable=False, server_default=""),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_token", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_deliveries_state_next", "state", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("duration_ms", Integer, nullable=False),
)

# Uploaded files (spec §3). One row per blob key: re-uploading a name replaces the row.
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("api_key_id", String(32), nullable=False),
    Column("blob_key", String(1024), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("mime", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_uploads_expires_at", "expires_at"),
)

# Worker processes (`reelserve worker`), each heartbeating its row; what each
# runs now is read from the tasks it holds, so it is never out of date.
workers = Table(
    "workers",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("engines", Text, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
    Index("ix_workers_heartbeat_at", "heartbeat_at"),
)

# Suno personas (`generate-persona`): a track's voice and style, kept by id; one per track.
personas = Table(
    "personas",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("api_key_id", String(32), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("audio_id", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Upstream hand-offs (upstream/follow.py): the upstream task that serves a task on an
# `upstream:<name>` engine, recorded before and right after it is submitted.
handoffs = Table(
    "handoffs",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("engine", String(64), primary_key=True),
    # `submitting` (asked, no answer recorded yet) or `accepted` (upstream_id known).
    Column("state", String(16), nullable=False),
    Column("upstream_id", String(128), nullable=True),
    Column("submissions", Integer, nullable=False, server_default="0"),
    Column("detail", JSON, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# The first task made for a key's `Idempotency-Key` (24 h), with a hash of the request:
# written in the transaction that inserts the task, so a retried create makes nothing.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)
