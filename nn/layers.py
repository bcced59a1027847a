"""Neuron, Layer, MLP and Dropout: a neural network built from scalar Values.

A neuron computes  act(b + w0*x0 + w1*x1 + ...)  one engine op at a time, so the
graph of a forward pass shows every product and every sum. The defaults are
micrograd's: weights uniform in [-1, 1], bias 0, ReLU hidden layers and a linear
last layer, with the weights drawn from the global ``random`` module unless a
``seed`` (or an ``rng``) is given (see ``nn.rng``).
"""
from __future__ import annotations

import numbers
import random
from typing import Callable, Iterable, NamedTuple, Sequence

from glassgrad.engine import Value, ops
from glassgrad.engine.tape import guard, redrawn_constants

from .arguments import below_one, choose_one, whole_number
from .module import Module, _walk
from .rng import make_rng

Number = float | int
Input = Sequence[Value | Number]

# The activations by name: every op the op table marks as an activation (relu, tanh,
# sigmoid, step, leaky_relu with its default slope, ...), applied by its Value method.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    **{name: getattr(Value, op.methods[0]) for name, op in ops.ACTIVATIONS.items()},
    "linear": None,  # the identity: no op in the graph
}


class Group(NamedTuple):
    """One box of ``draw_graph(..., group_by=module)``: a neuron, a kernel position, a cell step.

    label    what the box is called ("out[0,2,3]", "step 4"; "" for a neuron: its name says it)
    outputs  the (name, Value) pairs the box shows, e.g. (("h[0]", h0), ("h[1]", h1))
    inputs   the Values the group reads; the grouping walk (``viz.groups``) stops at them
    """

    label: str
    outputs: tuple[tuple[str, Value], ...]
    inputs: tuple[Value, ...]


def record_groups(module: Module, groups: Iterable[Group]) -> None:
    """Keep the groups of ``module``'s latest call (each call replaces the last one's).

    Only the latest call is kept, so a training loop does not pile up graphs: draw one
    forward pass right after making it.
    """
    module._groups = list(groups)  # type: ignore[attr-defined]  # "_": Module's parameter walk skips it


def named(prefix: str, values: Sequence) -> tuple[tuple[str, Value], ...]:
    """(``prefix[k]``, value) for each Value of ``values``: the rows of a group's box."""
    return tuple((f"{prefix}[{k}]", value) for k, value in enumerate(values) if isinstance(value, Value))


def only_values(items: Iterable) -> tuple[Value, ...]:
    """The Values among ``items`` (plain numbers are constants, not inputs to stop at)."""
    return tuple(item for item in items if isinstance(item, Value))


def recorded_groups(module: Module) -> list[Group]:
    """The groups the latest calls of ``module`` and its sub-Modules recorded, parents first.

    Each label is prefixed with the sub-Module's dotted name (``layers.0.neurons.3``).
    """
    found = []
    for name, item in _walk(module):
        if isinstance(item, Module):
            for group in getattr(item, "_groups", ()):
                label = " ".join(part for part in (name, group.label) if part) or type(item).__name__
                found.append(group._replace(label=label))
    return found


def _check_activation(activation: str) -> str:
    return choose_one(activation, ACTIVATIONS, "activation")


def _check_probability(p: object, what: str) -> float:
    return below_one(p, f"{what} (the drop probability)")


def _as_inputs(x: object, expected: int, owner: object) -> list:
    """``x`` as a list of ``expected`` inputs (a lone number or Value counts as a list of one)."""
    if isinstance(x, (Value, numbers.Real)) or getattr(x, "shape", None) == ():
        x = [x]
    try:
        inputs = list(x)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{owner!r} takes a list of numbers or Values, got "
                        f"{type(x).__name__}") from None
    if len(inputs) != expected:
        raise ValueError(f"{owner!r} expects {expected} input{'s' if expected != 1 else ''}, "
                         f"got {len(inputs)}")
    return inputs


