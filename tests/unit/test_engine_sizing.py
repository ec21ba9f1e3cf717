"""Pure helpers of the diffusers engines: native size, r·k+1 frame counts, death reasons."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

from reelserve.engines.diffusers.sizing import (
    ceil_frames,
    floor_frames,
    generation_frames,
    native_size,
    to_uint8,
)
from reelserve.engines.isolated import death_reason
from reelserve.media.decode import read_last_frames
from reelserve.media.encode import Mp4Writer


@pytest.mark.parametrize(
    ("request_size", "native", "multiple", "expected"),
    [
        ((1280, 720), (768, 512), 32, (832, 480)),
        ((720, 1280), (768, 512), 32, (480, 832)),
        ((960, 960), (768, 512), 32, (640, 640)),
        ((1280, 720), (832, 480), 16, (848, 480)),
        ((1280, 720), (32, 32), 32, (32, 32)),
    ],
)
def test_the_native_area_takes_the_requests_aspect_in_model_multiples(
    request_size: tuple[int, int],
    native: tuple[int, int],
    multiple: int,
    expected: tuple[int, int],
) -> None:
    width, height = native_size(*request_size, *native, multiple)
    assert (width, height) == expected
    assert width % multiple == 0 and height % multiple == 0


def test_frame_counts_are_r_k_plus_one_and_capped() -> None:
    assert [floor_frames(n, 8) for n in (1, 8, 9, 16, 17, 121, 125)] == [1, 1, 9, 9, 17, 121, 121]
    assert [ceil_frames(n, 8) for n in (1, 2, 9, 10, 120)] == [1, 9, 9, 17, 121]
    # 5 s at 24 fps needs 120 frames: 121 covers it; 10 s is capped at the maximum.
    assert generation_frames(5, 24, 121, 8) == 121
    assert generation_frames(10, 24, 121, 8) == 121
    assert generation_frames(2, 24, 257, 8) == 49
    assert generation_frames(5, 16, 81, 4) == 81
    assert generation_frames(5, 24, 10, 8) == 9  # a maximum that is not 8k+1 is floored


def test_pipeline_floats_become_uint8_with_rounding_and_clipping() -> None:
    out = to_uint8(np.array([-0.1, 0.0, 0.5, 1.0, 1.2]))
    assert out.tolist() == [0, 0, 128, 255, 255]
    assert out.dtype == np.uint8


def test_a_dead_child_is_described_by_its_signal_or_exit_code() -> None:
    assert "killed by SIGKILL" in death_reason(-signal.SIGKILL)
    assert "out of memory" in death_reason(-signal.SIGKILL)
    assert "killed by SIGSEGV" in death_reason(-signal.SIGSEGV)
    assert death_reason(3) == "the engine process exited with code 3"


def test_read_last_frames_returns_the_tail_in_order(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    with Mp4Writer(path, 64, 48, 24, preset="ultrafast") as writer:
        for i in range(100):
            writer.write(np.full((48, 64, 3), i * 2, np.uint8))
    tail = read_last_frames(path, 25)
    assert len(tail) == 25
    levels = [int(np.median(f)) for f in tail]
    assert levels == sorted(levels)
    assert abs(levels[-1] - 198) <= 3 and abs(levels[0] - 150) <= 3
    assert len(read_last_frames(path, 500)) == 100
