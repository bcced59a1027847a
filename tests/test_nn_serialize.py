"""Saving to JSON and loading back: exact round trips, and bad files that change nothing."""
import json
import os
import pickle

import pytest

from glassgrad.nn import MLP
from glassgrad.nn.serialize import FORMAT, MAX_FILE_BYTES


def saved(tmp_path, model, name="model.json"):
    path = tmp_path / name
    model.save(path)
    return path


def test_save_then_load_round_trips_every_parameter_exactly(tmp_path):
    source = MLP(2, [16, 16, 1], seed=1)
    target = MLP(2, [16, 16, 1], seed=2)
    assert target.load(saved(tmp_path, source)) is target
    assert target.state_dict() == source.state_dict()


def test_a_saved_file_is_json_with_a_header(tmp_path):
    model = MLP(2, [16, 1], seed=0)
    document = json.loads(saved(tmp_path, model).read_text())
    assert document["format"] == FORMAT
    assert document["version"] == 1
    assert document["model"] == "MLP(2, [16, 1])"
    assert document["parameter_count"] == len(model.parameters())
    assert document["parameters"] == model.state_dict()


def test_save_leaves_only_the_model_file_behind(tmp_path):
    saved(tmp_path, MLP(2, [2, 1], seed=0))
    saved(tmp_path, MLP(2, [2, 1], seed=1))  # overwriting works too
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


def test_loading_a_file_for_another_architecture_names_both_models(tmp_path):
    path = saved(tmp_path, MLP(2, [16, 1], seed=0))
    model = MLP(2, [16, 16, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError) as error:
        model.load(path)
    message = str(error.value)
    assert message.startswith(str(path) + ": parameter ")
    assert "The file is for MLP(2, [16, 1]); this model is MLP(2, [16, 16, 1])" in message
    assert model.state_dict() == before


def edit_document(change):
    """A bad-file case that edits the parsed JSON document."""
    def make(text):
        document = json.loads(text)
        change(document)
        return json.dumps(document)
    return make


def drop_first(document):
    document["parameters"].pop("layers.0.neurons.0.w.0")
    document["parameter_count"] -= 1


def add_extra(document):
    document["parameters"]["surprise"] = 0.5
    document["parameter_count"] += 1


def set_field(key, value):
    return edit_document(lambda document: document.__setitem__(key, value))


def set_bias(value):
    return edit_document(lambda document: document["parameters"].__setitem__("layers.0.neurons.1.b", value))


def replace_bias_text(literal):
    """Put ``literal`` into the JSON text where a bias number stands."""
    def make(text):
        document = json.loads(text)
        document["parameters"]["layers.0.neurons.1.b"] = "HERE"
        return json.dumps(document).replace('"HERE"', literal)
    return make


BAD_FILES = {
    "missing parameter": (edit_document(drop_first), "parameter 'layers.0.neurons.0.w.0' is missing"),
    "extra parameter": (edit_document(add_extra), "parameter 'surprise' is not in this model"),
    "wrong count": (set_field("parameter_count", 3), "parameter_count 3"),
    "string": (set_bias("0.5"), "'layers.0.neurons.1.b' must be a number, got str"),
    "bool": (set_bias(False), "must be a number, got bool"),
    "nested": (set_bias({"value": 0.5}), "must be a number, got dict"),
    "null": (set_bias(None), "must be a number, got NoneType"),
    "NaN literal": (replace_bias_text("NaN"), "contains NaN"),
    "Infinity literal": (replace_bias_text("-Infinity"), "contains -Infinity"),
    "overflowing number": (replace_bias_text("1e999"), "must be finite"),
    "huge integer": (replace_bias_text("9" * 400), "must be finite"),
    "truncated": (lambda text: text[: len(text) // 2], "not valid JSON, the file may be truncated"),
    "empty": (lambda text: "", "not valid JSON"),
    "not UTF-8": (lambda text: b"\xff\xfe\x00garbage", "not UTF-8"),
    "a list": (lambda text: "[1, 2, 3]", "not a glassgrad model file"),
    "another format": (set_field("format", "other"), "not a glassgrad model file"),
    "newer version": (set_field("version", 99), "version 99 is not supported"),
    "parameters not an object": (set_field("parameters", [1.0]), '"parameters" must be'),
    "duplicate name": (lambda text: text.replace('"layers.0.neurons.0.b"', '"layers.0.neurons.0.w.0"'),
                       "'layers.0.neurons.0.w.0' appears twice"),
    "deeply nested": (lambda text: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_raises_a_clear_error_and_changes_nothing(tmp_path, case):
    make_bad, message = BAD_FILES[case]
    path = saved(tmp_path, MLP(2, [3, 1], seed=1))
    bad = make_bad(path.read_text())
    path.write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    model = MLP(2, [3, 1], seed=2)
    model.parameters()[0].grad = 0.25
    before = model.state_dict()
    with pytest.raises(ValueError) as error:
        model.load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert model.state_dict() == before
    assert model.parameters()[0].grad == 0.25


def test_an_oversized_file_is_refused_without_parsing(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # a sparse file: instant to make
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="larger than the limit"):
        model.load(path)
    assert model.state_dict() == before


def test_a_missing_file_is_a_value_error_that_names_it(tmp_path):
    with pytest.raises(ValueError, match="nowhere.json: cannot read the file"):
        MLP(2, [3, 1], seed=0).load(tmp_path / "nowhere.json")


class LeavesAMark:
    """A pickle that would create a file if it were ever unpickled."""

    def __init__(self, mark):
        self.mark = mark

    def __reduce__(self):
        return (open, (str(self.mark), "w"))


def test_loading_never_executes_anything_in_the_file(tmp_path):
    mark = tmp_path / "executed"
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps(LeavesAMark(mark)))
    with pytest.raises(ValueError):
        MLP(2, [3, 1], seed=0).load(path)
    assert not mark.exists()


def test_load_not_strict_takes_the_parameters_both_models_have(tmp_path):
    small = MLP(2, [3, 1], seed=1)
    bigger = MLP(2, [3, 1, 1], seed=2)
    bigger.load(saved(tmp_path, small), strict=False)
    for name, number in small.state_dict().items():
        assert bigger.state_dict()[name] == number
