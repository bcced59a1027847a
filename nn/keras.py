"""glassgrad.nn.keras: the Keras way to build and train a model, as a thin layer over nn.

The articles' own sketch runs as written::

    import glassgrad.nn.keras as dl
    model = dl.Sequential([
        dl.Layer(input_shape=(784,)),       # Input layer
        dl.Dense(128, activation='relu'),   # Hidden layer 1
        dl.Dense(64, activation='relu'),    # Hidden layer 2
        dl.Dense(10, activation='softmax')  # Output layer
    ])
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(X_train, y_train, epochs=10, batch_size=32)   # an nn.History
    loss, accuracy = model.evaluate(X_test, y_test)   # as Keras; return_dict=True for a dict
    model.predict(X_test[:3])               # one list of 10 probabilities per row
    model.summary()                         # Keras's table, plus graph nodes per sample

Nothing here is a second engine: a Dense layer is a list of ``nn.Neuron``s, the names
of losses and optimizers are translated to ``nn``'s (the tables below), and ``fit`` is
``nn.fit``. ``nn.Layer`` stays micrograd's ``Layer(nin, nout)``; the ``Layer`` here is
Keras's, the base of ``Dense`` and, on its own, the sketch's input layer.

The input size comes from ``Input(shape=(n,))``, ``Layer(input_shape=(n,))``,
``Dense(..., input_shape=(n,))`` / ``input_dim=n`` or ``Sequential([...], input_dim=n)``,
else from the first sample the model sees (a call, ``fit``, ``evaluate`` or
``predict``). Until then the model has no parameters.

Keras's defaults: ``Dense`` weights are Glorot-uniform, uniform in [-limit, limit] with
limit = sqrt(6 / (fan_in + fan_out)), biases 0 (``nn.MLP``, ``nn.Layer`` and
``nn.Neuron`` keep micrograd's uniform(-1, 1)). With 784 inputs, micrograd's weights
would start the sketch at a loss near 160 instead of ln 10 = 2.3.

Cross-entropy and the last activation: ``Dense(1, activation="sigmoid")`` with
``loss="binary_crossentropy"`` (and ``"softmax"`` with the categorical losses) is
trained on the scores *before* the activation, with nn's stable
``binary_cross_entropy_with_logits`` / ``softmax_cross_entropy``. That is the same
loss, -log(probability of the right class), without rounding the probability to 0 or
1 first (Keras does the same). A linear last layer is read as scores (logits) too.
"""
from __future__ import annotations

import math
import numbers
import random
import time
from typing import Callable, Literal, Sequence, cast, overload

from glassgrad.engine import Value, topological_order
from glassgrad.engine.tape import detached_max

from . import layers as nn_layers
from .arguments import below_one, choose_one, whole_number
from .layers import ACTIVATIONS, Neuron
from .losses import LOSSES, binary_cross_entropy_with_logits, get_loss, softmax_cross_entropy
from .module import Module
from .optim import OPTIMIZERS, SGD, Optimizer, get_optimizer
from .predictions import base_loss, evaluation_mode, prepare_labels
from .rng import make_rng
from .train import History, accuracy, fit, mean_loss, outputs_of

# ------------------------------------------------------------ the name tables

# Keras's names for nn's losses (nn's own names, like "bce", work too).
KERAS_LOSSES: dict[str, str] = {
    "mse": "mse",
    "mean_squared_error": "mse",
    "binary_crossentropy": "binary_cross_entropy_with_logits",
    "categorical_crossentropy": "softmax_cross_entropy",         # labels one-hot: [0, 1, 0]
    "sparse_categorical_crossentropy": "softmax_cross_entropy",  # labels class indices: 1
    "hinge": "hinge",
}
# The losses that apply an activation themselves, to raw scores (logits).
LOGIT_LOSSES: dict[Callable[..., Value], str] = {
    binary_cross_entropy_with_logits: "sigmoid",
    softmax_cross_entropy: "softmax",
}
OPTIMIZER_NAMES = (*OPTIMIZERS, "momentum")  # "momentum": SGD with momentum 0.9
METRICS = ("accuracy", "mse", "mae")
DENSE_ACTIVATIONS = (*ACTIVATIONS, "softmax")
VERBOSE = {0: "silent", 1: "a progress bar over the epochs", 2: "one line per epoch"}


