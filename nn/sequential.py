"""Sequential and Dense: the Keras way to build and train a model, as a thin layer over nn.

    model = Sequential([Dense(16, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"],
                  learning_rate=0.05)
    history = model.fit(X, y, epochs=30, batch_size=16)   # an nn.History
    model.evaluate(X, y)                                   # {"loss": ..., "accuracy": ...}
    model.predict(X[:3])                                   # [0.97, 0.02, 0.88]

Nothing here is a second engine: a Dense layer is a list of ``nn.Neuron``s, the names
of losses and optimizers are translated to ``nn``'s, and ``fit`` is ``nn.fit``.

The input size is inferred: from ``Dense(16, input_dim=2)`` or
``Sequential([...], input_dim=2)``, else from the first sample the model sees (a call,
``fit``, ``evaluate`` or ``predict``). Until then the model has no parameters.

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
from typing import Callable, Sequence

from glassgrad.engine import Value
from glassgrad.engine.tape import detached_max

from .arguments import choose_one, whole_number
from .layers import ACTIVATIONS, Dropout, Neuron
from .losses import LOSSES, binary_cross_entropy_with_logits, get_loss, softmax_cross_entropy
from .module import Module
from .optim import OPTIMIZERS, SGD, Optimizer, get_optimizer
from .predictions import base_loss, evaluation_mode, prepare_labels
from .rng import make_rng
from .train import History, accuracy, fit

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


class Dense(Module):
    """A fully connected layer: ``units`` neurons that read every input, then an activation.

        out_j = activation(b_j + sum_i w_ji x_i)

    ``activation`` is None or "linear" (the identity, Keras's default), one of
    ``nn.ACTIVATIONS`` ("relu", "tanh", "sigmoid", "step", ...) or "softmax" (over the
    whole layer). The neurons themselves are linear ``nn.Neuron``s; the layer applies the
    activation, so ``logits(x)`` can give the scores before it. ``input_dim`` may be left
    out: the layer is built when ``Sequential`` learns its input size.
    """

    def __init__(self, units: int, activation: str | None = None, *, input_dim: int | None = None,
                 seed: int | None = None) -> None:
        self.units = whole_number(units, "Dense: units (the number of neurons)")
        name = "linear" if activation is None else activation
        choose_one(name, DENSE_ACTIVATIONS, "activation", where="Dense: ",
                   otherwise=" (or None for linear)")
        if name == "softmax" and self.units == 1:
            raise ValueError("Dense: a softmax over 1 unit is always 1; use activation='sigmoid' "
                             "for one output, or give one unit per class")
        self.activation = name
        self.input_dim = None if input_dim is None else whole_number(input_dim, "Dense: input_dim")
        self._seed = seed
        self.neurons: list[Neuron] = []  # made by build(), or by the first call

    @property
    def built(self) -> bool:
        return bool(self.neurons)

    def build(self, input_dim: int, rng: random.Random | None = None) -> None:
        """Make the neurons for ``input_dim`` inputs (weights from ``seed``, else ``rng``)."""
        if self.input_dim is not None and input_dim != self.input_dim:
            raise ValueError(f"{self!r} was declared with input_dim={self.input_dim} but receives "
                             f"{input_dim} values from the layer before it")
        if self.built:
            return
        if self._seed is not None:
            rng = random.Random(self._seed)
        self.input_dim = input_dim
        self.neurons = [Neuron(input_dim, activation="linear", rng=rng) for _ in range(self.units)]

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


class Sequential(Module):
    """Layers applied one after the other: ``Dense``, ``Dropout`` or ``nn.Layer``.

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
        self._compiled: dict | None = None  # what compile() chose
        for layer in layers:
            self.add(layer)
        if input_dim is None and self.layers:  # Dense(16, input_dim=2) first
            input_dim = getattr(self.layers[0], "input_dim", None)
        if input_dim is not None:
            self.build(whole_number(input_dim, "Sequential: input_dim"))

    def add(self, layer: Module) -> None:
        """Append a layer (Keras's ``model.add``); before the model is built only."""
        if self.input_dim is not None:
            raise RuntimeError(f"{self!r} is already built; add layers before its input size is known")
        if not isinstance(layer, (Dense, Dropout)) and not hasattr(layer, "nout"):
            raise TypeError(f"Sequential takes Dense, Dropout or nn.Layer layers, got "
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
        width = input_dim
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                layer.build(width, rng)
                width = layer.units
            elif not isinstance(layer, Dropout):  # an nn.Layer: its size is fixed
                if layer.nin != width:
                    raise ValueError(f"Sequential: layer {i}, {layer!r}, takes {layer.nin} inputs "
                                     f"but the layer before it gives {width}")
                width = layer.nout
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
        """The last layer that is not a Dropout: the one whose activation makes the outputs."""
        return next((layer for layer in reversed(self.layers) if not isinstance(layer, Dropout)), None)

    # ------------------------------------------------------------ training

    def compile(self, optimizer: str | Optimizer = "sgd", loss: str | Callable[..., Value] = "mse",
                metrics: Sequence[str] = (), *, learning_rate: float | None = None,
                weight_decay: float = 0.0) -> None:
        """Choose how ``fit`` trains and what ``evaluate`` reports.

        optimizer      "sgd", "momentum" (SGD, momentum 0.9), "rmsprop", "adam", or an
                       nn optimizer made on this model's ``parameters()``;
        loss           "mse", "binary_crossentropy", "categorical_crossentropy",
                       "sparse_categorical_crossentropy", "hinge", a name of
                       ``nn.LOSSES`` or a function (outputs, labels) -> Value;
        metrics        any of "accuracy", "mse", "mae";
        learning_rate  the step size (default: the nn optimizer's own default);
        weight_decay   L2 weight decay: each gradient gets + weight_decay * p.
        """
        loss_fn, one_hot = loss, False
        if not callable(loss):
            known = [*KERAS_LOSSES, *(name for name in LOSSES if name not in KERAS_LOSSES)]
            key = choose_one(loss, known, "loss", ignore_case=True)
            loss_fn, one_hot = get_loss(KERAS_LOSSES.get(key, key)), key == "categorical_crossentropy"
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
        self.loss_fn = loss_fn
        self._compiled = {"optimizer": optimizer, "loss": self.loss_fn,
                          "one_hot": one_hot, "metrics": list(metrics),
                          "learning_rate": learning_rate, "weight_decay": weight_decay}
        self.optimizer = None  # made on first fit, once the parameters exist

    def fit(self, X: Sequence[Sequence[float]], y: Sequence, *, epochs: int = 1, batch_size: int | None = 32,
            verbose: int = 1, seed: int | None = None) -> History:
        """Train for ``epochs`` passes over (X, y) in shuffled mini-batches: ``nn.fit``.

        ``batch_size`` defaults to 32, as in Keras; ``None`` takes one step per epoch on
        all samples. ``seed`` fixes the shuffling; ``verbose=0`` hides the progress bar.
        Returns the ``nn.History`` (loss, accuracy per epoch).
        Calling fit again continues training (the optimizer keeps its state).
        """
        settings = self._settings("fit")
        rows = _as_rows(X, "fit")
        if not self.built:
            self.build(len(rows[0]))
        if self.optimizer is None:
            self.optimizer = self._make_optimizer(settings)
        return fit(self._loss_model(settings), rows, self._labels(y, settings), loss=settings["loss"],
                   optimizer=self.optimizer, epochs=epochs, batch_size=batch_size, seed=seed,
                   progress=bool(verbose))

    def evaluate(self, X: Sequence[Sequence[float]], y: Sequence) -> dict[str, float]:
        """The loss and each compiled metric on (X, y), in eval mode (no dropout)."""
        settings = self._settings("evaluate")
        rows, loss_fn, model = _as_rows(X, "evaluate"), settings["loss"], self._loss_model(settings)
        labels = prepare_labels(self._labels(y, settings), len(rows), loss_fn, where="evaluate")
        with evaluation_mode(self):
            results = {"loss": loss_fn([model(row) for row in rows], labels).data}
            predictions = self.predict(rows) if {"mse", "mae"} & set(settings["metrics"]) else []
            for metric in settings["metrics"]:
                if metric == "accuracy":
                    results[metric] = accuracy(model, rows, labels, loss=loss_fn)
                else:
                    results[metric] = _regression_metric(metric, predictions, y)
        return results

    def predict(self, X: Sequence[Sequence[float]]) -> list[float] | list[list[float]]:
        """The model's outputs for each row of X as plain floats (eval mode: no dropout).

        One float per row for a one-output model, else a list per row. With a sigmoid
        or softmax last layer these are probabilities.
        """
        rows = _as_rows(X, "predict")
        with evaluation_mode(self):
            outputs = [self(row) for row in rows]
        return [o.data if isinstance(o, Value) else [v.data for v in o] for o in outputs]

    def summary(self) -> str:
        """A table of the layers, their output sizes and parameter counts."""
        lines = [f"{'layer':<32}{'outputs':>8}{'parameters':>12}"]
        width = self.input_dim
        for layer in self.layers:
            if isinstance(layer, Dense):
                width = layer.units
            elif not isinstance(layer, Dropout):
                width = layer.nout
            count = len(layer.parameters())
            lines.append(f"{layer!r:<32}{'?' if width is None else width:>8}{count:>12}")
        total = len(self.parameters()) if self.built else "? (input size unknown)"
        lines.append(f"total parameters: {total}")
        return "\n".join(lines)

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
        absorbed = LOGIT_LOSSES.get(base_loss(settings["loss"]))
        if absorbed is None:
            return self
        output_layer = self._output_layer()
        last = self.output_activation
        if last == "linear" or (last == absorbed and isinstance(output_layer, Dense)):
            return _Logits(self)
        raise ValueError(f"this loss works on scores (logits) and applies {absorbed} itself; end the "
                         f"model with Dense(..., activation={absorbed!r}) or a linear layer, not {output_layer!r}")

    def _labels(self, y: Sequence, settings: dict) -> list:
        labels = list(y)
        if settings["one_hot"]:
            return [_class_of_one_hot(row, i) for i, row in enumerate(labels)]
        return labels

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
