"""nn against PyTorch in float64: MLP outputs, every parameter gradient, each loss
(also at logits of +-1000), dropout with the same mask, and torch.optim's updates.

The whole module is skipped cleanly where torch is not installed.
"""
import math

import pytest

from glassgrad.engine import Value
from glassgrad.nn import (MLP, SGD, Adam, RMSprop, binary_cross_entropy_with_logits, hinge, l2, mse,
                softmax_cross_entropy)

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda h: h,
    "step": lambda h: (h > 0).double(),  # no gradient flows, as with the engine's step
    "leaky_relu": lambda h: F.leaky_relu(h, 0.01),
}

INPUTS = [[0.5, -1.2, 2.0], [-0.3, 0.8, -1.5], [1.1, 0.1, 0.4], [-2.0, -0.6, 0.9]]


def torch_copy(model):
    """One (weights, biases) pair of float64 leaf tensors per layer, holding the same numbers."""
    return [(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                          requires_grad=True),
             torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True))
            for layer in model.layers]


def torch_forward(model, layers, x, masks=()):
    """The model's forward pass written with torch matrices (masks: one per hidden layer)."""
    h = torch.tensor(x, dtype=torch.float64)
    last = len(layers) - 1
    for i, (weights, biases) in enumerate(layers):
        activation = model.layers[i].activation
        h = TORCH_ACTIVATIONS[activation](weights @ h + biases)
        if i < last and masks:
            h = h * torch.tensor(masks[i], dtype=torch.float64)
    return h


def torch_grads(layers):
    """Gradients in the order of model.parameters(): w0, w1, ..., b of each neuron."""
    grads = []
    for weights, biases in layers:
        w_grad = weights.grad if weights.grad is not None else torch.zeros_like(weights)
        b_grad = biases.grad if biases.grad is not None else torch.zeros_like(biases)
        for j in range(weights.shape[0]):
            grads += w_grad[j].tolist() + [b_grad[j].item()]
    return grads


def assert_close(ours, theirs):
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("activation", list(TORCH_ACTIVATIONS))
def test_mlp_outputs_and_parameter_gradients_match_torch(activation):
    model = MLP(3, [5, 4, 2], activation=activation, seed=11)
    layers = torch_copy(model)
    weights = [(0.7, -1.3), (2.0, 0.5), (-0.4, 1.1), (1.5, -2.5)]  # d loss / d output

    ours = None
    reference = 0.0
    for x, (c0, c1) in zip(INPUTS, weights):
        out0, out1 = model(x)
        term = c0 * out0 + c1 * out1
        ours = term if ours is None else ours + term
        h = torch_forward(model, layers, x)
        assert_close([out0.data, out1.data], h.tolist())
        reference = reference + c0 * h[0] + c1 * h[1]
    ours.backward()
    reference.backward()
    assert_close(ours.data, reference.item())
    assert_close([p.grad for p in model.parameters()], torch_grads(layers))


# name: (our loss, targets, the same loss written with torch)
SINGLE_OUTPUT_LOSSES = {
    "mse": (mse, [1.5, -0.5, 0.25, 2.0], lambda out, t: F.mse_loss(out, t)),
    "hinge": (hinge, [1, -1, -1, 1], lambda out, t: torch.relu(1 - t * out).mean()),
    "bce": (binary_cross_entropy_with_logits, [1, 0, 0, 1],
            lambda out, t: F.binary_cross_entropy_with_logits(out, t)),
}


@pytest.mark.parametrize("name", SINGLE_OUTPUT_LOSSES)
def test_single_output_losses_and_their_gradients_match_torch(name):
    loss, targets, torch_loss = SINGLE_OUTPUT_LOSSES[name]
    model = MLP(3, [5, 1], activation="tanh", seed=5)
    layers = torch_copy(model)
    ours = loss([model(x) for x in INPUTS], targets)
    outputs = torch.stack([torch_forward(model, layers, x)[0] for x in INPUTS])
    reference = torch_loss(outputs, torch.tensor(targets, dtype=torch.float64))
    ours.backward()
    reference.backward()
    assert_close(ours.data, reference.item())
    assert_close([p.grad for p in model.parameters()], torch_grads(layers))


def test_mse_over_several_outputs_per_sample_matches_torch():
    targets = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [0.25, 0.75, 1.5], [-1.0, 1.0, 0.0]]
    model = MLP(3, [4, 3], activation="sigmoid", seed=2)
    layers = torch_copy(model)
    ours = mse([model(x) for x in INPUTS], targets)
    reference = F.mse_loss(torch.stack([torch_forward(model, layers, x) for x in INPUTS]),
                           torch.tensor(targets, dtype=torch.float64))
    ours.backward()
    reference.backward()
    assert_close(ours.data, reference.item())
    assert_close([p.grad for p in model.parameters()], torch_grads(layers))


