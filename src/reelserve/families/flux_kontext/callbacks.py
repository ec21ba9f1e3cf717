"""The Flux Kontext callback body (notes §3.3)."""

from __future__ import annotations

from reelserve.families.flux_kontext.views import flux_payload

__all__ = ["flux_payload"]
