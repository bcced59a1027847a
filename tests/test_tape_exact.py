"""The tape gives exactly eager's floats: every value and every gradient, bit for bit.

Eager backward adds each node's incoming contributions starting from 0.0, in reverse
topological order and, within a node, in argument order. Floating-point addition is not
associative, so the tape must add the same terms in the same order; these tests compare
the bits (``float.hex``, which also tells -0.0 from 0.0) of parameters' and inputs'
gradients on graphs where a node is read by many others, across many waves."""
from __future__ import annotations

import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad.nn as nn
import glassgrad.nn.keras as dl
from glassgrad.engine import Value, topological_order, trace
from glassgrad.engine.tape import redrawn_constants
from glassgrad.nn import MLP, softmax_cross_entropy
from glassgrad.nn.losses import labels_as_inputs
from strategies import PROGRAM_OPS, Program, Step, glassgrad_apply, programs, reals


def bits(numbers) -> list[str]:
    return [float(x).hex() for x in numbers]


def _run_on(program: Program, xs: list) -> Value:
    """The program on leaves given as they are (fresh Values, a recording's leaves, parameters)."""
    return Program(tuple(xs), program.steps).run(lambda leaf: leaf, glassgrad_apply)[1]


def _eager(program: Program, numbers: list[float]) -> tuple[float, list[float]] | None:
    leaves = [Value(x) for x in numbers]
    try:
        root = _run_on(program, leaves)
        root.backward()
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return root.data, [leaf.grad for leaf in leaves]


@st.composite
def reusing_programs(draw) -> Program:
    """A random graph over every op of the table in which each leaf is read 3+ times: random
    steps on earlier nodes, then a sum that reads every leaf three times more, so a leaf's
    gradient is summed from many terms that arrive in different waves."""
    leaves = draw(st.lists(reals(-2, 2), min_size=1, max_size=4))
    values = [Value(x) for x in leaves]
    steps: list[Step] = []
    for op_id in draw(st.lists(st.sampled_from(sorted(PROGRAM_OPS)), min_size=3, max_size=16)):
        args = tuple(draw(st.integers(0, len(values) - 1)) for _ in range(PROGRAM_OPS[op_id].arity))
        try:
            out = glassgrad_apply(op_id, [values[a] for a in args])
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if abs(out.data) > 1e6:
            continue
        steps.append(Step(op_id, args))
        values.append(out)
    total = len(values) - 1
    for _ in range(3):
        for leaf in range(len(leaves)):
            steps.append(Step("mul", (leaf, draw(st.integers(0, total)))))
            steps.append(Step("add", (total, len(leaves) + len(steps) - 1)))
            total = len(leaves) + len(steps) - 1
    return Program(tuple(leaves), tuple(steps))


@settings(max_examples=150, deadline=None)
@given(program=st.one_of(reusing_programs(), programs()), data=st.data())
def test_replayed_value_and_input_gradients_equal_eager_bit_for_bit(program, data):
    traced = trace(lambda xs: _run_on(program, xs))
    traced(list(program.leaves))
    new = data.draw(st.lists(reals(-3, 3), min_size=len(program.leaves), max_size=len(program.leaves)))
    expected = _eager(program, new)
    assume(expected is not None)
    out = traced(new)
    out.backward()
    value, grads = expected
    assert bits([out.data]) == bits([value]), str(program)
    assert bits(out.input_grads()) == bits(grads), str(program)


@settings(max_examples=100, deadline=None)
@given(program=reusing_programs(), old_grad=reals(-1, 1))
def test_closed_over_parameters_get_eager_gradients_bit_for_bit_added_to_their_old_ones(program, old_grad):
    expected = _eager(program, list(program.leaves))
    assume(expected is not None)
    params = [Value(x) for x in program.leaves]
    traced = trace(lambda: _run_on(program, params))
    for p in params:
        p.grad = old_grad
    traced().backward()
    eager_params = [Value(x) for x in program.leaves]
    for p in eager_params:
        p.grad = old_grad
    _run_on(program, eager_params).backward()
    assert bits(p.grad for p in params) == bits(p.grad for p in eager_params), str(program)


