"""The PyTorch twins of Neuron, Layer, MLP and the Keras-style Dense/Sequential, and the
twin machinery's errors. (Conv, recurrent and attention twins: their own test files.)"""
import sys

import pytest
from hypothesis import given, settings, strategies as st

from glassgrad.nn import MLP, Dense, Dropout, Layer, Module, Neuron, Sequential
from glassgrad.nn.twins import TWINS

from twin_check import as_values, close, nested

FEW = settings(max_examples=15)
TWIN_ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "linear"]


def torch_grads_by_neuron(theirs):
    """The twin's gradients in glassgrad's order: each neuron's weights, then its bias."""
    grads = []
    linears = [m for m in theirs if type(m).__name__ == "Linear"]
    for linear in linears:
        for j in range(linear.out_features):
            grads += linear.weight.grad[j].tolist() + [linear.bias.grad[j].item()]
    return grads


def compare_stack(ours, theirs, sample, seed):
    """Outputs and every parameter and input gradient agree (a sum of the outputs, weighted)."""
    import torch

    x_values = as_values(sample)
    x_tensor = torch.tensor(sample, dtype=torch.float64, requires_grad=True)
    out = ours(x_values)
    out = out if isinstance(out, list) else [out]
    reference = theirs(x_tensor)
    assert close([v.data for v in out], reference.tolist())
    coefficients = [((seed + k) % 7 - 3) / 3.0 + 0.1 for k in range(len(out))]
    loss = out[0] * coefficients[0]
    for value, c in zip(out[1:], coefficients[1:]):
        loss = loss + value * c
    loss.backward()
    (reference * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()
    assert close([p.grad for p in ours.parameters()], torch_grads_by_neuron(theirs))
    assert close([v.grad for v in x_values], x_tensor.grad.tolist())


@st.composite
def stack_cases(draw):
    nin = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    return (nin, sizes, draw(st.sampled_from(TWIN_ACTIVATIONS)), draw(st.sampled_from(TWIN_ACTIVATIONS)),
            draw(nested((nin,))), draw(st.integers(0, 2**16)))


@FEW
@given(case=stack_cases())
def test_neuron_layer_and_mlp_match_their_torch_twins_both_ways(case):
    torch = pytest.importorskip("torch")
    nin, sizes, hidden, last, sample, seed = case
    for ours in (Neuron(nin, last, seed=seed), Layer(nin, sizes[0], last, seed=seed),
                 MLP(nin, sizes, hidden, seed=seed, output_activation=last)):
        theirs = ours.to_torch()
        compare_stack(ours, theirs, sample, seed)
        theirs.zero_grad()
        torch.manual_seed(seed)
        with torch.no_grad():  # the same architecture with new weights, drawn by torch
            for p in theirs.parameters():
                p.uniform_(-1.0, 1.0)
        compare_stack(type(ours).from_torch(theirs), theirs, sample, seed)


@FEW
@given(case=stack_cases(), softmax=st.booleans())
def test_keras_dense_and_sequential_match_their_torch_twins_both_ways(case, softmax):
    pytest.importorskip("torch")
    nin, sizes, hidden, last, sample, seed = case
    last = "softmax" if softmax and sizes[-1] > 1 else last
    dense = Dense(sizes[-1], last, seed=seed)
    dense.build(nin)
    layers = [Dense(n, hidden) for n in sizes[:-1]] + [Dense(sizes[-1], last)]
    for ours in (dense, Sequential(layers, input_dim=nin, seed=seed)):
        theirs = ours.to_torch()
        compare_stack(ours, theirs, sample, seed)
        back = type(ours).from_torch(theirs)
        assert [p.data for p in back.parameters()] == [p.data for p in ours.parameters()]
        assert repr(back) == repr(ours)


def test_mlp_with_dropout_has_a_dropout_twin_and_comes_back_with_it():
    torch = pytest.importorskip("torch")
    model = MLP(2, [3, 3, 1], activation="tanh", dropout=0.25, seed=0)
    twin = model.to_torch()
    assert [type(m).__name__ for m in twin] == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    back = MLP.from_torch(twin)
    assert repr(back) == repr(model) and back.parameters()[0].data == model.parameters()[0].data
    assert MLP.from_torch(twin.eval()).training is False and model.eval().to_torch().training is False
    assert isinstance(Sequential.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5),
                                                                torch.nn.Linear(2, 1))).layers[1], Dropout)


