"""Neuron, Layer, MLP and Dropout: forward maths, micrograd's defaults, shapes and errors."""
import math
import random

import pytest

from glassgrad.engine import Value, gradcheck, topological_order
from glassgrad.nn import ACTIVATIONS, MLP, Dropout, Layer, Neuron

# The activations written out with math, independently of the engine's op table.
REFERENCE = {
    "relu": lambda z: max(z, 0.0),
    "tanh": math.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "linear": lambda z: z,
    "step": lambda z: 1.0 if z > 0 else 0.0,
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
}


def test_every_activation_has_a_reference():
    assert set(REFERENCE) == set(ACTIVATIONS)


@pytest.mark.parametrize("activation", REFERENCE)
@pytest.mark.parametrize("x", [[0.5, -1.5, 2.0], [-3.0, 0.25, -0.5]])
def test_neuron_applies_its_activation_to_bias_plus_weighted_sum(activation, x):
    neuron = Neuron(3, activation, seed=4)
    neuron.b.data = 0.3
    z = neuron.b.data + sum(w.data * x_i for w, x_i in zip(neuron.w, x))
    assert neuron(x).data == pytest.approx(REFERENCE[activation](z), rel=1e-12, abs=1e-15)


def test_neuron_graph_has_one_product_and_one_sum_per_input():
    out = Neuron(3, "linear", seed=0)([1.0, 2.0, 3.0])
    op_names = [node.op.name for node in topological_order(out) if node.op]
    assert op_names.count("mul") == 3
    assert op_names.count("add") == 3
    assert out.op.name == "add"


def test_parameters_are_labelled_for_drawings():
    neuron = Neuron(3, seed=0)
    assert [w.label for w in neuron.w] == ["w0", "w1", "w2"]
    assert neuron.b.label == "b"


def test_an_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'gelu'.*'relu'.*'leaky_relu'"):
        Neuron(2, activation="gelu")


def test_defaults_are_micrographs_weights_in_unit_interval_and_zero_biases():
    model = MLP(2, [16, 16, 1], seed=0)
    neurons = [n for layer in model.layers for n in layer.neurons]
    assert all(-1.0 <= w.data <= 1.0 for n in neurons for w in n.w)
    assert all(n.b.data == 0.0 for n in neurons)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not():
    assert MLP(2, [4, 1], seed=7).state_dict() == MLP(2, [4, 1], seed=7).state_dict()
    assert MLP(2, [4, 1], seed=7).state_dict() != MLP(2, [4, 1], seed=8).state_dict()


def test_without_a_seed_weights_come_from_the_global_random_in_order():
    random.seed(1337)
    model = MLP(2, [3, 2])
    random.seed(1337)
    draws = [random.uniform(-1.0, 1.0) for _ in range(2 * 3 + 3 * 2)]
    weights = [p.data for name, p in model.named_parameters() if not name.endswith(".b")]
    assert weights == draws


def test_an_rng_instance_is_used_as_given():
    assert (MLP(2, [4, 1], rng=random.Random(3)).state_dict()
            == MLP(2, [4, 1], seed=3).state_dict())
    with pytest.raises(ValueError, match="seed= or rng=, not both"):
        MLP(2, [4, 1], seed=3, rng=random.Random(3))


def test_a_single_output_middle_layer_does_not_break_the_next_layer():
    model = MLP(2, [16, 1, 1], seed=0)
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    out.backward()
    assert all(math.isfinite(p.grad) for p in model.parameters())


def test_mlp_gradients_with_respect_to_inputs_agree_with_finite_differences():
    model = MLP(2, [5, 1, 3, 1], activation="tanh", seed=3)
    gradcheck(lambda a, b: model([a, b]), [0.4, -0.7])


def test_mlp_returns_a_value_for_one_output_and_a_list_for_several():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    outputs = MLP(2, [3, 4], seed=0)([1.0, 2.0])
    assert isinstance(outputs, list) and len(outputs) == 4


