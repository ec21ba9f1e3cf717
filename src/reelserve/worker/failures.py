"""Task outcomes that are the input's fault: they fail at once, without retries."""

from __future__ import annotations

GET_IMAGE_FAILED = "Get image info failed"
INCORRECT_IMAGE_FORMAT = "Incorrect image format"
GENERATION_FAILED = "Generation failed, please try again later"


class TaskFailure(Exception):
    """Ends the task with `fail_code` and `fail_msg` (spec §5 texts where they fit)."""

    def __init__(self, fail_msg: str, fail_code: int = 400, detail: str = "") -> None:
        super().__init__(f"{fail_msg} ({detail})" if detail else fail_msg)
        self.fail_msg = fail_msg
        self.fail_code = fail_code
        self.detail = detail


class EngineDown(Exception):
    """The engine cannot serve the task, and not through the input's fault (an upstream
    that is down, out of credits or failed): the task goes to its route's next engine,
    or fails (failCode 500, this message, refunded) when there is none."""
