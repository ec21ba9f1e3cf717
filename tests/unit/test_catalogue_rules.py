"""Every model's own rules, generated from the catalogue: each field's rule gives its 422.

The cases are built from each model's schema and valid `example`, so every
required field, enum, range, length, item count, type and media field of every
served model is exercised.
"""

from __future__ import annotations

import base64
import copy
from functools import cache
from typing import Any

import pytest

from reelserve import catalogue
from reelserve.catalogue import extras
from reelserve.catalogue.fields import media_kind
from reelserve.errors import ValidationFailed

MB = 1024 * 1024
BIG = 1024 * MB  # the server's own cap, out of the way of x-max-mb
WRONG_TYPE = {"string": {"a": 1}, "number": "abc", "integer": "abc", "boolean": "maybe",
              "array": 5, "object": 5}  # fmt: skip
URLS = {
    "image": "https://media.example.com/a.png",
    "video": "https://media.example.com/a.mp4",
    "audio": "https://media.example.com/a.mp3",
}


def _listing(allowed: list[Any]) -> str:
    return ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in allowed)


def _fields() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (m.name, field, spec)
        for m in catalogue.models()
        for field, spec in m.schema["properties"].items()
    ]


def _at(field: str, spec: dict[str, Any]) -> str:
    """Where a problem with the field's (first) value is reported."""
    return f"{field}[0]" if spec.get("type") == "array" else field


def _grouped(name: str) -> set[str]:
    """Fields whose absence another rule of the model cares about (extras.ONE_OF, REQUIRED_WHEN)."""
    fields = {f for group in extras.ONE_OF.get(name, ()) for f in group}
    return fields | {flag for flag, _ in extras.REQUIRED_WHEN.get(name, ())}


def _one(spec: dict[str, Any], value: Any) -> Any:
    """`value` shaped like the field: in a list for array fields."""
    return [value] if spec.get("type") == "array" else value


def _bad_cases() -> list[Any]:
    cases: list[Any] = []

    def add(name: str, changes: dict[str, Any], field: str, problem: str, tag: str) -> None:
        cases.append(pytest.param(name, changes, field, problem, id=f"{name}-{tag}"))

    for m in catalogue.models():
        for field in m.schema["required"]:
            add(m.name, {field: DROP}, field, "is required", f"{field}-missing")
    for name, field, spec in _fields():
        kind = spec.get("type")
        if "enum" in spec:
            bad = "not-an-option" if kind == "string" else 123456.5
            add(
                name,
                {field: bad},
                field,
                "must be one of " + _listing(spec["enum"]),
                f"{field}-enum",
            )
        if kind in ("number", "integer") and "enum" not in spec:
            step = 1 if kind == "integer" else 0.5
            if "minimum" in spec:
                add(name, {field: spec["minimum"] - step}, field, "must be", f"{field}-below")
            if "maximum" in spec:
                add(name, {field: spec["maximum"] + step}, field, "must be", f"{field}-above")
        if kind == "string" and "maxLength" in spec and "enum" not in spec:
            long = "x" * (spec["maxLength"] + 1)
            add(name, {field: long}, field, "characters", f"{field}-too-long")
        if kind == "string" and spec.get("minLength", 0) > 1:
            short = "x" * (spec["minLength"] - 1)
            add(name, {field: short}, field, "characters", f"{field}-too-short")
        if kind == "array":
            item = _item(field, spec)
            if "maxItems" in spec:
                many = [item] * (spec["maxItems"] + 1)
                add(name, {field: many}, field, "items", f"{field}-too-many")
            if spec.get("minItems", 0) > 1:
                few = [item] * (spec["minItems"] - 1)
                add(name, {field: few}, field, "items", f"{field}-too-few")
        if kind in WRONG_TYPE:
            add(name, {field: WRONG_TYPE[kind]}, field, "must be", f"{field}-type")
        if media_kind(field, spec) is None:
            continue
        at = _at(field, spec)
        if spec.get("x-accept"):
            uri = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
            add(name, {field: _one(spec, uri)}, at, "data: URI must be one of", f"{field}-mime")
        if spec.get("x-max-mb") and spec["x-max-mb"] <= 10:
            mime = spec["x-accept"][0] if spec.get("x-accept") else "image/png"
            uri = _oversized(mime, spec["x-max-mb"])
            add(
                name,
                {field: _one(spec, uri)},
                at,
                f"at most {spec['x-max-mb']:g} MB",
                f"{field}-big",
            )
        add(name, {field: _one(spec, "ftp://x.example/a")}, at, "http(s) URL", f"{field}-url")
    return cases


