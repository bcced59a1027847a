"""RNNCell, LSTMCell, RNN and LSTM: names, shapes, errors, PyTorch float64 through both twins, and the tape."""
import random

import pytest
from hypothesis import given, settings, strategies as st

from glassgrad.engine import Value
from glassgrad.nn import LSTM, RNN, LSTMCell, RNNCell

from conftest import check_replay_matches_eager
from twin_check import both_ways, nested

FEW = settings(max_examples=15)


def parameter_shapes(module):
    return {name: (len(tensor), len(tensor[0])) if isinstance(tensor[0], list) else (len(tensor),)
            for name, tensor in vars(module).items() if name.startswith(("weight", "bias"))}


def test_cell_parameters_have_torch_names_and_shapes_with_lstm_gates_stacked():
    assert parameter_shapes(RNNCell(3, 2, seed=0)) == {
        "weight_ih": (2, 3), "weight_hh": (2, 2), "bias_ih": (2,), "bias_hh": (2,)}
    assert parameter_shapes(LSTM(3, 2, seed=0)) == {
        "weight_ih_l0": (8, 3), "weight_hh_l0": (8, 2), "bias_ih_l0": (8,), "bias_hh_l0": (8,)}
    names = [name for name, _ in RNN(1, 2, seed=0).named_parameters()]
    assert names == ["weight_ih_l0.0.0", "weight_ih_l0.1.0", "weight_hh_l0.0.0", "weight_hh_l0.0.1",
                     "weight_hh_l0.1.0", "weight_hh_l0.1.1", "bias_ih_l0.0", "bias_ih_l0.1",
                     "bias_hh_l0.0", "bias_hh_l0.1"]


def test_rnn_cell_step_is_the_activation_of_both_affine_maps():
    cell = RNNCell(1, 1, nonlinearity="relu", seed=3)
    (h,) = cell([2.0], [-1.0])
    (w_ih,), (w_hh,) = cell.weight_ih[0], cell.weight_hh[0]
    z = w_ih.data * 2.0 + cell.bias_ih[0].data + w_hh.data * -1.0 + cell.bias_hh[0].data
    assert h.data == pytest.approx(max(z, 0.0))


def test_rnn_applies_the_same_cell_at_every_step_and_returns_every_state():
    rnn = RNN(2, 3, seed=1)
    cell = RNNCell(2, 3, seed=1)  # same seed, same weights
    sequence = [[0.5, -1.0], [1.5, 0.2], [-0.3, 0.9]]
    outputs, last = rnn(sequence)
    h = None
    for x, output in zip(sequence, outputs):
        h = cell(x, h)
        assert [v.data for v in output] == [v.data for v in h]
    assert last is outputs[-1]


def test_lstm_cell_returns_h_and_c_and_starts_from_zeros():
    cell = LSTMCell(2, 3, seed=0)
    h, c = cell([1.0, -1.0])
    h2, c2 = cell([1.0, -1.0], ([0.0] * 3, [0.0] * 3))
    assert [v.data for v in h + c] == [v.data for v in h2 + c2] and len(h) == len(c) == 3


@pytest.mark.parametrize("call, message", [
    (lambda: RNNCell(2, 3)([1.0], None), "expects an input vector of length 2, got length 1"),
    (lambda: RNNCell(2, 3)([1.0, 2.0], [0.0]), "expects a hidden state of length 3, got length 1"),
    (lambda: LSTMCell(2, 3)([1.0, 2.0], ([0.0] * 3, [0.0])), "expects a cell state of length 3"),
    (lambda: RNN(2, 3)([[1.0, 2.0, 3.0]]), "expects input vectors of length 2, the sequence's have length 3"),
    (lambda: LSTM(2, 3)([]), "lengths are \\[0\\]"),
    (lambda: RNN(2, 3)([1.0, 2.0]), "a list nested 2 deep; at depth 1 it found float 1.0"),
])
def test_bad_shapes_raise_an_error_naming_the_module_and_the_value(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "(2, 3" in str(error.value)  # the module's repr: RNNCell(2, 3, ...)


def test_unknown_nonlinearity_names_the_module_and_the_choices():
    with pytest.raises(ValueError, match="RNN: unknown nonlinearity 'sigmoid'; choose one of 'tanh', 'relu'"):
        RNN(2, 3, nonlinearity="sigmoid")


# ---------------------------------------------------------------- PyTorch twins

@st.composite
def recurrent_cases(draw, longest=4):
    input_size, hidden_size, steps = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, longest))
    return (input_size, hidden_size, draw(st.sampled_from(["tanh", "relu"])),
            draw(nested((steps, input_size))), draw(nested((1, hidden_size))), draw(nested((1, hidden_size))),
            draw(st.integers(0, 2**16)))