@settings(max_examples=60, deadline=None)
@given(program=st.one_of(reusing_programs(), programs()))
def test_the_tapes_walk_of_its_arrays_is_eagers_topological_order(program):
    traced = trace(lambda xs: _run_on(program, xs))
    traced(list(program.leaves))
    tape = traced.last_tape
    nodes = tape.rebuild(tape.last_run.values)  # the same graph as Values, one per slot
    slot_of = {id(node): slot for slot, node in enumerate(nodes)}
    root = tape.roots[0]
    assert [slot_of[id(node)] for node in topological_order(nodes[root])] == tape.eager_order(root)


def test_the_walk_of_an_mlp_with_softmax_and_fused_sums_is_eagers_topological_order():
    model = MLP(3, [4, 3], seed=1)
    form = labels_as_inputs(softmax_cross_entropy)
    traced = trace(lambda rows, one_hots: form.loss([model(x) for x in rows], one_hots))
    traced([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], form.encode([2, 0]))
    tape = traced.last_tape
    assert tape.sum_terms and tape.max_inputs  # fused sums, and a detached max (a leaf for eager)
    nodes = tape.rebuild(tape.last_run.values)
    slot_of = {id(node): slot for slot, node in enumerate(nodes)}
    root = tape.roots[0]
    assert [slot_of[id(node)] for node in topological_order(nodes[root])] == tape.eager_order(root)


def test_one_input_read_by_many_neurons_across_waves_gets_eagers_gradient_where_wave_order_did_not():
    # Found by search: the tape before eager-order sums gave d/dx0 = -2.3879416349649545
    # here (np.bincount adds a wave's terms in its own order), eager gives -2.387941634964954.
    ws = [1.38, 1.03, -0.32, -0.96, 0.05, -0.38]

    def fn(x):
        h = (ws[0] * x[0] + ws[1] * x[1]).tanh()
        g = (ws[2] * x[0] + ws[3] * h).tanh()
        return x[0] * g + ws[4] * x[0] * h + x[0] * x[1] + ws[5] * x[0]
    out = trace(fn)([1.14, -0.79])
    out.backward()
    leaves = [Value(1.14), Value(-0.79)]
    fn(leaves).backward()
    assert leaves[0].grad == -2.387941634964954
    assert bits(out.input_grads()) == bits(leaf.grad for leaf in leaves)


def test_a_sum_of_many_terms_that_each_read_the_same_parameter_is_exact():
    w = Value(0.3)
    rows = [[0.1 * k - 2.0, 1.0 / (k + 3)] for k in range(40)]

    def fn(X):
        return nn.losses._sum([(w * x[0] + x[1] * w * w).tanh() * (x[0] - w) for x in X])
    traced = trace(fn)
    traced(rows).backward()
    tape_grad, w.grad = w.grad, 0.0
    fn([[Value(a), Value(b)] for a, b in rows]).backward()
    assert bits([tape_grad]) == bits([w.grad])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 6), classes=st.integers(2, 4))
def test_an_mlp_batch_with_softmax_cross_entropy_as_fit_records_it_is_exact(seed, batch, classes):
    rng = random.Random(seed)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(batch)]
    y = [rng.randrange(classes) for _ in range(batch)]
    form = labels_as_inputs(softmax_cross_entropy)
    traced_model, eager_model = MLP(3, [5, 4, classes], seed=seed), MLP(3, [5, 4, classes], seed=seed)
    traced = trace(lambda rows, one_hots: form.loss([traced_model(x) for x in rows], one_hots))
    traced(X, form.encode(y))  # records
    out = traced(X, form.encode(y))
    out.backward()
    leaves = [[Value(v) for v in x] for x in X]
    eager = softmax_cross_entropy([eager_model(x) for x in leaves], y)
    eager.backward()
    assert bits([out.data]) == bits([eager.data])
    assert bits(p.grad for p in traced_model.parameters()) == bits(p.grad for p in eager_model.parameters())
    n_inputs = 3 * batch  # then the one-hot labels, which eager mode has no Values for
    assert bits(out.input_grads()[:n_inputs]) == bits(v.grad for x in leaves for v in x)


