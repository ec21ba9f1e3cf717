"""A tiny ONNX background-removal model for the `rembg` engine's tests and bench."""

from __future__ import annotations

from pathlib import Path

SIDE = 320


def red_channel_model(path: Path) -> Path:
    """An ONNX file: (1, 3, 320, 320) float -> its channel 0 as (1, 1, 320, 320)."""
    import onnx
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], [1.0, 0.0, 0.0])
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input.1", "w"], ["mask"])],
        "red",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, SIDE, SIDE])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