@FEW
@given(case=recurrent_cases())
def test_rnn_cell_and_lstm_cell_match_their_torch_twins_both_ways(case):
    pytest.importorskip("torch")
    n_in, n_hidden, nonlinearity, sequence, h, c, seed = case
    both_ways(RNNCell(n_in, n_hidden, nonlinearity, seed=seed),
              lambda nn: nn.RNNCell(n_in, n_hidden, nonlinearity=nonlinearity), [sequence[0], h[0]],
              lambda cell, x, h: cell(x, h), lambda cell, x, h: [cell(x, h)], seed)
    both_ways(LSTMCell(n_in, n_hidden, seed=seed), lambda nn: nn.LSTMCell(n_in, n_hidden),
              [sequence[0], h[0], c[0]], lambda cell, x, h, c: cell(x, (h, c)),
              lambda cell, x, h, c: cell(x, (h, c)), seed)


def check_sequences_both_ways(case):
    n_in, n_hidden, nonlinearity, sequence, h0, c0, seed = case
    both_ways(RNN(n_in, n_hidden, nonlinearity, seed=seed),
              lambda nn: nn.RNN(n_in, n_hidden, nonlinearity=nonlinearity, batch_first=True),
              [sequence, h0], lambda rnn, xs, h0: rnn(xs, h0[0]), lambda rnn, xs, h0: rnn(xs, h0), seed)
    both_ways(LSTM(n_in, n_hidden, seed=seed), lambda nn: nn.LSTM(n_in, n_hidden, batch_first=True),
              [sequence, h0, c0], lambda lstm, xs, h0, c0: _flat_lstm(lstm(xs, (h0[0], c0[0]))),
              lambda lstm, xs, h0, c0: _flat_lstm(lstm(xs, (h0, c0))), seed)


def _flat_lstm(result):
    outputs, (h, c) = result
    return [outputs, h, c]


@FEW
@given(case=recurrent_cases())
def test_rnn_and_lstm_over_a_sequence_match_their_torch_twins_both_ways(case):
    pytest.importorskip("torch")
    check_sequences_both_ways(case)


@pytest.mark.slow
@settings(max_examples=5)
@given(case=recurrent_cases(longest=12))
def test_rnn_and_lstm_over_longer_sequences_match_their_torch_twins_both_ways(case):
    pytest.importorskip("torch")
    check_sequences_both_ways(case)


def test_the_lstm_twin_unrolls_a_batch_first_sequence():
    torch = pytest.importorskip("torch")
    lstm = LSTM(2, 3, seed=0)
    sequence = [[0.1, 0.2], [0.3, -0.4]]
    outputs, _ = lstm(sequence)
    batched, _ = lstm.to_torch()(torch.tensor([sequence], dtype=torch.float64))
    assert batched.shape == (1, 2, 3)
    assert batched[0].flatten().tolist() == pytest.approx([v.data for h in outputs for v in h], abs=1e-12)


def test_from_torch_refuses_layers_glassgrad_has_no_twin_for():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="LSTM.from_torch: glassgrad has no twin for more than one layer"):
        LSTM.from_torch(torch.nn.LSTM(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="RNNCell.from_torch: glassgrad has no twin for a recurrent layer without"):
        RNNCell.from_torch(torch.nn.RNNCell(2, 3, bias=False))


def test_a_value_state_carries_the_gradient_back_through_every_step():
    lstm = LSTM(1, 2, seed=0)
    h0, c0 = [Value(0.1), Value(-0.2)], [Value(0.3), Value(0.0)]
    _, (h, _) = lstm([[1.0]] * 3, (h0, c0))
    h[0].backward()
    assert all(v.grad != 0.0 for v in h0 + c0)


@pytest.mark.parametrize("kind", [RNN, LSTM])
def test_an_rnn_or_lstm_traced_once_replays_eagers_loss_and_gradients_on_new_sequences(kind):
    model = kind(2, 3, seed=0)
    rng = random.Random(1)

    def batch():
        return [[[rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0)] for _ in range(6)] for _ in range(3)]

    def loss_of(sequences):
        total = 0.0
        for sequence in sequences:
            outputs, _ = model(sequence)
            total = total + sum(h * h for h in outputs[-1]) + outputs[0][0]
        return total

    check_replay_matches_eager(model.parameters(), loss_of, batch(), batch())