def test_dropout_masks_and_redrawn_constants_give_exact_gradients_on_every_replay():
    traced_model = MLP(2, [6, 6, 1], seed=4, dropout=0.5)
    eager_model = MLP(2, [6, 6, 1], seed=4, dropout=0.5)
    noise = random.Random(1)
    eager_noise = random.Random(1)
    w = Value(0.7)
    eager_w = Value(0.7)

    def scaled(model, weight, source, x):
        factors = redrawn_constants(lambda: [source.uniform(0.5, 1.5) for _ in range(3)])
        return sum((model(x) * f * weight for f in factors), Value(0.0))
    traced = trace(lambda x: scaled(traced_model, w, noise, x))
    for x in ([0.3, -0.7], [1.0, 2.0], [-0.4, 0.9]):
        traced(x).backward()
        scaled(eager_model, eager_w, eager_noise, [Value(v) for v in x]).backward()
        assert bits(p.grad for p in traced_model.parameters()) == bits(p.grad for p in eager_model.parameters())
        assert bits([w.grad]) == bits([eager_w.grad])


def test_a_zero_gradient_through_an_infinite_local_derivative_adds_nothing_exactly():
    # sqrt'(0) = inf, but the gradient reaching sqrt is 0 (it is multiplied by 0.0):
    # eager skips the node, so x gets only its other terms; -0.0 terms change no sum.
    def fn(x):
        return x[0].sqrt() * 0.0 + x[0] * x[1] + (-x[0]) * 0.0 + x[0] * 3.0
    out = trace(fn)([0.0, -2.0])
    out.backward()
    leaves = [Value(0.0), Value(-2.0)]
    fn(leaves).backward()
    assert bits(out.input_grads()) == bits(leaf.grad for leaf in leaves)


def test_an_infinite_gradient_is_still_refused_with_eagers_error():
    out = trace(lambda x: x[0].sqrt() * 2.0 + x[0])([0.0])
    with pytest.raises(OverflowError):
        out.backward()


@pytest.mark.parametrize("make_model", [
    lambda: MLP(2, [8, 8, 1], seed=0),
    lambda: MLP(2, [8, 3], seed=0, dropout=0.2),
])
def test_fit_with_and_without_the_tape_gives_the_same_history_and_weights_exactly(make_model):
    X, y = nn.make_moons(40, noise=0.1, seed=0)
    loss = "hinge" if make_model().nouts[-1] == 1 else "softmax_cross_entropy"
    runs = []
    for traced in (False, True):
        model = make_model()
        history = nn.fit(model, X, y, loss=loss, lr=0.1, epochs=3, batch_size=16, l2=1e-3, seed=1,
                         progress=False, trace=traced)
        runs.append((history.loss, [p.data for p in model.parameters()]))
    (eager_loss, eager_weights), (traced_loss, traced_weights) = runs
    assert bits(traced_loss) == bits(eager_loss)
    assert bits(traced_weights) == bits(eager_weights)


def test_a_keras_model_trained_with_adam_on_and_off_the_tape_ends_with_the_same_weights():
    rng = random.Random(3)
    X = [[rng.uniform(0, 4) for _ in range(6)] for _ in range(24)]
    y = [rng.randrange(3) for _ in range(24)]
    runs = []
    for jit in (False, True):
        model = dl.Sequential([dl.Input(shape=(6,)), dl.Dense(8, activation="relu"),
                               dl.Dense(3, activation="softmax")], seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        history = model.fit(X, y, epochs=3, batch_size=10, verbose=0, seed=0)
        runs.append((history.loss, [p.data for p in model.parameters()]))
    assert bits(runs[1][0]) == bits(runs[0][0])
    assert bits(runs[1][1]) == bits(runs[0][1])
