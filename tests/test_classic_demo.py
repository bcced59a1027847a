"""The classic micrograd demo, line for line as its notebook writes the training loop,
with only the imports changed: glassgrad must be a drop-in replacement.

The notebook draws its moons with scikit-learn; here a two-line shim turns
``nn.make_moons`` lists into the NumPy arrays the notebook expects (it relies on
NumPy for ``y = y*2 - 1`` and ``X[:, 0]``). Plotting is left out.
"""
import random

import numpy as np

import glassgrad.nn as nn
from glassgrad.engine import Value
from glassgrad.nn import MLP


def make_moons(n_samples, noise):
    """The notebook's scikit-learn call, answered by glassgrad's pure-Python moons."""
    X, y = nn.make_moons(n_samples=n_samples, noise=noise)  # seed=None: the global random
    return np.array(X), np.array(y)


def test_classic_micrograd_demo_reaches_full_training_accuracy():
    np.random.seed(1337)
    random.seed(1337)

    X, y = make_moons(n_samples=100, noise=0.1)
    y = y*2 - 1  # make y be -1 or 1

    model = MLP(2, [16, 16, 1])  # 2-layer neural network
    assert repr(model) == "MLP(2, [16, 16, 1])"
    assert len(model.parameters()) == 337

    def loss(batch_size=None):
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]

        # forward the model to get scores
        scores = list(map(model, inputs))

        # svm "max-margin" loss
        losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum((p*p for p in model.parameters()))
        total_loss = data_loss + reg_loss

        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    first_loss, _ = loss()
    for k in range(100):
        # forward
        total_loss, acc = loss()

        # backward
        model.zero_grad()
        total_loss.backward()

        # update (sgd)
        learning_rate = 1.0 - 0.9*k/100
        for p in model.parameters():
            p.data -= learning_rate * p.grad

    final_loss, final_accuracy = loss()
    assert final_loss.data < first_loss.data / 10
    assert final_accuracy == 1.0
