"""Workloads of the compiled tape (issue 10), run by ``bench.py`` beside the others.

* ``traced_train``: the moons training step of ``workloads.py`` through
  ``glassgrad.engine.trace``: the one-time recording is timed apart from the replays;
  also the tape's bytes per node (its NumPy arrays, after a replay and a backward);
* ``floats_train``: the same step in plain Python floats with a hand-written backward:
  the floor that any per-number Python code must pay;
* ``digits``: one training step (forward, softmax cross-entropy, backward, SGD) of
  nn.MLP(64, [128, 64, 10]) on a batch of 32 random 8x8 "images", eager or traced;
* ``fit_epoch``: ``nn.fit`` on the moons (MLP(2, [16, 16, 1]), hinge, batches of 32),
  ``trace=False`` or ``trace=True``: one epoch (the recording of its two tapes included,
  so about even) and the mean epoch of ten (recorded once, replayed after).
"""
from __future__ import annotations

import random
from typing import Callable

from .workloads import (LEARNING_RATE, WEIGHT_DECAY, Clock, LayerWeights, Mlp, Point, make_moons,
                        random_mlp_weights)

DIGITS_SIZES = (64, 128, 64, 10)


def _timed(step: Callable[[], object], steps: int, warmup: int, clock: Clock) -> list[float]:
    seconds = []
    for k in range(warmup + steps):
        start = clock()
        step()
        if k >= warmup:
            seconds.append(clock() - start)
    return seconds


def traced_moons_step(n_points: int):
    """(model, traced loss, points): the hinge loss of ``workloads.hinge_loss``, traced."""
    from glassgrad.engine import trace

    from .scalars import load
    points, labels = make_moons(n_points)
    model = Mlp(load("glassgrad"), random_mlp_weights())

    def loss(X):  # the same graph as workloads.hinge_loss, with the points as tape inputs
        scores = [model(list(point)) for point in X]
        margins = [(1.0 + -label * score).relu() for label, score in zip(labels, scores)]
        return sum(margins) * (1.0 / len(margins)) + WEIGHT_DECAY * sum(p * p for p in model.parameters())
    return model, trace(loss), points


def time_traced_training(n_points: int, steps: int, warmup: int, clock: Clock) -> dict:
    model, traced, points = traced_moons_step(n_points)
    params = model.parameters()

    def step() -> None:
        traced(points).backward()
        model.scalars.sgd_update(params, LEARNING_RATE)

    start = clock()
    step()  # records the tape
    trace_seconds = clock() - start
    seconds = _timed(step, steps, warmup, clock)
    tape = traced.last_tape
    return {"seconds": seconds, "trace_seconds": trace_seconds, "tape_nodes": tape.size,
            "tape_bytes": tape.nbytes(), "waves": len(tape.waves)}


# --------------------------------------------------- plain floats, backward by hand


