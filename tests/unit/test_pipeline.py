from __future__ import annotations

from pathlib import Path

from reelserve.engines.base import Capability, EngineRequest
from reelserve.engines.fake import FakeEngine
from reelserve.media.decode import probe
from reelserve.worker.pipeline import RenderPlan, fitted, render


def request(frames: int = 24, width: int = 64, height: int = 48) -> EngineRequest:
    return EngineRequest(Capability.TEXT_TO_VIDEO, "p", width, height, frames, 24, seed=1)


def test_frames_of_another_size_are_fitted_to_the_request() -> None:
    req = request()
    out = FakeEngine(size=(32, 32)).run(req, lambda _: None)
    frames = list(fitted(out, req))
    assert len(frames) == 24 and all(f.shape == (48, 64, 3) for f in frames)


def test_fewer_frames_are_resampled_to_exactly_the_requested_count() -> None:
    req = request(frames=24)
    out = FakeEngine(frames=9).run(req, lambda _: None)
    values = [int(f[0, 0, 0]) for f in fitted(out, req)]
    assert len(values) == 24
    assert values == sorted(values) and values[0] == 0 and values[-1] == 8
    assert set(values) == set(range(9))


def test_render_writes_an_mp4_with_the_requested_count_and_a_cover(tmp_path: Path) -> None:
    progress: list[float] = []
    done = render(RenderPlan(request(frames=30), tmp_path), FakeEngine(frames=9), progress.append)
    info = probe(done.video)
    assert (info.width, info.height, info.frame_count) == (64, 48, 30)
    assert done.cover.read_bytes()[:4] == b"\x89PNG"
    assert progress and max(progress) <= 0.99


def test_render_puts_the_prefix_video_first(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = render(RenderPlan(request(frames=24), tmp_path / "a"), FakeEngine(), lambda _: None)
    plan = RenderPlan(
        request(frames=24), tmp_path / "b", prefix_video=first.video, prefix_frames=24
    )
    done = render(plan, FakeEngine(), lambda _: None)
    assert probe(done.video).frame_count == 48
    assert done.frames == 48