def softmax(scores: Sequence[Value]) -> list[Value]:
    """softmax(z)_i = e^(z_i - m) / sum_j e^(z_j - m),  m = max_j z_j.

    Subtracting m (a plain number) changes nothing mathematically and keeps every
    e^(...) in (0, 1], so no logits overflow. The outputs are positive and sum to 1.
    """
    shift = detached_max(scores)  # a constant; a traced replay recomputes it
    exps = [(z - shift).exp() for z in scores]
    total = exps[0]
    for e in exps[1:]:
        total = total + e
    return [e / total for e in exps]


# ------------------------------------------------------------------- layers


class Layer(Module):
    """Keras's layer: the base of ``Dense``, and on its own the sketch's input layer.

    ``Layer(input_shape=(784,))`` passes each sample through unchanged and declares its
    size, so the ``Sequential`` it starts is built at once. A sample here is one flat list
    of numbers, so a shape has exactly one entry. (``nn.Layer(nin, nout)`` is micrograd's
    layer of neurons, a different thing.)
    """

    def __init__(self, *, input_shape: Sequence[int] | None = None, input_dim: int | None = None) -> None:
        self.input_dim = _input_size(input_shape, input_dim, type(self).__name__)

    def build(self, input_dim: int, rng: random.Random | None = None) -> None:
        """Learn the input size (``rng`` is for layers with weights), checking any declared one."""
        if self.input_dim is not None and input_dim != self.input_dim:
            raise ValueError(f"{self!r} was declared with input_dim={self.input_dim} but receives "
                             f"{input_dim} values from the layer before it")
        self.input_dim = input_dim

    def output_width(self, input_width: int | None) -> int | None:
        """How many values the layer gives for ``input_width`` inputs (None: unknown yet)."""
        return input_width

    def __call__(self, x: Sequence[Value | float]) -> list:
        return _as_sample(x, repr(self))

    def __repr__(self) -> str:
        return "Layer()" if self.input_dim is None else f"Layer(input_shape=({self.input_dim},))"


