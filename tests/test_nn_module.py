"""Module: parameters found by name, zero_grad, train/eval, state dicts."""
import math

import pytest

from glassgrad.engine import Value
from glassgrad.nn import MLP, Dropout, Module, Neuron


def expected_mlp_names(nin, nouts):
    """The dotted names an MLP should have, spelled out from its sizes."""
    names = []
    for i, (fan_in, width) in enumerate(zip([nin] + nouts, nouts)):
        for j in range(width):
            names += [f"layers.{i}.neurons.{j}.w.{k}" for k in range(fan_in)]
            names.append(f"layers.{i}.neurons.{j}.b")
    return names


@pytest.mark.parametrize("nin, nouts", [(2, [16, 16, 1]), (3, [4, 2]), (1, [1])])
def test_mlp_parameter_names_follow_attribute_paths(nin, nouts):
    model = MLP(nin, nouts, seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names == expected_mlp_names(nin, nouts)
    assert len(model.parameters()) == sum((fan_in + 1) * width
                                          for fan_in, width in zip([nin] + nouts, nouts))


def test_parameters_are_the_named_values_in_the_same_order():
    model = MLP(2, [3, 1], seed=0)
    assert model.parameters() == [value for _, value in model.named_parameters()]
    assert model.parameters()[0] is model.layers[0].neurons[0].w[0]
    assert model.parameters()[-1] is model.layers[-1].neurons[-1].b


class Custom(Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.inner = Neuron(2, seed=0)
        self.offsets = [Value(0.1), Value(0.2)]
        self.blocks = [Neuron(1, seed=1), Neuron(1, seed=2)]
        self._cache = Value(9.0)        # private: not a parameter
        self.note = "not a parameter"
        self.sizes = [1, 2, 3]          # numbers: not parameters


def test_custom_module_finds_values_lists_and_submodules_in_definition_order():
    names = [name for name, _ in Custom().named_parameters()]
    assert names == ["scale", "inner.w.0", "inner.w.1", "inner.b", "offsets.0", "offsets.1",
                     "blocks.0.w.0", "blocks.0.b", "blocks.1.w.0", "blocks.1.b"]


def test_a_shared_parameter_is_listed_once_under_its_first_name():
    module = Custom()
    module.alias = module.scale
    module.again = module.inner
    names = [name for name, _ in module.named_parameters()]
    assert names.count("scale") == 1 and "alias" not in names
    assert not any(name.startswith("again.") for name in names)


def test_a_module_that_refers_to_itself_is_walked_once():
    module = Custom()
    module.itself = module
    assert len(module.parameters()) == len(Custom().parameters())


def test_zero_grad_resets_every_parameter_gradient():
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    model([0.5, -1.5]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_reach_every_submodule():
    model = MLP(2, [4, 4, 1], dropout=0.5, seed=0)
    assert all(module.training for module in model.modules())
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())
    assert sum(isinstance(module, Dropout) for module in model.modules()) == 2


def test_state_dict_round_trip_restores_every_parameter():
    source, target = MLP(2, [4, 1], seed=1), MLP(2, [4, 1], seed=2)
    assert source.state_dict() != target.state_dict()
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    assert all(isinstance(number, float) for number in target.state_dict().values())


def test_state_dict_holds_numbers_not_the_live_values():
    model = MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    model.parameters()[0].data += 1.0
    assert state["layers.0.neurons.0.w.0"] == model.parameters()[0].data - 1.0


def _with(state, **changes):
    new = dict(state)
    new.update(changes)
    return new


BAD_STATES = {
    "missing": (lambda s: {k: v for k, v in s.items() if k != "layers.0.neurons.1.w.0"},
                "parameter 'layers.0.neurons.1.w.0' is missing"),
    "extra": (lambda s: _with(s, bogus=1.0), "parameter 'bogus' is not in this model"),
    "string": (lambda s: _with(s, **{"layers.0.neurons.0.b": "0.5"}), "must be a number, got str"),
    "bool": (lambda s: _with(s, **{"layers.0.neurons.0.b": True}), "must be a number, got bool"),
    "nested": (lambda s: _with(s, **{"layers.0.neurons.0.b": [0.5]}), "must be a number, got list"),
    "nan": (lambda s: _with(s, **{"layers.0.neurons.0.b": math.nan}), "must be finite"),
    "inf": (lambda s: _with(s, **{"layers.0.neurons.0.b": -math.inf}), "must be finite"),
    "not a mapping": (lambda s: list(s.items()), "expected a mapping"),
}


@pytest.mark.parametrize("case", BAD_STATES)
def test_load_state_dict_rejects_a_bad_state_and_changes_nothing(case):
    make_bad, message = BAD_STATES[case]
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    good = {name: number + 1.0 for name, number in before.items()}
    with pytest.raises(ValueError, match="load_state_dict: .*" + message.replace("(", r"\(")):
        model.load_state_dict(make_bad(good))
    assert model.state_dict() == before


def test_load_state_dict_not_strict_loads_the_names_both_have():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    model.load_state_dict({"layers.1.neurons.0.b": 4.0, "unrelated": 1.0}, strict=False)
    after = model.state_dict()
    assert after.pop("layers.1.neurons.0.b") == 4.0
    before.pop("layers.1.neurons.0.b")
    assert after == before


def test_a_module_without_a_forward_pass_says_what_to_define():
    with pytest.raises(NotImplementedError, match="Custom must define __call__"):
        Custom()([1.0])