def float_training_step(layers: list[LayerWeights], points: list[Point], labels: list[float],
                        learning_rate: float = LEARNING_RATE) -> float:
    """Forward, hand-written backward and SGD on ``layers`` (lists of [weights, bias],
    changed in place); the same maths as ``workloads.training_step``. Returns the loss."""
    grads = [[([0.0] * len(w), 0.0) for w, _ in layer] for layer in layers]
    grads = [[[list(gw), gb] for gw, gb in layer] for layer in grads]
    n, total = len(points), 0.0
    last = len(layers) - 1
    for point, label in zip(points, labels):
        activations, sums = [list(point)], []
        for depth, layer in enumerate(layers):
            zs = []
            for w, b in layer:
                z = b
                for w_i, a_i in zip(w, activations[-1]):
                    z = z + w_i * a_i
                zs.append(z)
            sums.append(zs)
            activations.append(zs if depth == last else [z if z > 0.0 else 0.0 for z in zs])
        margin = 1.0 + -label * activations[-1][0]
        total += margin if margin > 0.0 else 0.0
        upstream = [(-label if margin > 0.0 else 0.0) / n]  # d loss / d score
        for depth in range(last, -1, -1):
            if depth != last:  # through the relu
                upstream = [g if z > 0.0 else 0.0 for g, z in zip(upstream, sums[depth])]
            below = [0.0] * len(activations[depth])
            for (w, _), neuron_grad, g in zip(layers[depth], grads[depth], upstream):
                neuron_grad[1] += g
                for i, a_i in enumerate(activations[depth]):
                    neuron_grad[0][i] += g * a_i
                    below[i] += g * w[i]
            upstream = below
    regulariser = 0.0
    for layer, layer_grads in zip(layers, grads):
        for neuron, (gw, gb) in zip(layer, layer_grads):
            w, b = neuron
            regulariser += sum(w_i * w_i for w_i in w) + b * b
            for i in range(len(w)):
                w[i] -= learning_rate * (gw[i] + 2.0 * WEIGHT_DECAY * w[i])
            neuron[1] = b - learning_rate * (gb + 2.0 * WEIGHT_DECAY * b)
    return total / n + WEIGHT_DECAY * regulariser


def float_layers(weights: list[LayerWeights]) -> list[list[list]]:
    return [[[list(w), b] for w, b in layer] for layer in weights]


def time_float_training(n_points: int, steps: int, warmup: int, clock: Clock) -> dict:
    points, labels = make_moons(n_points)
    layers = float_layers(random_mlp_weights())
    return {"seconds": _timed(lambda: float_training_step(layers, points, labels), steps, warmup, clock)}


# ------------------------------------------------------------------- the digits step


def digits_step(batch: int, traced: bool, seed: int = 0) -> Callable[[], float]:
    """One SGD step of nn.MLP(64, [128, 64, 10]) with softmax cross-entropy on a fixed batch."""
    from glassgrad.engine import trace
    from glassgrad.nn import MLP, softmax_cross_entropy

    rng = random.Random(seed)
    images = [[rng.uniform(0.0, 16.0) for _ in range(DIGITS_SIZES[0])] for _ in range(batch)]
    classes = [rng.randrange(DIGITS_SIZES[-1]) for _ in range(batch)]
    model = MLP(DIGITS_SIZES[0], list(DIGITS_SIZES[1:]), seed=seed)
    params = model.parameters()

    def loss(X, y):
        return softmax_cross_entropy([model(x) for x in X], y)
    forward = trace(loss) if traced else loss

    def step() -> float:
        out = forward(images, classes)
        out.backward()
        for p in params:
            p.data -= 0.01 * p.grad
            p.grad = 0.0
        return out.data
    return step


def time_digits(batch: int, steps: int, traced: bool, clock: Clock) -> dict:
    step = digits_step(batch, traced)
    start = clock()
    step()  # eager: a warm-up; traced: the recording
    first = clock() - start
    return {"seconds": _timed(step, steps, 0, clock), "first_seconds": first}


# ------------------------------------------------------------- a whole epoch of nn.fit


def time_fit_epoch(n_points: int, steps: int, traced: bool, clock: Clock) -> dict:
    """Seconds of ``steps`` separate ``nn.fit(..., epochs=1)`` calls (each records its
    tapes anew), and of one ``fit(..., epochs=10)`` call divided by 10 (records once)."""
    import glassgrad.nn as nn

    X, y = nn.make_moons(n_points, noise=0.1, seed=0)

    def train(epochs: int) -> None:
        nn.fit(nn.MLP(2, [16, 16, 1], seed=0), X, y, lr=0.1, epochs=epochs, batch_size=32, seed=0,
               progress=False, trace=traced)
    start = clock()
    train(10)
    epoch_of_ten = (clock() - start) / 10
    return {"seconds": _timed(lambda: train(1), steps, 0, clock), "epoch_of_ten": epoch_of_ten}
