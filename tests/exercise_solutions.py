"""Reference solutions to the exercise notebooks (notebooks/exercises/), for CI only.

Each function here answers the TODO cell tagged ``solution:<function name>``:
tests/test_notebooks.py replaces that cell's source with the function's source and runs
the notebook, and tests/test_checks.py checks that the checkers accept them. So they use
only what the notebooks import in their first cell (math, engine, nn).

They are kept out of the students' notebooks on purpose: don't copy them there.
"""
import math

import glassgrad.nn as nn


# ex01_local_derivatives: local_grads(x, out) or local_grads(x, y, out), as in engine.ops

def mul_local_grads(x, y, out):
    return (y, x)


def div_local_grads(x, y, out):
    return (1.0 / y, -x / (y * y))


def tanh_local_grads(x, out):
    return (1.0 - out * out,)


def sigmoid_local_grads(x, out):
    return (out * (1.0 - out),)


def exp_local_grads(x, out):
    return (math.exp(x),)


# ex02_backward_by_hand: L = tanh(a*b) * (a*b), with u = a*b and t = tanh(u)

def backward_by_hand(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad                # through L = t * u
    u.grad += t.data * L.grad               # through L = t * u
    u.grad += (1.0 - t.data ** 2) * t.grad  # through t = tanh(u): 1 - (its output)**2
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad


# ex03_neuron_forward

def neuron_forward(weights, bias, inputs):
    total = bias
    for w, x in zip(weights, inputs):
        total = total + w * x
    return total.tanh()


# ex04_sgd_step

def sgd_step(parameters, learning_rate):
    for p in parameters:
        p.data -= learning_rate * p.grad



# ex05_train_to_accuracy

def train_model(X, y):
    model = nn.MLP(2, [16, 16, 3], seed=0)   # one output per class
    nn.fit(model, X, y, loss="softmax_cross_entropy", optimizer="adam", lr=0.05, epochs=100,
           progress=False)
    return model


# ex06_momentum_and_softmax

def momentum_step(parameters, velocity, learning_rate, momentum):
    for i, p in enumerate(parameters):
        velocity[i] = momentum * velocity[i] + p.grad
        p.data -= learning_rate * velocity[i]


def softmax_cross_entropy(scores, target):
    largest = max(scores)
    exps = [math.exp(z - largest) for z in scores]
    total = sum(exps)
    probabilities = [e / total for e in exps]
    loss = -math.log(probabilities[target])
    grads = [p - (j == target) for j, p in enumerate(probabilities)]
    return loss, grads
