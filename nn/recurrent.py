"""RNNCell, LSTMCell, RNN and LSTM: memory, one time step at a time, from scalar Values.

A cell reads one input vector x and the state it carried from the step before, and
returns the new state; ``RNN``/``LSTM`` apply the same cell (the same weights) to each
vector of a sequence in turn. A sequence is a list of vectors, a state a list of
``hidden_size`` Values. The weights are named and shaped as in PyTorch, so a twin
(``to_torch()``) holds the same numbers:

    weight_ih (gates * hidden, input)   weight_hh (gates * hidden, hidden)
    bias_ih   (gates * hidden)          bias_hh   (gates * hidden)

with one gate for an RNN and four for an LSTM, stacked in PyTorch's order i, f, g, o.
"""
from __future__ import annotations

import math
import random
from typing import Sequence

from glassgrad.engine import Value

from .arguments import choose_one, whole_number
from .layers import Group, named, only_values, record_groups
from .module import Module
from .rng import make_rng
from .tensors import affine, parameter, shape_of, vector

Vector = Sequence[Value | float]
NONLINEARITIES = {"tanh": Value.tanh, "relu": Value.relu}
LSTM_GATES = 4  # input, forget, cell candidate (g), output


class _RecurrentWeights(Module):
    """The four weight tensors of a cell, made as PyTorch makes them (uniform in
    [-1/sqrt(hidden), 1/sqrt(hidden)]) and stored under ``suffix`` ("" for a cell,
    "_l0" for PyTorch's one-layer RNN/LSTM)."""

    kind = ""  # the class name, for messages
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, seed: int | None, rng: random.Random | None,
                 suffix: str = "") -> None:
        self.input_size = whole_number(input_size, f"{self.kind}: input_size")
        self.hidden_size = whole_number(hidden_size, f"{self.kind}: hidden_size")
        source = make_rng(seed, rng, where=self.kind)
        bound = 1.0 / math.sqrt(self.hidden_size)
        rows = self.gates * self.hidden_size
        self._suffix = suffix
        for name, shape in [("weight_ih", (rows, self.input_size)), ("weight_hh", (rows, self.hidden_size)),
                            ("bias_ih", (rows,)), ("bias_hh", (rows,))]:
            setattr(self, name + suffix, parameter(shape, bound, source, name + suffix))

    def _gate_sums(self, x: Vector, h: Vector) -> list[Value]:
        """W_ih x + b_ih + W_hh h + b_hh: one sum per gate row."""
        weights = [getattr(self, name + self._suffix) for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")]
        from_input = affine(weights[0], weights[1], vector(x, self.input_size, self, "an input vector"))
        from_state = affine(weights[2], weights[3], vector(h, self.hidden_size, self, "a hidden state"))
        return [a + b for a, b in zip(from_input, from_state)]

    def _zeros(self) -> list[float]:
        return [0.0] * self.hidden_size

    def _sequence(self, sequence: Sequence[Vector]) -> Sequence[Vector]:
        """``sequence`` after checking it is a non-empty list of input vectors of the right size."""
        _, width = shape_of(sequence, 2, self, "a sequence: a list of input vectors")
        if width != self.input_size:
            raise ValueError(f"{self!r} expects input vectors of length {self.input_size}, "
                             f"the sequence's have length {width}")
        return sequence


class RNNCell(_RecurrentWeights):
    """One step of an Elman RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh),  act tanh or relu.

    ``cell(x, h)`` returns the new h (h = None starts from zeros).
    """

    kind = "RNNCell"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 seed: int | None = None, rng: random.Random | None = None) -> None:
        self.nonlinearity = choose_one(nonlinearity, NONLINEARITIES, "nonlinearity", where=f"{self.kind}: ")
        super().__init__(input_size, hidden_size, seed, rng)

    def __call__(self, x: Vector, h: Vector | None = None) -> list[Value]:
        h_next = self._step(x, h)
        record_groups(self, [_rnn_step_group("step", x, h, h_next)])
        return h_next

    def _step(self, x: Vector, h: Vector | None) -> list[Value]:
        activation = NONLINEARITIES[self.nonlinearity]
        return [activation(total) for total in self._gate_sums(x, self._zeros() if h is None else h)]

    def __repr__(self) -> str:
        return f"{self.kind}({self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r})"


