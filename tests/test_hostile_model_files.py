"""Hostile model files: every damaged, wrong or malicious JSON file is refused with a
ValueError naming the file and the problem, and the model is left exactly as it was.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import glassgrad.nn as nn
from glassgrad.nn import serialize


def model() -> nn.MLP:
    return nn.MLP(2, [3, 1], seed=0)


def good_document() -> dict:
    saved = model()
    saved.layers[0].neurons[0].w[0].data = 0.125   # differs from a fresh model's value
    return {"format": "glassgrad-module", "version": 1, "model": repr(saved),
            "parameter_count": len(saved.state_dict()), "parameters": saved.state_dict()}


def with_parameter(name_index: int, number: object) -> str:
    document = good_document()
    name = list(document["parameters"])[name_index]
    document["parameters"][name] = number
    return json.dumps(document)


def _wrong_shape() -> str:
    document = good_document()
    document["parameters"] = nn.MLP(2, [4, 1], seed=0).state_dict()
    document["parameter_count"] = len(document["parameters"])
    return json.dumps(document)


def _duplicate_name() -> str:
    text = json.dumps(good_document())
    first = next(iter(good_document()["parameters"]))
    return text.replace('"parameters": {', f'"parameters": {{"{first}": 1.0, ', 1)


FILES = {  # id: (file contents as text or bytes, words the message must contain)
    "truncated": (json.dumps(good_document())[:100], "not valid JSON"),
    "empty": ("", "not valid JSON"),
    "not JSON at all": ("MLP weights v1\n0.1 0.2", "not valid JSON"),
    "JSON list, not object": ("[1, 2, 3]", "not a glassgrad model file"),
    "missing header": (json.dumps({"parameters": {}}), "not a glassgrad model file"),
    "future version": (json.dumps({**good_document(), "version": 99}), "version 99"),
    "parameters is a list": (json.dumps({**good_document(), "parameters": [1.0]}),
                             "\"parameters\" must be an object"),
    "count disagrees": (json.dumps({**good_document(), "parameter_count": 3}),
                        "parameter_count 3"),
    "wrong shape (MLP(2,[4,1]))": (_wrong_shape(), "is not in this model"),
    "parameter is a string": (with_parameter(0, "0.5"), "must be a number"),
    "parameter is null": (with_parameter(1, None), "must be a number"),
    "parameter is a list": (with_parameter(2, [0.5]), "must be a number"),
    "parameter is a bool": (with_parameter(0, True), "must be a number"),
    "parameter is NaN": (with_parameter(0, float("nan")), "NaN"),
    "parameter is Infinity": (with_parameter(0, float("inf")), "Infinity"),
    "parameter 1e400 (float overflow)": (with_parameter(0, "@").replace('"@"', "1e400"),
                                         "finite"),
    "parameter 10**400 (huge int)": (with_parameter(0, 10 ** 400), "finite"),
    "duplicate parameter name": (_duplicate_name(), "appears twice"),
    "not UTF-8": (b"\xff\xfe{\x00", "not UTF-8"),
    "nested 100000 deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("contents, words", FILES.values(), ids=FILES.keys())
def test_hostile_model_file_is_refused_and_model_unchanged(tmp_path: Path, contents, words) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    target = model()
    before = target.state_dict()
    with pytest.raises(ValueError) as raised:
        target.load(path)
    assert str(path) in str(raised.value) and words in str(raised.value), str(raised.value)
    assert target.state_dict() == before


def test_oversized_model_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as file:          # a sparse file: no 32 MB written to disk
        file.seek(serialize.MAX_FILE_BYTES)
        file.write(b" ")
    target = model()
    before = target.state_dict()
    with pytest.raises(ValueError, match="larger than the limit"):
        target.load(path)
    assert target.state_dict() == before


def test_missing_model_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    target = model()
    with pytest.raises(ValueError, match="cannot read the file"):
        target.load(tmp_path / "nowhere.json")


def test_good_file_loads_exactly_so_the_hostile_cases_are_meaningful(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(good_document()))
    target = model()
    target.load(path)
    assert target.state_dict() == good_document()["parameters"]


def test_load_state_dict_with_hostile_values_changes_nothing() -> None:
    target = model()
    before = target.state_dict()
    for bad in ({"layers.0.neurons.0.w.0": "x"}, {**before, "extra": 1.0}, [1.0],
                {name: float("nan") for name in before}):
        with pytest.raises(ValueError):
            target.load_state_dict(bad)
        assert target.state_dict() == before
