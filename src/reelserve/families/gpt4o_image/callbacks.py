"""The 4o Image callback body (notes §2.4): `data.taskId`, `data.info.result_urls`."""

from __future__ import annotations

from reelserve.families.gpt4o_image.views import gpt4o_payload

__all__ = ["gpt4o_payload"]
