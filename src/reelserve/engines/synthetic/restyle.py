"""A point-wise restyle (tone curve + colour ramp), shared by video_to_video and image_to_image."""

from __future__ import annotations

import numpy as np
from PIL import Image

from reelserve.engines.base import Frame
from reelserve.engines.synthetic.scene import FloatArray, Look

# video_to_video: the share of each output pixel taken from the prompt's colour ramp
# (the rest is the source, tone-curved), and the least mean change from the source
# (0..255 units) a restyle must reach on the first frame before another is tried.
RESTYLE_MIX = 0.6
_RESTYLE_MIN_CHANGE = 16.0
LUMA = np.asarray([0.299, 0.587, 0.114], dtype=np.float64)


def luminance(colour: FloatArray) -> float:
    return float(np.dot(colour, LUMA))


def reference_stops(reference: Frame) -> list[FloatArray]:
    """Mean colours of the reference image's darkest, middle and brightest thirds."""
    small = np.asarray(
        Image.fromarray(np.ascontiguousarray(reference)).resize((64, 64), Image.Resampling.BOX),
        dtype=np.float64,
    ).reshape(-1, 3)
    order = np.argsort(small @ LUMA, kind="stable")
    return [small[part].mean(axis=0) for part in np.array_split(order, 3)]


class Restyle:
    """A point-wise restyle: out = (1 - mix) * curve(source) + mix * ramp(luminance(source)).

    `curve` is a per-channel gamma from the prompt and seed; `ramp` is a
    three-stop colour gradient (dark -> middle -> bright) from the prompt's
    palette, pulled toward the reference image's colours when there is one.
    Point-wise, so it is cheap (two table look-ups per pixel) and a flat
    source gives a flat result.
    """

    def __init__(self, curve: FloatArray, ramp: FloatArray) -> None:
        self._curve = curve  # (3, 256): already scaled by 1 - mix
        self._ramp = ramp  # (256, 3): already scaled by mix

    @classmethod
    def choose(
        cls,
        look: Look,
        reference: Frame | None,
        first: Frame,
        *,
        mix: float = RESTYLE_MIX,
        min_change: float = _RESTYLE_MIN_CHANGE,
    ) -> Restyle:
        """The first candidate that visibly changes `first`, else the one that changes it most.

        `mix` is the ramp's share (video_to_video's 0.6 by default; image_to_image
        uses less so the edit stays recognisably the input).
        """
        stops = [np.asarray(c, dtype=np.float64) for c in look.palette]
        if reference is not None:
            ref = reference_stops(reference)
            stops = [0.75 * r + 0.25 * s for r, s in zip(ref, stops, strict=True)]
        stops.sort(key=luminance)
        complement = [255.0 - s for s in stops[::-1]]
        candidates = [stops, stops[::-1], complement, complement[::-1]]
        sample = first[:: max(1, first.shape[0] // 64), :: max(1, first.shape[1] // 64)]
        best: tuple[float, Restyle] | None = None
        for candidate in candidates:
            restyle = cls(_restyle_curve(look, mix), _restyle_ramp(candidate, mix))
            change = float(np.abs(restyle.apply(sample).astype(np.int16) - sample).mean())
            if change >= min_change:
                return restyle
            if best is None or change > best[0]:
                best = (change, restyle)
        assert best is not None
        return best[1]

    def apply(self, frame: Frame) -> Frame:
        luma = (frame @ LUMA).astype(np.uint8)
        out = self._ramp[luma]
        for c in range(3):
            out[..., c] += self._curve[c][frame[..., c]]
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _restyle_curve(look: Look, mix: float) -> FloatArray:
    levels = np.arange(256, dtype=np.float64) / 255.0
    kx, ky, _, _, _, _ = look.waves
    gammas = (0.6 + 0.5 * kx / 2.2, 0.6 + 0.5 * ky / 2.2, 0.6 + 0.25 * (kx + ky) / 2.2)
    curve: FloatArray = np.stack([(1.0 - mix) * 255.0 * levels**g for g in gammas])
    return curve


def _restyle_ramp(stops: list[FloatArray], mix: float) -> FloatArray:
    x = np.arange(256, dtype=np.float64) / 255.0
    dark, middle, bright = stops
    lower = np.clip(x * 2.0, 0.0, 1.0)[:, None]
    upper = np.clip(x * 2.0 - 1.0, 0.0, 1.0)[:, None]
    ramp = np.where(
        x[:, None] < 0.5, dark + (middle - dark) * lower, middle + (bright - middle) * upper
    )
    scaled: FloatArray = mix * ramp
    return scaled
