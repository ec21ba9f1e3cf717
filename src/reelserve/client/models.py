"""Typed answers of the API (spec §1-§3, §6), parsed leniently from the JSON `data`.

Every task record, whatever its dialect, has the same core (`TaskRecord`):
`state` in the dialect's own words, `progress` as a fraction 0..1, the result
URLs, and the failure. Fields a server leaves out (KIE itself does not send
reelserve's additive ones) read as their empty value; `raw` keeps the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SUCCESS_STATES = frozenset({"success"})
FAILURE_STATES = frozenset({"fail"})


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


@dataclass(frozen=True, kw_only=True)
class TaskRecord:
    """What every dialect's poll says of a task."""

    task_id: str
    state: str
    progress: float
    """0..1 (the market's 0..100 is scaled)."""
    video_url: str
    cover_url: str
    fail_code: int | None
    fail_msg: str
    expired: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.state in SUCCESS_STATES or self.state in FAILURE_STATES

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCESS_STATES

    @property
    def failed(self) -> bool:
        return self.state in FAILURE_STATES

    @property
    def first_ready(self) -> bool:
        """A first result is usable before the task ends (Suno's FIRST_SUCCESS); for a
        family without partial results, the same as `succeeded`."""
        return self.succeeded


@dataclass(frozen=True, kw_only=True)
class RunwayRecord(TaskRecord):
    """`GET /api/v1/runway/record-detail` (spec §1.2)."""

    parent_task_id: str
    prompt: str
    image_url: str
    generate_time: str
    video_id: str
    queue_position: int | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RunwayRecord:
        info = data.get("videoInfo") or {}
        param = data.get("generateParam") or {}
        failed = data.get("state") in FAILURE_STATES
        return cls(
            task_id=_str(data.get("taskId")),
            state=_str(data.get("state")),
            progress=float(data.get("progress") or (1.0 if info else 0.0)),
            video_url=_str(info.get("videoUrl")),
            cover_url=_str(info.get("imageUrl")),
            fail_code=_int_or_none(data.get("failCode")) if failed else None,
            fail_msg=_str(data.get("failMsg")),
            expired=bool(data.get("expireFlag")),
            raw=data,
            parent_task_id=_str(data.get("parentTaskId")),
            prompt=_str(param.get("prompt")),
            image_url=_str(param.get("imageUrl")),
            generate_time=_str(data.get("generateTime")),
            video_id=_str(info.get("videoId")),
            queue_position=_int_or_none(data.get("queuePosition")),
        )


@dataclass(frozen=True, kw_only=True)
class AlephRecord(TaskRecord):
    """`GET /api/v1/aleph/record-info` (spec §1.4)."""

    params: dict[str, Any]
    create_time: str
    complete_time: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AlephRecord:
        response = data.get("response") or {}
        error_code = _int_or_none(data.get("errorCode")) or 0
        state = _str(data.get("state"))
        if not state:  # KIE sends no `state`: derive it the way its clients do
            state = "success" if data.get("successFlag") == 1 else "fail" if error_code else ""
            state = state or "generating"
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=1.0 if state == "success" else 0.0,
            video_url=_str(response.get("resultVideoUrl")),
            cover_url=_str(response.get("resultImageUrl")),
            fail_code=error_code or None,
            fail_msg=_str(data.get("errorMessage")),
            expired=bool(data.get("expireFlag")),
            raw=data,
            params=_json_object(data.get("paramJson")),
            create_time=_str(data.get("createTime")),
            complete_time=_str(data.get("completeTime")),
        )


@dataclass(frozen=True, kw_only=True)
class MarketRecord(TaskRecord):
    """`GET /api/v1/jobs/recordInfo` (spec §2)."""

    model: str
    params: dict[str, Any]
    result_urls: list[str]
    cost_time_ms: int
    create_time_ms: int | None
    update_time_ms: int | None
    complete_time_ms: int | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MarketRecord:
        urls = [str(u) for u in _json_object(data.get("resultJson")).get("resultUrls") or []]
        state = _str(data.get("state"))
        progress = data.get("progress")
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=(
                float(progress) / 100 if progress is not None else 1.0 if state == "success" else 0
            ),
            video_url=urls[0] if urls else "",
            cover_url="",
            fail_code=_int_or_none(data.get("failCode")) if state in FAILURE_STATES else None,
            fail_msg=_str(data.get("failMsg")),
            expired=bool(data.get("expireFlag")),
            raw=data,
            model=_str(data.get("model")),
            params=_json_object(data.get("param")),
            result_urls=urls,
            cost_time_ms=_int_or_none(data.get("costTime")) or 0,
            create_time_ms=_int_or_none(data.get("createTime")),
            update_time_ms=_int_or_none(data.get("updateTime")),
            complete_time_ms=_int_or_none(data.get("completeTime")),
        )


@dataclass(frozen=True, kw_only=True)
class UploadedFile:
    """The answer of the three upload endpoints (spec §3)."""

    file_name: str
    file_path: str
    download_url: str
    file_size: int
    mime_type: str
    uploaded_at: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> UploadedFile:
        return cls(
            file_name=_str(data.get("fileName")),
            file_path=_str(data.get("filePath")),
            download_url=_str(data.get("downloadUrl") or data.get("fileUrl") or data.get("url")),
            file_size=_int_or_none(data.get("fileSize")) or 0,
            mime_type=_str(data.get("mimeType")),
            uploaded_at=_str(data.get("uploadedAt")),
            raw=data,
        )