class Input(Layer):
    """``Input(shape=(64,))``: Keras's way to declare the input size, as a model's first layer."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__(input_shape=shape)

    def __repr__(self) -> str:
        return f"Input(shape=({self.input_dim},))"


class Dense(Layer):
    """A fully connected layer: ``units`` neurons that read every input, then an activation.

        out_j = activation(b_j + sum_i w_ji x_i)

    ``activation`` is None or "linear" (the identity, Keras's default), one of
    ``nn.ACTIVATIONS`` ("relu", "tanh", "sigmoid", "step", ...) or "softmax" (over the
    whole layer). The neurons themselves are linear ``nn.Neuron``s; the layer applies the
    activation, so ``logits(x)`` can give the scores before it. The input size
    (``input_dim=n`` or ``input_shape=(n,)``) may be left out: the layer is built when
    ``Sequential`` learns it. Weights start Glorot-uniform, biases at 0 (see ``build``).
    """

    def __init__(self, units: int, activation: str | None = None, *, input_dim: int | None = None,
                 input_shape: Sequence[int] | None = None, seed: int | None = None) -> None:
        super().__init__(input_shape=input_shape, input_dim=input_dim)
        self.units = whole_number(units, "Dense: units (the number of neurons)")
        name = "linear" if activation is None else activation
        choose_one(name, DENSE_ACTIVATIONS, "activation", where="Dense: ",
                   otherwise=" (or None for linear)")
        if name == "softmax" and self.units == 1:
            raise ValueError("Dense: a softmax over 1 unit is always 1; use activation='sigmoid' "
                             "for one output, or give one unit per class")
        self.activation = name
        self._seed = seed
        self.neurons: list[Neuron] = []  # made by build(), or by the first call

    @property
    def built(self) -> bool:
        return bool(self.neurons)

    def build(self, input_dim: int, rng: random.Random | None = None) -> None:
        """Make the neurons for ``input_dim`` inputs (weights from ``seed``, else ``rng``).

        Glorot (Xavier) uniform, Keras's default: each weight uniform in [-limit, limit],

            limit = sqrt(6 / (fan_in + fan_out)),   fan_in = input_dim, fan_out = units,

        so the variance of the scores neither grows nor shrinks with the layer's width.
        """
        super().build(input_dim)
        if self.built:
            return
        if self._seed is not None:
            rng = random.Random(self._seed)
        limit = math.sqrt(6.0 / (input_dim + self.units))
        self.neurons = [Neuron(input_dim, activation="linear", rng=rng) for _ in range(self.units)]
        for neuron in self.neurons:
            for weight in neuron.w:
                weight.data *= limit  # a Neuron draws uniform(-1, 1); times limit: uniform(-limit, limit)

    def output_width(self, input_width: int | None) -> int:
        return self.units

    def logits(self, x: Sequence[Value | float]) -> list[Value]:
        """The scores b_j + sum_i w_ji x_i, before the activation."""
        inputs = _as_sample(x, repr(self))
        if not self.built:
            self.build(len(inputs))
        return [neuron(inputs) for neuron in self.neurons]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """The layer's outputs, always a list of ``units`` Values."""
        scores = self.logits(x)
        if self.activation == "softmax":
            return softmax(scores)
        apply = ACTIVATIONS[self.activation]
        return scores if apply is None else [apply(z) for z in scores]

    def __repr__(self) -> str:
        options = "" if self.activation == "linear" else f", activation={self.activation!r}"
        return f"Dense({self.units}{options})"


class Dropout(nn_layers.Dropout):
    """Keras's ``Dropout(rate)``: ``nn.Dropout`` (inverted dropout) under Keras's argument name."""

    def __init__(self, rate: float = 0.5, *, seed: int | None = None) -> None:
        super().__init__(rate, seed=seed)

    def __repr__(self) -> str:
        return f"Dropout(rate={self.p!r})"


# --------------------------------------------------------------- the model


class Sequential(Module):
    """Layers applied one after the other: ``Input``/``Layer``, ``Dense``, ``Dropout`` or ``nn.Layer``.

    ``model(x)`` takes one sample (a list of numbers) and returns a Value when the last
    layer has one output, else a list of Values, like ``nn.MLP``. ``compile`` chooses
    the loss, the optimizer and the metrics by name; ``fit``, ``evaluate`` and
    ``predict`` do the rest. A Sequential is a Module: ``parameters()``, ``save`` and
    ``load`` work as for any model (once the input size is known).
    """

    def __init__(self, layers: Sequence[Module] = (), *, input_dim: int | None = None,
                 seed: int | None = None) -> None:
        self.layers: list[Module] = []
        self._rng = make_rng(seed, where="Sequential")
        self.input_dim: int | None = None
        self.output_dim: int | None = None
        self.optimizer: Optimizer | None = None
        self.loss_fn: Callable[..., Value] | None = None  # the compiled loss (read by nn.predictions)
        self.jit_compile: bool | None = None  # what compile() chose (see compile)
        self._logits_view: _Logits | None = None  # made once by _loss_model (underscore: not walked)
        self._compiled: dict | None = None  # what compile() chose
        for layer in layers:
            self.add(layer)
        if input_dim is None and self.layers:  # Input(shape=(2,)) or Dense(16, input_dim=2) first
            input_dim = getattr(self.layers[0], "input_dim", None)
        if input_dim is not None:
            self.build(whole_number(input_dim, "Sequential: input_dim"))

    def add(self, layer: Module) -> None:
        """Append a layer (Keras's ``model.add``); before the model is built only."""
        if self.input_dim is not None:
            raise RuntimeError(f"{self!r} is already built; add layers before its input size is known")
        if not isinstance(layer, (Layer, nn_layers.Dropout, nn_layers.Layer)):
            raise TypeError(f"Sequential takes Input, Layer, Dense, Dropout or nn.Layer layers, got "
                            f"{type(layer).__name__} {layer!r}")
        self.layers.append(layer)

    # -------------------------------------------------------------- building

    @property
    def built(self) -> bool:
        return self.input_dim is not None

    def build(self, input_dim: int) -> None:
        """Give every layer its input size, in order (each Dense makes its neurons)."""
        if not self.layers:
            raise ValueError("Sequential has no layers; give a list like [Dense(16, activation='relu'), Dense(1)]")
        rng = self._rng if isinstance(self._rng, random.Random) else None  # None: global random
        width: int | None = input_dim
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Layer):
                if width is None:
                    raise ValueError(f"Sequential: layer {i}, {layer!r}, follows a layer whose output size is unknown")
                layer.build(width, rng)
            elif isinstance(layer, nn_layers.Layer) and layer.nin != width:  # its size is fixed
                raise ValueError(f"Sequential: layer {i}, {layer!r}, takes {layer.nin} inputs "
                                 f"but the layer before it gives {width}")
            width = _output_width(layer, width)
        self.input_dim, self.output_dim = input_dim, width

    def named_parameters(self) -> list[tuple[str, Value]]:
        if not self.built:
            raise RuntimeError(f"{self!r} has no parameters yet: its input size is unknown. Give "
                               "input_dim=..., or call the model on one sample (fit does) first")
        return super().named_parameters()

    # --------------------------------------------------------------- forward

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        outputs = self._forward(x, logits=False)
        return outputs[0] if len(outputs) == 1 else outputs

    def logits(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Like calling the model, but the output Dense layer skips its activation: the scores z."""
        outputs = self._forward(x, logits=True)
        return outputs[0] if len(outputs) == 1 else outputs

    def _forward(self, x: Sequence[Value | float], logits: bool) -> list:
        values = _as_sample(x, "Sequential")
        if not self.built:
            self.build(len(values))
        elif len(values) != self.input_dim:
            raise ValueError(f"{self!r} expects {self.input_dim} inputs per sample, got {len(values)}")
        output_layer = self._output_layer()
        for layer in self.layers:
            if logits and layer is output_layer and isinstance(layer, Dense):
                values = layer.logits(values)
            else:
                values = layer(values)
        return values

    @property
    def output_activation(self) -> str:
        """The output layer's activation ("linear" if it has none): what ``model(x)`` returns."""
        return getattr(self._output_layer(), "activation", "linear")

    def _output_layer(self) -> Module | None:
        """The last layer with neurons: the one whose activation makes the outputs
        (a Dropout or an input layer after it passes its values through)."""
        return next((layer for layer in reversed(self.layers) if isinstance(layer, (Dense, nn_layers.Layer))),
                    None)

    # ------------------------------------------------------------ training

    def compile(self, optimizer: str | Optimizer = "sgd", loss: str | Callable[..., Value] = "mse",
                metrics: Sequence[str] = (), *, learning_rate: float | None = None,
                weight_decay: float = 0.0, jit_compile: bool | None = None) -> None:
        """Choose how ``fit`` trains and what ``evaluate`` reports.

        optimizer      "sgd", "momentum" (SGD, momentum 0.9), "rmsprop", "adam", or an
                       nn optimizer made on this model's ``parameters()``;
        loss           "mse", "binary_crossentropy", "categorical_crossentropy" (one-hot
                       labels), "sparse_categorical_crossentropy" (class indices),
                       "hinge", a name of ``nn.LOSSES`` or a function (outputs, labels) -> Value;
        metrics        any of "accuracy", "mse", "mae";
        learning_rate  the step size (default: the nn optimizer's own default);
        weight_decay   L2 weight decay: each gradient gets + weight_decay * p;
        jit_compile    train through the compiled tape (glassgrad.engine.trace): ``nn.fit``'s
                       ``trace=``. None (Keras's "auto", the default): the tape for nn's
                       own layers and losses; False: the eager engine, a graph of Values
                       per step (the same history, bit for bit).
        """
        loss_fn, loss_name = loss, None
        if not callable(loss):
            known = [*KERAS_LOSSES, *(name for name in LOSSES if name not in KERAS_LOSSES)]
            loss_name = choose_one(loss, known, "loss", ignore_case=True)
            loss_fn = get_loss(KERAS_LOSSES.get(loss_name, loss_name))
        if isinstance(metrics, str):
            raise TypeError(f"compile: metrics is a list of names, e.g. metrics=[{metrics!r}]")
        for metric in metrics:
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(map(repr, METRICS))}")
        if isinstance(optimizer, Optimizer):
            if learning_rate is not None or weight_decay:
                raise ValueError("compile: learning_rate= and weight_decay= are for an optimizer "
                                 "given by name; set them on the optimizer you made")
        else:
            choose_one(optimizer, OPTIMIZER_NAMES, "optimizer", ignore_case=True,
                       otherwise=", or pass an nn optimizer")
        if jit_compile is not None and not isinstance(jit_compile, bool):
            raise TypeError(f"compile: jit_compile is True, False or None (auto), got {jit_compile!r}")
        self.loss_fn, self.jit_compile = get_loss(loss_fn), jit_compile  # (a function is kept as it is)
        self._compiled = {"optimizer": optimizer, "loss": self.loss_fn, "loss_name": loss_name,
                          "metrics": list(metrics), "learning_rate": learning_rate,
                          "weight_decay": weight_decay}
        self.optimizer = None  # made on first fit, once the parameters exist

    def fit(self, X: Sequence[Sequence[float]], y: Sequence, *, epochs: int = 1, batch_size: int | None = 32,
            verbose: int = 1, validation_split: float = 0.0,
            validation_data: tuple[Sequence, Sequence] | None = None, seed: int | None = None) -> History:
        """Train for ``epochs`` passes over (X, y) in shuffled mini-batches: ``nn.fit``.

        batch_size        32 by default, as in Keras; ``None`` takes one step per epoch
                          on all samples;
        verbose           0: silent, 1: a progress bar over the epochs, 2: one Keras-style
                          line per epoch (``Epoch 3/10 - 2.1s - loss: ... - val_accuracy: ...``);
        validation_split  the fraction of (X, y) held out, as Keras: the *last* samples,
                          before any shuffling;
        validation_data   (X_val, y_val) to measure after each epoch instead;
        seed              fixes the shuffling.

        Returns the ``nn.History``: ``history.history`` holds per-epoch ``loss``,
        ``accuracy`` and, with validation, ``val_loss`` and ``val_accuracy`` (as
        attributes too). Calling fit again continues training (the optimizer keeps its state).
        """
        settings = self._settings("fit")
        rows = _as_rows(X, "fit")
        labels = prepare_labels(self._labels(y, settings), len(rows), None, where="fit")
        if verbose not in VERBOSE:
            raise ValueError(f"fit: verbose is one of {', '.join(f'{k} ({v})' for k, v in VERBOSE.items())}; "
                             f"got {verbose!r}")
        validation = None
        if validation_data is not None:
            if validation_split:
                raise ValueError("fit: give validation_split= or validation_data=, not both")
            validation = self._validation_pair(validation_data, settings)
        elif below_one(validation_split, "fit: validation_split (the fraction held out)"):
            keep = math.floor(len(rows) * (1.0 - validation_split))
            if keep in (0, len(rows)):
                raise ValueError(f"fit: validation_split={validation_split!r} of {len(rows)} samples "
                                 f"leaves {keep} to train on; give a fraction that splits them")
            rows, validation = rows[:keep], (rows[keep:], labels[keep:])
            labels = labels[:keep]
        if not self.built:
            self.build(len(rows[0]))
        if self.optimizer is None:
            self.optimizer = self._make_optimizer(settings)
        report = _EpochLines(epochs, settings["metrics"]) if verbose == 2 else None
        return fit(self._loss_model(settings), rows, labels, loss=settings["loss"],
                   optimizer=self.optimizer, epochs=epochs, batch_size=batch_size, seed=seed,
                   progress=verbose == 1, validation_data=validation, on_epoch_end=report,
                   trace=self.jit_compile)

    @overload
    def evaluate(self, X: Sequence[Sequence[float]], y: Sequence, *,
                 return_dict: Literal[False] = False) -> float | list[float]: ...

    @overload
    def evaluate(self, X: Sequence[Sequence[float]], y: Sequence, *,
                 return_dict: Literal[True]) -> dict[str, float]: ...

    def evaluate(self, X: Sequence[Sequence[float]], y: Sequence, *,
                 return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """The loss and each compiled metric on (X, y), in eval mode (no dropout), as Keras
        returns them: the loss alone if no metric was compiled, else ``[loss, metric, ...]``
        in compile's order (``loss, accuracy = model.evaluate(X, y)``);
        ``return_dict=True`` gives ``{"loss": ..., "accuracy": ...}``."""
        settings = self._settings("evaluate")
        rows, loss_fn, model = _as_rows(X, "evaluate"), settings["loss"], self._loss_model(settings)
        labels = prepare_labels(self._labels(y, settings), len(rows), loss_fn, where="evaluate")
        with evaluation_mode(self):
            results = {"loss": mean_loss(model, rows, labels, loss_fn)}
            predictions = self.predict(rows) if {"mse", "mae"} & set(settings["metrics"]) else []
            for metric in settings["metrics"]:
                if metric == "accuracy":
                    results[metric] = accuracy(model, rows, labels, loss=loss_fn)
                else:
                    results[metric] = _regression_metric(metric, predictions, y)
        if return_dict:
            return results
        return results["loss"] if len(results) == 1 else list(results.values())

    def predict(self, X: Sequence[Sequence[float]]) -> list[float] | list[list[float]]:
        """The model's outputs for each row of X as plain floats (eval mode: no dropout).

        One float per row for a one-output model, else a list per row. With a sigmoid
        or softmax last layer these are probabilities. Each row's graph is dropped as
        soon as its numbers are read.
        """
        rows = _as_rows(X, "predict")
        with evaluation_mode(self):
            return outputs_of(self, rows)

    def summary(self, print_fn: Callable[[str], object] = print) -> None:
        """Print Keras's table of the layers (Layer (type), Output Shape, Param #) and the
        total, trainable and non-trainable parameter counts, plus what only a scalar engine
        can say: how many graph nodes one sample's forward pass builds.

        As in Keras, ``print_fn`` is called with each line and nothing is returned; pass
        ``print_fn=lines.append`` to keep the text.
        """
        rule = "=" * 66
        lines = ['Model: "sequential"', rule, f"{'Layer (type)':<34}{'Output Shape':<20}{'Param #':>12}", rule]
        width = self.input_dim
        for layer in self.layers:
            width = _output_width(layer, width)
            if _is_input_layer(layer):
                continue  # Keras does not list the input layer either
            count = f"{len(layer.parameters()):,}" if self.built or not isinstance(layer, Dense) else "?"
            lines.append(f"{layer!r:<34}{f'(None, {width})':<20}{count:>12}")
        lines.append(rule)
        if self.built:
            total = len(self.parameters())
            lines.append(f"total parameters: {total:,} (trainable: {total:,}, non-trainable: 0)")
            lines.append(f"graph nodes per sample: {self.graph_nodes_per_sample():,} "
                         "(inputs, parameters and operations of one forward pass)")
        else:
            lines.append("total parameters: ? (input size unknown)")
        for line in lines:
            print_fn(line)

    def graph_nodes_per_sample(self) -> int:
        """The nodes (inputs, parameters, operations) of the graph one sample's forward pass builds,
        in eval mode (no dropout), counted by walking the graph from its outputs."""
        if not self.built:
            raise RuntimeError(f"{self!r}: the input size is unknown, so is the graph")
        assert self.input_dim is not None  # built
        with evaluation_mode(self):
            outputs = self([Value(0.0) for _ in range(self.input_dim)])
        seen: set[Value] = set()
        for output in outputs if isinstance(outputs, list) else [outputs]:
            seen.update(topological_order(output))
        return len(seen)

    # ---------------------------------------------------------------- helpers

    def _settings(self, where: str) -> dict:
        if self._compiled is None:
            raise RuntimeError(f"{where}: compile the model first, e.g. "
                               "model.compile(optimizer='adam', loss='mse')")
        return self._compiled

    def _make_optimizer(self, settings: dict) -> Optimizer:
        chosen = settings["optimizer"]
        if isinstance(chosen, Optimizer):
            if chosen.params != self.parameters():
                raise ValueError("compile: the optimizer was made for other parameters; make it "
                                 "with this model's parameters(), or pass its name")
            return chosen
        options = {"weight_decay": settings["weight_decay"]}
        if settings["learning_rate"] is not None:
            options["lr"] = settings["learning_rate"]
        if str(chosen).lower() == "momentum":
            return SGD(self.parameters(), momentum=0.9, **options)
        return get_optimizer(chosen, self.parameters(), **options)

    def _loss_model(self, settings: dict) -> Module:
        """The model the loss reads: this one, or its logits for a cross-entropy loss."""
        loss = base_loss(settings["loss"])
        absorbed = LOGIT_LOSSES.get(loss) if loss is not None else None
        if absorbed is None:
            return self
        output_layer = self._output_layer()
        last = self.output_activation
        if last == "linear" or (last == absorbed and isinstance(output_layer, Dense)):
            if self._logits_view is None:  # one view, so its traced forward is kept (train.outputs_of)
                self._logits_view = _Logits(self)
            return self._logits_view
        raise ValueError(f"this loss works on scores (logits) and applies {absorbed} itself; end the "
                         f"model with Dense(..., activation={absorbed!r}) or a linear layer, not {output_layer!r}")

    def _labels(self, y: Sequence, settings: dict) -> list:
        """The labels as the loss takes them: one-hot rows become class indices for
        categorical_crossentropy; sparse_categorical_crossentropy refuses one-hot rows."""
        labels = list(y)
        if settings["loss_name"] == "categorical_crossentropy":
            return [_class_of_one_hot(row, i) for i, row in enumerate(labels)]
        if settings["loss_name"] == "sparse_categorical_crossentropy":
            for i, label in enumerate(labels):
                if not isinstance(label, numbers.Real):
                    raise ValueError(f"sparse_categorical_crossentropy needs class indices like 3; label {i} "
                                     f"is {label!r}. For one-hot labels use 'categorical_crossentropy'")
        return labels

    def _validation_pair(self, data: object, settings: dict) -> tuple[list, list]:
        try:
            X_val, y_val = cast("tuple[Sequence, Sequence]", data)
        except (TypeError, ValueError):
            raise ValueError("fit: validation_data is a pair (X_val, y_val)") from None
        rows = _as_rows(X_val, "fit: validation_data")
        return rows, prepare_labels(self._labels(y_val, settings), len(rows), None, where="fit: validation_data")

    def __repr__(self) -> str:
        size = "" if self.input_dim is None else f", input_dim={self.input_dim}"
        return f"Sequential([{', '.join(map(repr, self.layers))}]{size})"


class _Logits(Module):
    """A Sequential seen through ``logits()``: what fit trains when the loss applies the activation."""

    output_activation = "linear"  # the scores before the last activation

    def __init__(self, model: Sequential) -> None:
        self.model = model

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        return self.model.logits(x)


class _EpochLines:
    """fit's ``verbose=2``: one Keras-style line per epoch, from the History so far."""

    def __init__(self, epochs: int, metrics: Sequence[str]) -> None:
        self.epochs, self.metrics = epochs, metrics
        self.started = time.perf_counter()

    def __call__(self, history: History) -> None:
        now = time.perf_counter()
        shown = [("loss", history.loss), ("val_loss", history.val_loss)]
        if "accuracy" in self.metrics:
            shown[1:1] = [("accuracy", history.accuracy)]
            shown.append(("val_accuracy", history.val_accuracy))
        parts = [f"{name}: {values[-1]:.4f}" for name, values in shown if values]
        print(f"Epoch {len(history)}/{self.epochs} - {now - self.started:.1f}s - {' - '.join(parts)}")
        self.started = now


def _input_size(shape: Sequence[int] | None, dim: int | None, where: str) -> int | None:
    """The input size from ``input_shape=(n,)`` or ``input_dim=n`` (None if neither is given)."""
    if shape is None:
        return None if dim is None else whole_number(dim, f"{where}: input_dim")
    if dim is not None:
        raise ValueError(f"{where}: give input_shape= or input_dim=, not both")
    if isinstance(shape, (numbers.Real, str)) or len(shape) != 1:
        raise ValueError(f"{where}: input_shape is the shape of one sample, a tuple of one size like "
                         f"(784,) (a sample is a flat list of numbers: flatten images first), got {shape!r}")
    return whole_number(shape[0], f"{where}: input_shape[0]")


def _output_width(layer: Module, width: int | None) -> int | None:
    """How many values ``layer`` gives for ``width`` inputs (None: not known yet)."""
    if isinstance(layer, Layer):
        return layer.output_width(width)
    if isinstance(layer, nn_layers.Layer):
        return layer.nout
    return width  # a Dropout


def _is_input_layer(layer: Module) -> bool:
    return type(layer) in (Layer, Input)


def _as_sample(x: object, where: str) -> list:
    if isinstance(x, (Value, numbers.Real)) or isinstance(x, (str, bytes)):
        raise TypeError(f"{where} takes one sample as a list of numbers, got {type(x).__name__} {x!r}")
    return list(x)  # type: ignore[call-overload]


def _as_rows(X: object, where: str) -> list[list]:
    rows = [_as_sample(row, f"{where}: each row of X") for row in X]  # type: ignore[attr-defined]
    if not rows:
        raise ValueError(f"{where}: X is empty; give at least one sample")
    return rows


def _class_of_one_hot(row: object, index: int) -> int:
    """The class index of a one-hot label row like [0, 1, 0]."""
    values = list(row) if not isinstance(row, numbers.Real) else None  # type: ignore[call-overload]
    if values is None or sorted(values) != [0] * (len(values) - 1) + [1]:
        raise ValueError(f"categorical_crossentropy needs one-hot labels like [0, 1, 0]; label {index} "
                         f"is {row!r}. For class numbers use 'sparse_categorical_crossentropy'")
    return values.index(1)


def _regression_metric(name: str, predictions: list, targets: Sequence) -> float:
    """Mean squared ("mse") or absolute ("mae") error between predictions and targets."""
    errors = []
    for prediction, target in zip(predictions, targets):
        pairs = zip(prediction, target) if isinstance(prediction, list) else [(prediction, target)]
        errors += [float(p) - float(t) for p, t in pairs]
    power = 2 if name == "mse" else 1
    return math.fsum(abs(e) ** power for e in errors) / len(errors)