class LSTMCell(_RecurrentWeights):
    """One step of an LSTM. With z = W_ih x + b_ih + W_hh h + b_hh cut into four parts:

        i = sigmoid(z_i)   f = sigmoid(z_f)   g = tanh(z_g)   o = sigmoid(z_o)
        c' = f * c + i * g                     h' = o * tanh(c')

    The cell state c is carried by a sum, not squashed at each step: that is how an LSTM
    keeps gradients from vanishing over many steps. ``cell(x, (h, c))`` returns (h', c')
    (None starts both from zeros).
    """

    kind = "LSTMCell"
    gates = LSTM_GATES

    def __init__(self, input_size: int, hidden_size: int, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(input_size, hidden_size, seed, rng)

    def __call__(self, x: Vector, state: tuple[Vector, Vector] | None = None) -> tuple[list[Value], list[Value]]:
        h_next, c_next = self._step(x, state)
        record_groups(self, [_lstm_step_group("step", x, state, h_next, c_next)])
        return h_next, c_next

    def _step(self, x: Vector, state: tuple[Vector, Vector] | None) -> tuple[list[Value], list[Value]]:
        h, c = (self._zeros(), self._zeros()) if state is None else state
        c = vector(c, self.hidden_size, self, "a cell state")
        z = self._gate_sums(x, h)
        n = self.hidden_size
        i, f, o = ([total.sigmoid() for total in z[k * n:(k + 1) * n]] for k in (0, 1, 3))
        g = [total.tanh() for total in z[2 * n:3 * n]]
        c_next = [f_k * c_k + i_k * g_k for f_k, c_k, i_k, g_k in zip(f, c, i, g)]
        h_next = [o_k * c_k.tanh() for o_k, c_k in zip(o, c_next)]
        return h_next, c_next

    def __repr__(self) -> str:
        return f"{self.kind}({self.input_size}, {self.hidden_size})"


class RNN(RNNCell):
    """An RNNCell applied to each vector of a sequence, in order:

        h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh),   h_0 = zeros unless given

    ``rnn(sequence, h0)`` returns (outputs, h_n): every h_t, and the last one. The weights
    are PyTorch's one-layer names ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``.
    """

    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 seed: int | None = None, rng: random.Random | None = None) -> None:
        self.nonlinearity = choose_one(nonlinearity, NONLINEARITIES, "nonlinearity", where=f"{self.kind}: ")
        _RecurrentWeights.__init__(self, input_size, hidden_size, seed, rng, suffix="_l0")

    # RNN unrolls the cell over a sequence, so it takes a sequence where the cell takes one step.
    def __call__(self, sequence: Sequence[Vector],  # type: ignore[override]
                 h0: Vector | None = None) -> tuple[list[list[Value]], list]:
        outputs, groups, h = [], [], h0
        for t, x in enumerate(self._sequence(sequence)):
            h_before, h = h, self._step(x, h)
            outputs.append(h)
            groups.append(_rnn_step_group(f"step {t}", x, h_before, h))
        record_groups(self, groups)
        return outputs, h  # type: ignore[return-value]


class LSTM(LSTMCell):
    """An LSTMCell applied to each vector of a sequence, in order.

    ``lstm(sequence, (h0, c0))`` returns (outputs, (h_n, c_n)): every h_t, and the last
    state. The weights are PyTorch's one-layer names ``weight_ih_l0``, ... ``bias_hh_l0``.
    """

    kind = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        _RecurrentWeights.__init__(self, input_size, hidden_size, seed, rng, suffix="_l0")

    def __call__(self, sequence: Sequence[Vector],  # type: ignore[override]
                 state: tuple[Vector, Vector] | None = None) -> tuple[list[list[Value]], tuple[list, list]]:
        outputs, groups = [], []
        for t, x in enumerate(self._sequence(sequence)):
            state_before, state = state, self._step(x, state)
            outputs.append(state[0])
            groups.append(_lstm_step_group(f"step {t}", x, state_before, *state))
        record_groups(self, groups)
        return outputs, state  # type: ignore[return-value]


def _rnn_step_group(label: str, x: Vector, h: Vector | None, h_next: list[Value]) -> Group:
    """One RNN step as a drawing's box: it reads x and h and shows the new h."""
    return Group(label, named("h", h_next), only_values([*x, *([] if h is None else h)]))


def _lstm_step_group(label: str, x: Vector, state: tuple[Vector, Vector] | None,
                     h_next: list[Value], c_next: list[Value]) -> Group:
    """One LSTM step as a drawing's box: it reads x, h and c and shows the new h and c."""
    h, c = ([], []) if state is None else state
    return Group(label, named("h", h_next) + named("c", c_next), only_values([*x, *h, *c]))