class Neuron(Module):
    """act(b + sum_i w_i * x_i): ``nin`` weights ``w`` (labelled w0, w1, ...) and a bias ``b``.

    Weights start uniform in [-1, 1], the bias at 0. ``activation`` is one of
    ``ACTIVATIONS``; the derivative of each is declared once, in engine.ops.
    """

    def __init__(self, nin: int, activation: str = "relu", seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        self.nin = whole_number(nin, "Neuron: nin (the number of inputs)")
        self.activation = _check_activation(activation)
        source = make_rng(seed, rng, where="Neuron")
        self.w = [Value(source.uniform(-1.0, 1.0), label=f"w{i}") for i in range(self.nin)]
        self.b = Value(0.0, label="b")

    def __call__(self, x: Input) -> Value:
        inputs = _as_inputs(x, self.nin, self)
        total = self.b
        for weight, x_i in zip(self.w, inputs):
            total = total + weight * x_i  # one mul and one add node per input
        apply = ACTIVATIONS[self.activation]
        out = total if apply is None else apply(total)
        record_groups(self, [Group("", (("out", out),), only_values(inputs))])
        return out

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons that all read the same ``nin`` inputs; returns a list of ``nout`` Values."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        self.nin = whole_number(nin, "Layer: nin (the number of inputs)")
        self.nout = whole_number(nout, "Layer: nout (the number of neurons)")
        self.activation = _check_activation(activation)
        source = make_rng(seed, rng, where="Layer")
        self.neurons = [Neuron(self.nin, activation, rng=_as_rng(source)) for _ in range(self.nout)]

    def __call__(self, x: Input) -> list[Value]:
        inputs = _as_inputs(x, self.nin, self)
        return [neuron(inputs) for neuron in self.neurons]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class Dropout(Module):
    """Inverted dropout: in training, each input is zeroed with probability ``p`` and the
    survivors are scaled by 1/(1 - p), so the expected value of every output equals its
    input; in eval mode (``model.eval()``) it is the identity.

        out_i = x_i * m_i,   m_i = 0 with probability p, else 1/(1 - p)

    The mask value m_i is a constant, so d out_i / d x_i = m_i: the engine's ``mul``
    gives the right gradient. The last mask drawn is kept in ``mask`` (for drawings
    and tests).
    """

    def __init__(self, p: float = 0.5, seed: int | None = None, rng: random.Random | None = None) -> None:
        self.p = _check_probability(p, "Dropout: p")
        self._rng = make_rng(seed, rng, where="Dropout")
        self.mask: list[float] = []

    def __call__(self, x: Input | Value) -> list[Value | Number] | Value:
        """A list in, a list out (a single Value in, a single Value out)."""
        if isinstance(x, Value):
            (dropped,) = self._drop([x])
            assert isinstance(dropped, Value)  # a Value times a mask number is a Value
            return dropped
        return self._drop(list(x))

    def _drop(self, inputs: Sequence[Value | Number]) -> list[Value | Number]:
        guard(lambda: self.training)  # a traced call records anew after train()/eval()
        if not self.training or self.p == 0.0:
            return list(inputs)
        mask = redrawn_constants(lambda: self._draw_mask(len(inputs)))  # a new mask per replay too
        return [x_i * m_i for x_i, m_i in zip(inputs, mask)]

    def _draw_mask(self, size: int) -> list[float]:
        keep_scale = 1.0 / (1.0 - self.p)
        self.mask = [0.0 if self._rng.random() < self.p else keep_scale for _ in range(size)]
        return self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p!r})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one Layer per entry of ``nouts``.

    Hidden layers use ``activation`` (ReLU by default), the last layer
    ``output_activation`` (linear by default: raw scores). ``dropout=p`` puts a
    Dropout after every hidden layer. ``model(x)`` returns a Value when the last layer
    has one neuron, else a list of Values.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 seed: int | None = None, rng: random.Random | None = None, *,
                 dropout: float = 0.0, output_activation: str = "linear") -> None:
        self.nin = whole_number(nin, "MLP: nin (the number of inputs)")
        if isinstance(nouts, numbers.Integral) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1], "
                             f"got {nouts!r}")
        self.nouts = [whole_number(n, "MLP: each layer size") for n in nouts]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation)
        source = make_rng(seed, rng, where="MLP")
        sizes = [self.nin] + self.nouts
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else output_activation,
                  rng=_as_rng(source))
            for i in range(len(self.nouts))
        ]
        self.dropout = _check_probability(dropout, "MLP: dropout")
        hidden_layers = last if self.dropout else 0
        self.dropouts = [Dropout(self.dropout, rng=_as_rng(source)) for _ in range(hidden_layers)]

    def __call__(self, x: Input) -> Value | list[Value]:
        values: list = _as_inputs(x, self.nin, self)
        for i, layer in enumerate(self.layers):
            values = layer(values)  # always a list, even for one neuron
            if i < len(self.dropouts):
                values = self.dropouts[i]._drop(values)  # a list in, a list out
        return values[0] if len(values) == 1 else values

    def __repr__(self) -> str:
        options = ""
        if self.activation != "relu":
            options += f", activation={self.activation!r}"
        if self.output_activation != "linear":
            options += f", output_activation={self.output_activation!r}"
        if self.dropout:
            options += f", dropout={self.dropout!r}"
        return f"MLP({self.nin}, {self.nouts}{options})"


def _as_rng(source: object) -> random.Random | None:
    """Pass a seeded generator down to sub-modules; None means "use the global random"."""
    return source if isinstance(source, random.Random) else None
