"""A Qwen2-VL processor without the video processor, for the tiny Qwen-Image-Edit checkpoint.

transformers 5's `Qwen2VLProcessor` requires a video processor, which needs
torchvision; torchvision's PyPI wheels are CUDA builds that do not import
beside the CPU torch of the tests. Image editing needs only the image
processor and the tokenizer. model_index.json records the class as
`["tests.qwen_processor", "ImageOnlyQwen2VLProcessor"]`, so the engine's
child loads it back from this module.
"""

from __future__ import annotations

from typing import Any

from transformers import Qwen2VLProcessor
from transformers.processing_utils import ProcessorMixin


class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):  # type: ignore[misc]
    @classmethod
    def get_attributes(cls) -> list[str]:
        return ["image_processor", "tokenizer"]

    def __init__(
        self,
        image_processor: Any = None,
        tokenizer: Any = None,
        chat_template: Any = None,
        **_: Any,
    ) -> None:
        self.image_token = "<|image_pad|>"
        self.video_token = "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)


def image_only_processor(tokenizer: Any) -> ImageOnlyQwen2VLProcessor:
    from transformers import Qwen2VLImageProcessorPil

    return ImageOnlyQwen2VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(),
        tokenizer=tokenizer,
        chat_template=tokenizer.chat_template,
    )
