"""nn: neurons, layers, MLPs, losses, optimizers and toy data on top of engine.

    import glassgrad.nn as nn
    X, y = nn.make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)        # micrograd's defaults
    history = nn.fit(model, X, y, loss="hinge", lr=0.5, epochs=50)

``nn.module`` finds parameters by name and saves them as JSON; ``nn.layers`` builds
networks from glassgrad.engine ops; ``nn.losses``, ``nn.optim``, ``nn.data`` and ``nn.train``
hold the rest of a training loop; ``nn.predictions`` is the one rule for which class an
output means. ``nn.conv``, ``nn.recurrent`` and ``nn.attention`` hold the modules beyond the
MLP (``nn.tensors`` the nested-list helpers they share), and ``nn.twins`` their PyTorch twins:
``model.to_torch()`` and ``Conv2d.from_torch(torch_module)``. ``nn.keras`` is the Keras way
(``import glassgrad.nn.keras as dl``: ``Sequential``, ``Dense``, ``Input``, Keras's ``Layer``,
``Dropout``) on top of all that.
``nn.data`` also loads scikit-learn's real handwritten digits (``load_digits``).
"""

if __name__ != "glassgrad.nn":
    # Run from the repository root, `import nn` would load this folder a second time, with a
    # second Value class that isinstance does not recognise. There is one name: glassgrad.nn.
    raise ImportError(f"this folder is the package glassgrad.nn; import it as "
                      f"`import glassgrad.nn` (after `pip install -e .`), not as {__name__!r}")

from . import keras
from .attention import SelfAttention
from .conv import Conv2d, Flatten, MaxPool2d
from .data import (load_digits, make_blobs, make_circles, make_moons, make_spirals, make_xor, one_hot,
                   train_test_split)
from .keras import Dense, Sequential
from .layers import ACTIVATIONS, MLP, Dropout, Layer, Neuron
from .losses import LOSSES, binary_cross_entropy_with_logits, get_loss, hinge, l2, mse, softmax_cross_entropy
from .module import Module
from .optim import OPTIMIZERS, SGD, Adam, Optimizer, RMSprop, get_optimizer
from .predictions import ClassRule, class_rule, prepare_labels
from .recurrent import LSTM, RNN, LSTMCell, RNNCell
from .tensors import Linear
from .train import History, accuracy, fit, predict

__all__ = [
    "Module", "Neuron", "Layer", "MLP", "Dropout", "ACTIVATIONS",
    "mse", "hinge", "binary_cross_entropy_with_logits", "softmax_cross_entropy", "l2",
    "get_loss", "LOSSES",
    "Optimizer", "SGD", "Adam", "RMSprop", "get_optimizer", "OPTIMIZERS",
    "fit", "History", "predict", "accuracy", "class_rule", "ClassRule", "prepare_labels",
    "keras", "Sequential", "Dense",
    "Linear", "Conv2d", "MaxPool2d", "Flatten", "RNNCell", "LSTMCell", "RNN", "LSTM", "SelfAttention",
    "make_moons", "make_circles", "make_spirals", "make_xor", "make_blobs",
    "load_digits", "train_test_split", "one_hot",
]