def test_softmax_cross_entropy_and_l2_match_torch():
    classes = [2, 0, 3, 1]
    alpha = 1e-3
    model = MLP(3, [6, 4], activation="tanh", seed=8)
    layers = torch_copy(model)
    ours = softmax_cross_entropy([model(x) for x in INPUTS], classes) + l2(model.parameters(), alpha)
    logits = torch.stack([torch_forward(model, layers, x) for x in INPUTS])
    penalty = sum((w ** 2).sum() + (b ** 2).sum() for w, b in layers)
    reference = F.cross_entropy(logits, torch.tensor(classes)) + alpha * penalty
    ours.backward()
    reference.backward()
    assert_close(ours.data, reference.item())
    assert_close([p.grad for p in model.parameters()], torch_grads(layers))


EXTREME = [1000.0, -1000.0, 0.0, 999.5]


@pytest.mark.parametrize("labels", [[1, 0, 1, 0], [0, 1, 0, 1]])
def test_bce_with_logits_is_exact_at_logits_of_a_thousand(labels):
    logits = [Value(z) for z in EXTREME]
    ours = binary_cross_entropy_with_logits(logits, labels)
    ours.backward()
    z = torch.tensor(EXTREME, dtype=torch.float64, requires_grad=True)
    reference = F.binary_cross_entropy_with_logits(z, torch.tensor(labels, dtype=torch.float64))
    reference.backward()
    assert math.isfinite(ours.data)
    assert_close(ours.data, reference.item())
    assert_close([v.grad for v in logits], z.grad.tolist())


@pytest.mark.parametrize("target", [0, 1, 2, 3])
def test_softmax_cross_entropy_is_exact_at_logits_of_a_thousand(target):
    logits = [Value(z) for z in EXTREME]
    ours = softmax_cross_entropy(logits, target)
    ours.backward()
    z = torch.tensor([EXTREME], dtype=torch.float64, requires_grad=True)
    reference = F.cross_entropy(z, torch.tensor([target]))
    reference.backward()
    assert_close(ours.data, reference.item())
    assert_close([v.grad for v in logits], z.grad[0].tolist())


def test_mlp_with_dropout_matches_torch_given_the_same_masks():
    model = MLP(3, [8, 8, 1], dropout=0.5, seed=21)
    layers = torch_copy(model)
    out = model(INPUTS[0])
    masks = [dropout.mask for dropout in model.dropouts]
    assert all(0.0 in mask for mask in masks)  # something was really dropped
    reference = torch_forward(model, layers, INPUTS[0], masks)[0]
    out.backward()
    reference.backward()
    assert_close(out.data, reference.item())
    assert_close([p.grad for p in model.parameters()], torch_grads(layers))


# ------------------------------------------------------------------ optimizers

START = [0.5, -1.5, 2.0, 0.1, -0.7]


def objective(p, tanh, exp):
    """A non-quadratic function of five parameters, written once for both libraries."""
    total = 0.0
    for i in range(len(p)):
        total = total + tanh(1.5 * p[i]) * p[(i + 1) % len(p)] + 0.1 * p[i] * p[i]
    return total + 0.05 * exp(p[0] - p[2])


OPTIMIZER_CASES = [
    (SGD, torch.optim.SGD, {"lr": 0.1}),
    (SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01}),
    (Adam, torch.optim.Adam, {"lr": 0.05}),
    (Adam, torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    (RMSprop, torch.optim.RMSprop, {"lr": 0.01}),
    (RMSprop, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.05}),
]


@pytest.mark.parametrize("ours_class, torch_class, options", OPTIMIZER_CASES,
                         ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(OPTIMIZER_CASES)])
def test_optimizer_steps_match_torch_optim(ours_class, torch_class, options):
    params = [Value(x) for x in START]
    optimizer = ours_class(params, **options)
    tensor = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    reference = torch_class([tensor], **options)
    for step in range(8):
        if step == 4:  # a learning-rate change between steps, as schedules do
            optimizer.lr *= 0.5
            reference.param_groups[0]["lr"] *= 0.5
        optimizer.zero_grad()
        objective(params, Value.tanh, Value.exp).backward()
        optimizer.step()
        reference.zero_grad()
        objective(tensor, torch.tanh, torch.exp).backward()
        reference.step()
        assert_close([p.data for p in params], tensor.tolist())