def test_to_torch_then_from_torch_gives_back_the_same_numbers_for_every_twin_class():
    pytest.importorskip("torch")
    from glassgrad.nn import LSTM, RNN, Conv2d, Flatten, Linear, LSTMCell, MaxPool2d, RNNCell, SelfAttention
    dense = Dense(2, "tanh", seed=0)
    dense.build(3)
    examples = [Conv2d(2, 3, 2, seed=0), MaxPool2d(2), Flatten(), RNNCell(2, 3, seed=0), LSTMCell(2, 3, seed=0),
                RNN(2, 3, seed=0), LSTM(2, 3, seed=0), SelfAttention(2, seed=0), Linear(3, 2, seed=0),
                Dropout(0.3), Neuron(3, seed=0), Layer(3, 2, seed=0), MLP(3, [4, 1], seed=0), dense,
                Sequential([Dense(2)], input_dim=3, seed=0)]
    assert {type(m) for m in examples} == set(TWINS)
    for ours in examples:
        back = type(ours).from_torch(ours.to_torch())
        assert [p.data for p in back.parameters()] == [p.data for p in ours.parameters()], ours
        assert repr(back) == repr(ours)
        assert all(p.dtype.is_floating_point and p.dtype.itemsize == 8 for p in ours.to_torch().parameters())


def test_step_activation_has_no_torch_twin_and_says_what_to_use():
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="Neuron.to_torch: the 'step' activation has no torch.nn module"):
        Neuron(2, "step").to_torch()


def test_a_module_without_a_twin_says_which_modules_have_one():
    class Doubler(Module):
        def __call__(self, x):
            return [2 * v for v in x]

    with pytest.raises(TypeError, match="Doubler.to_torch: Doubler has no PyTorch twin; these do: Conv2d"):
        Doubler().to_torch()


def test_from_torch_refuses_a_torch_module_of_another_shape_or_kind():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with pytest.raises(ValueError, match="Neuron.from_torch: glassgrad has no twin for a Linear with 2 outputs"):
        Neuron.from_torch(nn.Sequential(nn.Linear(3, 2)))
    with pytest.raises(ValueError, match="takes 3 inputs but the Linear before it gives 2"):
        MLP.from_torch(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="LeakyReLU\\(negative_slope=0.2\\) \\(glassgrad's slope is 0.01\\)"):
        Layer.from_torch(nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.2)))
    with pytest.raises(ValueError, match="hidden layers with different activations"):
        MLP.from_torch(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)))
    with pytest.raises(ValueError, match="module 0, ReLU\\(\\), before the first Linear"):
        Layer.from_torch(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="Layer.from_torch takes a torch.nn.Sequential, got Linear"):
        Layer.from_torch(nn.Linear(2, 2))


def test_from_torch_refuses_a_weight_that_is_not_finite():
    torch = pytest.importorskip("torch")
    twin = Neuron(2, seed=0).to_torch()
    with torch.no_grad():
        twin[0].weight[0, 1] = float("nan")
    with pytest.raises(ValueError, match="Neuron.from_torch: a torch weight is nan"):
        Neuron.from_torch(twin)


def test_a_sequential_that_is_not_built_says_so_before_making_a_twin():
    pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="has no parameters yet"):
        Sequential([Dense(2)]).to_torch()


def test_without_torch_the_twins_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match="pip install torch"):
        Neuron(2, seed=0).to_torch()
    with pytest.raises(ImportError, match="pip install torch"):
        Neuron.from_torch(object())