DROP = object()


def _item(field: str, spec: dict[str, Any]) -> Any:
    kind = media_kind(field, spec)
    if kind is not None:
        return URLS[kind]
    items = spec.get("items") or {}
    return {"string": "x", "integer": 1, "number": 1}.get(items.get("type", ""), {})


@cache
def _oversized(mime: str, mb: float) -> str:
    payload = base64.b64encode(b"\0" * (int(mb * MB) + 3)).decode()
    return f"data:{mime};base64,{payload}"


def _input(name: str, changes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(catalogue.resolve(name).example)
    for field, value in changes.items():
        if value is DROP:
            data.pop(field, None)
        else:
            data[field] = value
    return data


@pytest.mark.parametrize(("name", "changes", "field", "problem"), _bad_cases())
def test_each_broken_rule_of_each_model_is_422_naming_input_dot_field(
    name: str, changes: dict[str, Any], field: str, problem: str
) -> None:
    model = catalogue.resolve(name)
    with pytest.raises(ValidationFailed) as caught:
        catalogue.validate(model, _input(name, changes), source_max_bytes=BIG)
    assert caught.value.field == f"input.{field}", caught.value.message
    assert caught.value.message.startswith(f"input.{field}: ")
    assert problem in caught.value.message


def _lenient_cases() -> list[Any]:
    cases: list[Any] = []
    for name, field, spec in _fields():
        kind, enum = spec.get("type"), spec.get("enum")
        if kind == "string" and enum and all(str(v).lstrip("-").isdigit() for v in enum):
            cases.append(pytest.param(name, field, int(enum[-1]), str(enum[-1]),
                                      id=f"{name}-{field}-int-for-string"))  # fmt: skip
        if kind in ("number", "integer") and not enum:
            number = spec.get("maximum", spec.get("minimum", 3))
            cases.append(pytest.param(name, field, f"{number}", number,
                                      id=f"{name}-{field}-string-for-number"))  # fmt: skip
        if kind in ("number", "integer") and enum:
            cases.append(pytest.param(name, field, str(enum[-1]), enum[-1],
                                      id=f"{name}-{field}-string-for-enum"))  # fmt: skip
        if kind == "boolean" and field not in _grouped(name):
            cases.append(pytest.param(name, field, "true", True, id=f"{name}-{field}-true"))
            cases.append(pytest.param(name, field, "False", False, id=f"{name}-{field}-false"))
    return cases


@pytest.mark.parametrize(("name", "field", "sent", "kept"), _lenient_cases())
def test_lenient_types_are_accepted_and_normalized_to_the_schema_type(
    name: str, field: str, sent: Any, kept: Any
) -> None:
    model = catalogue.resolve(name)
    values = catalogue.validate(model, _input(name, {field: sent}))
    assert values[field] == kept
    assert type(values[field]) is type(kept) or isinstance(kept, float)


def _optional_cases() -> list[Any]:
    cases: list[Any] = []
    for m in catalogue.models():
        for field, spec in m.schema["properties"].items():
            if field in m.schema["required"] or field in _grouped(m.name):
                continue
            empty = [] if spec.get("type") == "array" else ""
            cases.append(pytest.param(m.name, field, empty, id=f"{m.name}-{field}-empty"))
            cases.append(pytest.param(m.name, field, None, id=f"{m.name}-{field}-null"))
    return cases


@pytest.mark.parametrize(("name", "field", "empty"), _optional_cases())
def test_an_empty_optional_field_means_absent(name: str, field: str, empty: Any) -> None:
    model = catalogue.resolve(name)
    absent = catalogue.validate(model, _input(name, {field: DROP}))
    assert catalogue.validate(model, _input(name, {field: empty})) == absent
    spec = model.schema["properties"][field]
    assert absent.get(field) == spec.get("default")


def _spaced_cases() -> list[Any]:
    return [
        pytest.param(name, field, spec["x-doc-name"], id=f"{name}-{field}")
        for name, field, spec in _fields()
        if "x-doc-name" in spec
    ]


@pytest.mark.parametrize(("name", "field", "doc_name"), _spaced_cases())
def test_trailing_space_field_names_are_accepted_with_and_without_the_space(
    name: str, field: str, doc_name: str
) -> None:
    model = catalogue.resolve(name)
    spec = model.schema["properties"][field]
    value = _one(spec, _item(field, spec) if spec.get("type") == "array" else "x")
    for sent in (doc_name, field):
        values = catalogue.validate(model, _input(name, {field: DROP, sent: value}))
        assert values[field] == value
        assert doc_name not in values or doc_name == field


def test_the_docs_trailing_space_names_are_there() -> None:
    assert len(_spaced_cases()) >= 4


def test_unknown_fields_are_ignored_and_left_out() -> None:
    model = catalogue.resolve("z-image")
    values = catalogue.validate(model, {"prompt": "A fox", "expandPrompt": True, "model": "x"})
    assert set(values) == {"prompt", "aspect_ratio"}


def test_a_data_uri_of_an_accepted_type_is_accepted_and_kept_as_text() -> None:
    model = catalogue.resolve("topaz/image-upscale")
    uri = "data:image/jpg;base64," + base64.b64encode(b"\xff\xd8\xff").decode()
    values = catalogue.validate(model, {"image_url": uri})
    assert values["image_url"] == uri
    assert values["upscale_factor"] == "2"


def test_the_servers_own_cap_applies_when_it_is_below_the_models() -> None:
    model = catalogue.resolve("nano-banana-2")  # x-max-mb 30
    uri = "data:image/png;base64," + base64.b64encode(b"\0" * 2048).decode()
    with pytest.raises(ValidationFailed, match=r"^input\.image_input\[0\]: .*1024 bytes"):
        catalogue.validate(model, {"prompt": "x", "image_input": [uri]}, source_max_bytes=1024)


def test_a_string_enum_matches_regardless_of_case_and_answers_the_documented_spelling() -> None:
    model = catalogue.resolve("hailuo/2-3-image-to-video-pro")
    values = catalogue.validate(model, {**model.example, "resolution": "1080p"})
    assert values["resolution"] == "1080P"


@pytest.mark.parametrize(
    ("name", "changes", "field"),
    [
        ("kling-3.0/video", {"multi_shots": True, "multi_prompt": [{"prompt": "a", "duration": 13}]},  # noqa: E501
         "input.multi_prompt[0].duration"),
        ("kling-3.0/video", {"multi_shots": True, "multi_prompt": [{"duration": 3}]},
         "input.multi_prompt[0].prompt"),
        ("kling-3.0/video", {"multi_shots": True}, "input.multi_prompt"),
        ("kling-3.0/video", {"prompt": DROP}, "input.prompt"),
        ("kling-3.0/video", {"kling_elements": [{"name": "cat", "element_input_urls": ["https://a.example/1.png"]}]},
         "input.kling_elements[0].element_input_urls"),
        ("elevenlabs/text-to-dialogue-v3", {"dialogue": [{"text": "hi", "voice": "nobody"}]},
         "input.dialogue[0].voice"),
        ("sora-2-pro-storyboard", {"shots": [{"duration": 5}]}, "input.shots[0].Scene"),
        ("wan/2-7-image", {"color_palette": [{"hex": "red", "ratio": "10.00%"}] * 3},
         "input.color_palette[0].hex"),
        ("grok-imagine/image-to-video", {"image_urls": DROP}, "input.image_urls"),
        ("grok-imagine/image-to-video", {"task_id": "task_grok_1"}, "input.task_id"),
    ],
)  # fmt: skip
def test_nested_and_cross_field_rules_name_their_path(
    name: str, changes: dict[str, Any], field: str
) -> None:
    model = catalogue.resolve(name)
    with pytest.raises(ValidationFailed) as caught:
        catalogue.validate(model, _input(name, changes))
    assert caught.value.field == field, caught.value.message


def test_a_shot_list_of_kling_3_is_accepted() -> None:
    model = catalogue.resolve("kling-3.0/video")
    shots = [{"prompt": "a fox", "duration": "3"}, {"prompt": "a hare", "duration": 4}]
    values = catalogue.validate(model, {"multi_shots": "true", "multi_prompt": shots})
    assert values["multi_prompt"] == [{"prompt": "a fox", "duration": 3}, shots[1]]
