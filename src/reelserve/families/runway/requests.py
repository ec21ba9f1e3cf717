"""Runway-family requests as the domain sees them (already type-checked by the API layer)."""

from __future__ import annotations

from dataclasses import dataclass

from reelserve.tasks.rules import DataUri


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str
    duration: int
    quality: str
    aspect_ratio: str | None
    image: str | DataUri | None
    watermark: str | None
    callback_url: str | None
    expand_prompt: bool = False


@dataclass(frozen=True)
class ExtendRequest:
    task_id: str
    prompt: str
    quality: str
    watermark: str | None
    callback_url: str | None
