"""The Veo family's callback bodies (notes §1.6 generate/extend, §1.4 the snake_case 4K one)."""

from __future__ import annotations

from reelserve.families.veo.views import veo_payload

__all__ = ["veo_payload"]