def test_layer_returns_a_list_even_for_one_neuron():
    outputs = Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(outputs, list) and len(outputs) == 1


def test_models_accept_values_and_a_lone_number_for_one_input():
    model = MLP(1, [2, 1], seed=0)
    assert model(0.5).data == model([Value(0.5)]).data == model([0.5]).data


@pytest.mark.parametrize("module, message", [
    (MLP(2, [16, 1], seed=0), "MLP(2, [16, 1]) expects 2 inputs, got 3"),
    (Layer(2, 4, seed=0), "Layer(2, 4, activation='relu') expects 2 inputs, got 3"),
    (Neuron(2, seed=0), "Neuron(2, activation='relu') expects 2 inputs, got 3"),
])
def test_the_wrong_number_of_inputs_is_named_in_the_error(module, message):
    with pytest.raises(ValueError) as error:
        module([1.0, 2.0, 3.0])
    assert str(error.value) == message


@pytest.mark.parametrize("args", [(0, [1]), (2, []), (2, 3), (2, [4, 0]), (2.5, [1])])
def test_impossible_sizes_are_refused(args):
    with pytest.raises(ValueError):
        MLP(*args)


def test_reprs_show_the_architecture():
    assert repr(MLP(2, [16, 16, 1], seed=0)) == "MLP(2, [16, 16, 1])"
    assert repr(MLP(3, [4, 2], activation="tanh", dropout=0.25, seed=0)) == \
        "MLP(3, [4, 2], activation='tanh', dropout=0.25)"
    assert repr(Dropout(0.1)) == "Dropout(p=0.1)"


# ------------------------------------------------------------------- dropout


def test_dropout_in_eval_mode_is_the_identity():
    x = [Value(1.0), Value(-2.0), Value(3.0)]
    assert Dropout(0.5, seed=0).eval()(x) == x


def test_dropout_in_training_zeroes_or_scales_each_input_by_its_mask():
    p = 0.4
    dropout = Dropout(p, seed=1)
    x = [Value(float(i) + 0.5) for i in range(50)]
    out = dropout(x)
    assert set(dropout.mask) == {0.0, 1.0 / (1.0 - p)}
    assert [o.data for o in out] == [x_i.data * m for x_i, m in zip(x, dropout.mask)]


def test_dropout_drops_about_a_fraction_p_of_inputs():
    dropout = Dropout(0.3, seed=2)
    dropout([0.0] * 20_000)
    dropped = dropout.mask.count(0.0) / 20_000
    assert abs(dropped - 0.3) < 0.02  # seeded, so this exact draw always passes or fails


def test_dropout_masks_are_reproducible_from_the_seed():
    first, second = Dropout(0.5, seed=9), Dropout(0.5, seed=9)
    first([1.0] * 30)
    second([1.0] * 30)
    assert first.mask == second.mask


def test_dropout_gradient_is_the_mask():
    dropout = Dropout(0.5, seed=3)
    x = [Value(2.0) for _ in range(20)]
    out = dropout(x)
    total = out[0]
    for o in out[1:]:
        total = total + o
    total.backward()
    assert [x_i.grad for x_i in x] == dropout.mask


def test_mlp_with_dropout_is_deterministic_only_in_eval_mode():
    model = MLP(2, [32, 1], dropout=0.5, seed=0)
    x = [0.3, -0.8]
    training_outputs = {model(x).data for _ in range(10)}
    model.eval()
    assert len(training_outputs) > 1
    assert len({model(x).data for _ in range(10)}) == 1


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "half"])
def test_dropout_probability_must_be_in_zero_one(p):
    with pytest.raises(ValueError, match="Dropout: p"):
        Dropout(p)


def test_mlp_checks_its_dropout_probability_even_without_hidden_layers():
    with pytest.raises(ValueError, match="MLP: dropout"):
        MLP(2, [1], dropout=1.5)