@dataclass(frozen=True, kw_only=True)
class MarketModel:
    """One entry of `GET /api/v1/jobs/models` (spec §6)."""

    model: str
    operation: str
    engine: str
    description: str
    input_schema: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MarketModel:
        return cls(
            model=_str(data.get("model")),
            operation=_str(data.get("operation")),
            engine=_str(data.get("engine")),
            description=_str(data.get("description")),
            input_schema=dict(data.get("inputSchema") or {}),
        )


@dataclass(frozen=True, kw_only=True)
class DeliveryAttempt:
    at: str
    http_status: int | None
    error: str
    duration_ms: int


@dataclass(frozen=True, kw_only=True)
class CallbackDelivery:
    """One callback delivery of a task and its attempts (`GET /api/v1/callbacks`, spec §6)."""

    delivery_id: str
    webhook_id: str
    url: str
    state: str
    """pending, delivered, failed or abandoned."""
    payload: Any
    attempts: list[DeliveryAttempt]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CallbackDelivery:
        return cls(
            delivery_id=_str(data.get("deliveryId")),
            webhook_id=_str(data.get("webhookId")),
            url=_str(data.get("url")),
            state=_str(data.get("state")),
            payload=data.get("payload"),
            attempts=[
                DeliveryAttempt(
                    at=_str(a.get("at")),
                    http_status=_int_or_none(a.get("httpStatus")),
                    error=_str(a.get("error")),
                    duration_ms=_int_or_none(a.get("durationMs")) or 0,
                )
                for a in data.get("attempts") or []
            ],
        )


def _urls(value: Any) -> list[str]:
    return [str(u) for u in value] if isinstance(value, list) else []


def _flag_state(flag: Any, failed: tuple[int, ...]) -> str:
    value = _int_or_none(flag)
    if value == 1:
        return "success"
    if value in failed:
        return "fail"
    return "generating"


@dataclass(frozen=True, kw_only=True)
class VeoRecord(TaskRecord):
    """`GET /api/v1/veo/record-info` (kie-families.md §3); `state` from `successFlag`."""

    success_flag: int
    result_urls: list[str]
    full_result_urls: list[str]
    origin_urls: list[str]
    resolution: str
    params: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> VeoRecord:
        response = data.get("response") if isinstance(data.get("response"), dict) else {}
        assert isinstance(response, dict)
        state = _flag_state(data.get("successFlag"), (2, 3))
        full = _urls(response.get("fullResultUrls"))
        urls = _urls(response.get("resultUrls"))
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=1.0 if state == "success" else 0.0,
            video_url=(full or urls or [""])[0],
            cover_url="",
            fail_code=_int_or_none(data.get("errorCode")) if state == "fail" else None,
            fail_msg=_str(data.get("errorMessage")),
            expired=False,
            raw=data,
            success_flag=_int_or_none(data.get("successFlag")) or 0,
            result_urls=urls,
            full_result_urls=full,
            origin_urls=_urls(response.get("originUrls")),
            resolution=_str(response.get("resolution")),
            params=_json_object(data.get("paramJson")),
        )


@dataclass(frozen=True, kw_only=True)
class Gpt4oRecord(TaskRecord):
    """`GET /api/v1/gpt4o-image/record-info` (§4): `status`, `successFlag`, `progress` string."""

    status: str
    result_urls: list[str]
    params: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Gpt4oRecord:
        response = data.get("response") if isinstance(data.get("response"), dict) else {}
        assert isinstance(response, dict)
        status = _str(data.get("status"))
        state = {"SUCCESS": "success", "GENERATING": "generating"}.get(status, "fail")
        urls = _urls(response.get("resultUrls") or response.get("result_urls"))
        try:
            progress = float(data.get("progress") or 0)
        except (TypeError, ValueError):
            progress = 0.0
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=progress,
            video_url=urls[0] if urls else "",
            cover_url="",
            fail_code=_int_or_none(data.get("errorCode")) if state == "fail" else None,
            fail_msg=_str(data.get("errorMessage")),
            expired=False,
            raw=data,
            status=status,
            result_urls=urls,
            params=_json_object(data.get("paramJson")),
        )


@dataclass(frozen=True, kw_only=True)
class FluxKontextRecord(TaskRecord):
    """`GET /api/v1/flux/kontext/record-info` (§5): `successFlag`, `response.resultImageUrl`."""

    success_flag: int
    result_image_url: str
    params: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> FluxKontextRecord:
        response = data.get("response") if isinstance(data.get("response"), dict) else {}
        assert isinstance(response, dict)
        state = _flag_state(data.get("successFlag"), (2, 3))
        url = _str(response.get("resultImageUrl"))
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=1.0 if state == "success" else 0.0,
            video_url=url,
            cover_url="",
            fail_code=_int_or_none(data.get("errorCode")) if state == "fail" else None,
            fail_msg=_str(data.get("errorMessage")),
            expired=False,
            raw=data,
            success_flag=_int_or_none(data.get("successFlag")) or 0,
            result_image_url=url,
            params=_json_object(data.get("paramJson")),
        )
