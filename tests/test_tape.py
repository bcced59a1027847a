"""The compiled tape (engine.tape.trace): replays agree with eager mode on new numbers,
errors are eager's, and every hazard of "never silently wrong" is handled."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.engine import Op, Value, topological_order, trace
from glassgrad.engine.tape import TraceError, traced_map
from glassgrad.nn import MLP, binary_cross_entropy_with_logits, hinge, mse, softmax_cross_entropy
from glassgrad.nn.losses import labels_as_inputs
from strategies import Program, Step, glassgrad_apply, programs, reals


def agree(ours: float, eager: float, scale: float = 1.0) -> bool:
    return math.isclose(ours, eager, rel_tol=1e-12, abs_tol=1e-12 * scale)


def eager_run(program: Program, leaves: list[float]) -> tuple[float, list[float]]:
    built, root = Program(tuple(leaves), program.steps).run(Value, glassgrad_apply)
    root.backward()
    return root.data, [leaf.grad for leaf in built]


def terms_size(program: Program, leaves: list[float]) -> float:
    """The sum of |local derivative * gradient| over every edge of the eager graph: the size
    of the terms each gradient is summed from. The tests here allow rounding on that scale;
    the tape in fact sums in eager's order and agrees bit for bit (tests/test_tape_exact.py)."""
    built, root = Program(tuple(leaves), program.steps).run(Value, glassgrad_apply)
    root.backward()
    terms = [abs(local_grad * node.grad) for node in topological_order(root) for local_grad in node.local_grads]
    return sum(terms)  # inf where the terms overflow (such a graph's gradients do too)


def traced_program(program: Program):
    """The program as a traced function of its leaves (a list of numbers)."""
    return trace(lambda xs: _run_on(program, xs))


def _run_on(program: Program, xs: list) -> Value:
    nodes = list(xs)
    for step in program.steps:
        nodes.append(glassgrad_apply(step.op_id, [nodes[a] if isinstance(a, int) else a
                                                  for a in step.args]))
    return nodes[-1]


def eager_error(program: Program, leaves: list[float]) -> Exception | None:
    try:
        eager_run(program, leaves)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return error
    return None


@given(program=programs(), data=st.data())
def test_replay_on_new_numbers_matches_eager_value_and_every_gradient(program, data):
    traced = traced_program(program)
    traced(list(program.leaves))  # records
    new = data.draw(st.lists(reals(-3, 3), min_size=len(program.leaves),
                             max_size=len(program.leaves)))
    expected_error = eager_error(program, new)
    if expected_error is not None:  # the new numbers leave an op's domain: eager's error
        with pytest.raises(type(expected_error)) as raised:
            out = traced(new)
            out.backward()
        assert str(raised.value) == str(expected_error)
        return
    value, grads = eager_run(program, new)
    out = traced(new)
    out.backward()
    scale = 1.0 + abs(value) + sum(abs(g) for g in grads) + terms_size(program, new)
    assert agree(out.data, value, scale), f"{out.data} vs eager {value}\n{program}"
    for i, (ours, eager) in enumerate(zip(out.input_grads(), grads)):
        assert agree(ours, eager, scale), f"d/dn{i}: {ours} vs eager {eager}\n{program}"
    assert traced.recordings == 1


@given(program=programs(), data=st.data())
def test_parameters_closed_over_get_eager_gradients_and_are_read_at_every_replay(program, data):
    params = [Value(x) for x in program.leaves]
    traced = trace(lambda: _run_on(program, params))
    traced()
    new = data.draw(st.lists(reals(-3, 3), min_size=len(params), max_size=len(params)))
    if eager_error(program, new) is not None:
        return
    for p, x in zip(params, new):
        p.data, p.grad = x, 0.25  # changed in place, with a gradient already there
    out = traced()
    out.backward()
    value, grads = eager_run(program, new)
    scale = 1.0 + abs(value) + sum(abs(g) for g in grads) + terms_size(program, new)
    assert agree(out.data, value, scale)
    for p, eager in zip(params, grads):
        assert agree(p.grad, 0.25 + eager, scale), f"{p.grad} vs 0.25 + {eager}\n{program}"


def test_an_mlp_forward_replays_bit_for_bit_and_its_adds_fuse_into_one_sum_per_neuron():
    model = MLP(3, [8, 8, 1], seed=0)
    traced = trace(lambda x: model(x))
    traced([0.1, 0.2, 0.3])
    x = [0.7, -1.1, 0.4]
    assert traced(x).data == model(x).data  # mul, a left-to-right sum, relu: the same rounding
    tape = traced.last_tape
    assert len(tape.sum_terms) == 17  # every neuron's b + w0*x0 + ... is one node
    assert len(tape.waves) == 8  # mul, sum, relu, mul, sum, relu, mul, sum


def test_backward_twice_gives_exactly_twice_and_adds_to_existing_grads_like_eager():
    model = MLP(2, [4, 1], seed=1)
    traced = trace(lambda X, y: mse([model(x) for x in X], y), static_argnums=(1,))
    X, y = [[0.5, -0.3], [1.0, 2.0]], [1.0, -1.0]
    out = traced(X, y)
    out.backward()
    once = [p.grad for p in model.parameters()]
    out.backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in once]
    model.zero_grad()
    eager = mse([model(x) for x in X], y)
    eager.backward()
    assert [p.grad for p in model.parameters()] == pytest.approx(once, rel=1e-12, abs=1e-15)


def test_an_older_result_keeps_its_own_forward_after_a_newer_call():
    w = Value(2.0)
    traced = trace(lambda x: w * x[0])
    first = traced([3.0])
    traced([5.0])
    first.backward()
    assert first.data == 6.0 and w.grad == 3.0


def test_sgd_steps_through_the_tape_follow_the_eager_steps():
    eager_model, traced_model = MLP(2, [4, 1], seed=2), MLP(2, [4, 1], seed=2)
    X, y = [[0.5, -0.3], [1.0, 2.0], [-1.0, 0.2]], [1.0, -1.0, 0.5]
    step = trace(lambda X, y: mse([traced_model(x) for x in X], y), static_argnums=(1,))
    for _ in range(5):
        for model, loss in ((eager_model, mse([eager_model(x) for x in X], y)),
                            (traced_model, step(X, y))):
            loss.backward()
            for p in model.parameters():
                p.data -= 0.1 * p.grad
                p.grad = 0.0
    for a, b in zip(eager_model.parameters(), traced_model.parameters()):
        assert a.data == pytest.approx(b.data, rel=1e-12, abs=1e-15)
    assert step.recordings == 1


# ------------------------------------------------------------------- eager's errors


@pytest.mark.parametrize("fn, good, bad, message", [
    (lambda x: x[0].log(), 1.0, -1.0, "log(-1.0): log is defined only for x > 0"),
    (lambda x: x[0].sqrt(), 4.0, -4.0, "sqrt(-4.0): sqrt is defined only for x >= 0"),
    (lambda x: 1.0 / x[0], 2.0, 0.0, "1.0 / 0.0: division by zero"),
    (lambda x: x[0].exp(), 1.0, 800.0, "exp(800.0): the result is too large for a float"),
    (lambda x: x[0] ** 0.5, 4.0, -4.0, "(-4.0) ** 0.5: a negative base needs a whole-number"),
    (lambda x: (x[0] - 3.0) ** x[0], 4.0, 2.0, "base must be >= 0"),
])
def test_a_replay_outside_an_ops_domain_raises_the_eager_error_never_a_nan(fn, good, bad, message):
    traced = trace(fn)
    traced([good])
    with pytest.raises((ValueError, ZeroDivisionError, OverflowError)) as raised:
        fn([Value(bad)])
    with pytest.raises(type(raised.value), match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("*", r"\*")) as replayed:
        traced([bad])
    assert str(replayed.value) == str(raised.value)


def test_the_first_failing_node_in_eager_order_is_the_one_named():
    def fn(x):
        first = x[0].log()
        second = x[1].sqrt()
        return second + first  # the graph's walk would meet sqrt first; eager made log first
    traced = trace(fn)
    traced([1.0, 1.0])
    with pytest.raises(ValueError, match=r"log\(-1.0\)"):
        traced([-1.0, -1.0])


def test_an_unused_result_outside_its_domain_still_raises_as_in_eager_mode():
    def fn(x):
        x[0].log()  # computed and dropped: eager still raises for x <= 0
        return x[1] * 2.0
    traced = trace(fn)
    traced([1.0, 1.0])
    with pytest.raises(ValueError, match=r"log\(-2.0\)"):
        traced([-2.0, 1.0])


def test_an_infinite_gradient_raises_backwards_error_and_leaves_grads_unchanged():
    w = Value(4.0)
    traced = trace(lambda: (w * 0.0).sqrt())  # d sqrt / dx at 0 is infinite
    out = traced()
    w.grad = 1.5
    with pytest.raises(OverflowError, match="backward: a gradient became inf at sqrt"):
        out.backward()
    assert w.grad == 1.5


def test_a_zero_gradient_through_an_infinite_local_derivative_adds_nothing():
    w = Value(0.0)
    traced = trace(lambda: w.sqrt() * 0.0 + w)  # sqrt'(0) = inf, but its gradient is 0
    traced().backward()
    eager = Value(0.0)
    (eager.sqrt() * 0.0 + eager).backward()
    assert w.grad == eager.grad == 1.0


def test_inputs_that_are_not_finite_numbers_or_not_numbers_are_refused():
    traced = trace(lambda x: x[0] * 2.0)
    with pytest.raises(ValueError, match=r"trace: input 0 is nan, not a finite number"):
        traced([float("nan")])
    with pytest.raises(TypeError, match="trace: arguments must be numbers"):
        traced(["a"])
    with pytest.raises(TypeError, match="Values such as parameters are read through fn's closure"):
        traced([Value(1.0)])


# ------------------------------------------------------------- never silently wrong


def test_a_python_branch_on_a_traced_number_is_refused_while_recording():
    def fn(x):
        h = x[0] * 3.0
        return h.tanh() if h.data > 0 else h  # eager takes another branch for x < 0
    with pytest.raises(TraceError, match=r"reads 3.0, the number of a Value \(.data\) at .*test_tape.py"):
        trace(fn)([1.0])


def test_setting_a_number_inside_fn_is_refused_while_recording():
    w = Value(1.0)

    def fn(x):
        w.data = 2.0
        return w * x[0]
    with pytest.raises(TraceError, match=r"sets the number of a Value"):
        trace(fn)([1.0])


def test_a_result_computed_before_the_call_is_refused():
    w = Value(2.0)
    h = w * 3.0
    with pytest.raises(TraceError, match="a result computed before the call"):
        trace(lambda x: h * x[0])([1.0])


def test_softmax_shift_is_recomputed_so_huge_logits_on_replay_stay_exact():
    traced = trace(lambda z: softmax_cross_entropy(z, 2))
    traced([0.1, 0.2, 0.3])
    huge = [1000.0, 0.0, -1000.0]
    out = traced(huge)
    assert out.data == pytest.approx(2000.0, rel=1e-15)
    out.backward()
    logits = [Value(z) for z in huge]
    softmax_cross_entropy(logits, 2).backward()
    assert out.input_grads() == pytest.approx([v.grad for v in logits], abs=1e-15)


def test_new_class_labels_record_a_new_tape_and_give_eager_results():
    model = MLP(3, [5, 4], seed=3)
    traced = trace(lambda X, y: softmax_cross_entropy([model(x) for x in X], y))
    X = [[0.1, 0.2, 0.3], [-0.5, 0.4, 1.0]]
    for labels in ([0, 1], [3, 2], [0, 1]):
        model.zero_grad()
        out = traced(X, labels)
        out.backward()
        ours = [p.grad for p in model.parameters()]
        model.zero_grad()
        eager = softmax_cross_entropy([model(x) for x in X], labels)
        eager.backward()
        assert out.data == pytest.approx(eager.data, rel=1e-12)
        assert ours == pytest.approx([p.grad for p in model.parameters()], rel=1e-12, abs=1e-15)
    assert traced.recordings == 2  # [0, 1] came back: its tape was kept


def test_dropout_draws_a_new_mask_on_every_replay_exactly_as_eager_mode_does():
    eager_model = MLP(2, [6, 6, 1], seed=4, dropout=0.5)
    traced_model = MLP(2, [6, 6, 1], seed=4, dropout=0.5)
    traced = trace(lambda x: traced_model(x))
    masks = []
    for x in ([0.3, -0.7], [0.3, -0.7], [1.0, 2.0]):
        assert traced(x).data == pytest.approx(eager_model(x).data, rel=1e-12, abs=1e-15)
        assert traced_model.dropouts[0].mask == eager_model.dropouts[0].mask
        masks.append(list(traced_model.dropouts[0].mask))
    assert masks[0] != masks[1]
    assert traced.recordings == 1


def test_switching_to_eval_mode_records_a_tape_without_dropout():
    model = MLP(2, [6, 1], seed=5, dropout=0.5)
    traced = trace(lambda x: model(x))
    traced([0.3, -0.7])
    model.eval()
    assert traced([0.3, -0.7]).data == model([0.3, -0.7]).data
    assert traced.recordings == 2


def test_static_arguments_are_passed_as_they_are_and_new_ones_record_a_new_tape():
    w = Value(0.5)
    traced = trace(lambda x, target: mse(w * x[0], target), static_argnums=(1,))
    assert traced([2.0], 3.0).data == 4.0 and traced([2.0], 1.0).data == 0.0
    assert traced([4.0], 3.0).data == 1.0 and traced.recordings == 2


def test_a_smaller_last_batch_records_a_second_tape_kept_beside_the_first():
    model = MLP(2, [3, 1], seed=6)
    traced = trace(lambda X: [model(x) for x in X])
    traced([[0.1, 0.2]] * 4)
    last = traced([[0.5, 0.6]] * 3)
    again = traced([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    assert len(last) == 3 and len(again) == 4 and traced.recordings == 2
    assert [o.data for o in again] == [model(x).data for x in
                                       [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]]


def test_a_custom_op_without_an_array_form_replays_exactly_through_an_element_loop():
    swish = Op("swish", lambda x: x / (1.0 + math.exp(-x)),
               lambda x, out: ((1 / (1 + math.exp(-x))) * (1 + x * (1 - 1 / (1 + math.exp(-x)))),))
    w = Value(0.8)
    traced = trace(lambda xs: swish(w * xs[0]) + swish(w * xs[1]))
    traced([0.1, 0.2])
    out = traced([1.5, -2.5])
    out.backward()
    eager_w = Value(0.8)
    eager = swish(eager_w * 1.5) + swish(eager_w * -2.5)
    eager.backward()
    assert out.data == eager.data and w.grad == eager_w.grad


@pytest.mark.slow
def test_a_million_node_graph_traces_and_replays():
    rng = random.Random(7)
    weights = [Value(rng.uniform(-1, 1)) for _ in range(1000)]

    def fn(X):  # 500 rows x 1000 weights: a mul and an add per weight, a tanh per row
        return sum((sum((w * x for w, x in zip(weights, row)), Value(0.0)).tanh() for row in X),
                   Value(0.0))
    X = [[rng.uniform(-0.01, 0.01) for _ in range(1000)] for _ in range(500)]
    traced = trace(fn)
    traced(X)
    assert traced.last_tape.size > 1_000_000
    X2 = [[x * 0.5 for x in row] for row in X]
    out = traced(X2)
    out.backward()
    ours = [w.grad for w in weights]
    for w in weights:
        w.grad = 0.0
    eager = fn(X2)
    eager.backward()
    assert out.data == pytest.approx(eager.data, rel=1e-12)
    assert ours == pytest.approx([w.grad for w in weights], rel=1e-12, abs=1e-15)


# ------------------------------------------------------------------------ glass box


def test_listing_prints_tanh_of_a_times_b_plus_c_one_line_per_op():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    traced = trace(lambda c: (a * b + c[0]).tanh())
    out = traced([10.0])
    out.backward()
    lines = traced.listing().splitlines()
    assert lines[0].startswith("tape: 6 nodes (1 input, 2 parameters, 0 constants, 3 ops), 3 waves")
    body = [" ".join(line.split()) for line in lines[2:]]
    assert body[0].startswith("%0 = input x[0] 10")
    assert body[1] == "%1 = param a 2 -0.00402285"  # d out/da = b * (1 - tanh(4)**2)
    assert body[3].startswith("%3 = mul %1 %2 -6") and body[3].endswith("wave 0")
    assert body[4].startswith("%4 = add %3 %0 4") and body[5].startswith("%5 = tanh %4 0.999329")


def test_listing_of_a_big_tape_is_a_summary_of_nodes_waves_fused_sums_and_bytes():
    model = MLP(4, [16, 16, 1], seed=8)
    traced = trace(lambda x: model(x))
    traced([0.1, 0.2, 0.3, 0.4])
    text = traced.listing()
    assert "nodes" in text and "waves" in text and "33 fused sums" in text and "bytes" in text
    assert "mul x 64" in text
    unfused = traced.listing(fused=False, max_nodes=10_000)
    assert "= add" in unfused and "fused" in unfused


def test_a_traced_call_hands_back_an_equivalent_value_graph_for_the_stepper():
    from glassgrad.viz.stepper import backprop_steps
    model = MLP(2, [3, 1], seed=9)
    traced = trace(lambda X, y: mse([model(x) for x in X], y), static_argnums=[1])
    out = traced([[0.5, 1.0], [1.5, -1.0]], [1.0, 0.0])
    out.backward()
    root = out.graph()
    assert root.data == out.data
    frames = backprop_steps(root)
    assert frames and frames[0].grad == 1.0
    leaves = [n for n in _nodes(root) if n.label.startswith("w") or n.label == "b"]
    assert sorted(n.grad for n in leaves) == pytest.approx(
        sorted(p.grad for p in model.parameters()), rel=1e-12, abs=1e-15)


def _nodes(root: Value) -> list[Value]:
    from glassgrad.engine import topological_order
    return topological_order(root)


def test_several_outputs_each_have_their_own_backward():
    w = Value(3.0)
    traced = trace(lambda x: [w * x[0], w * w])
    first, second = traced([2.0])
    first.backward()
    assert w.grad == 2.0
    second.backward()
    assert w.grad == 8.0


def test_a_recording_inside_a_recording_is_refused():
    inner = trace(lambda x: x[0] * 2.0)
    with pytest.raises(TraceError, match="while it is being recorded"):
        trace(lambda x: x[0] * inner([1.0]).data)([1.0])


def test_program_with_a_node_used_twice_in_one_op_is_exact():
    program = Program((0.5, -1.5), (Step("mul", (0, 0)), Step("mul", (2, 1)), Step("add", (3, 2))))
    traced = traced_program(program)
    traced([0.5, -1.5])
    out = traced([1.5, 2.0])
    out.backward()
    assert out.input_grads() == eager_run(program, [1.5, 2.0])[1]


# ------------------------------------------ labels as float inputs (nn.fit's traced step)

LABELLED = [  # loss, outputs per sample, labels as fit prepares them
    (mse, 1, [1, 0, 1, 0.5]),
    (mse, 2, [[1.0, -0.5], [0.0, 2.0], [0.25, 0.0], [-1.0, 1.0]]),
    (hinge, 1, [1, -1, -1, 1]),
    (binary_cross_entropy_with_logits, 1, [1, 0, 0.25, 1]),
    (softmax_cross_entropy, 3, [2, 0, 1, 2]),
    (softmax_cross_entropy, 4, [2, 0, 1, 2]),  # a class no label names: a shorter one-hot
]


def _eager_loss_and_grads(model, loss_fn, X, labels):
    model.zero_grad()
    loss = loss_fn([model(x) for x in X], labels)
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("loss_fn, outputs, labels", LABELLED)
def test_labels_as_float_inputs_give_the_eager_loss_and_every_gradient(loss_fn, outputs, labels):
    model = MLP(3, [5, outputs], seed=8)
    X = [[0.1, 0.2, 0.3], [-0.5, 0.4, 1.0], [1.5, -0.2, 0.0], [0.3, 0.3, -0.9]]
    form = labels_as_inputs(loss_fn)
    value, grads = _eager_loss_and_grads(model, loss_fn, X, labels)
    eager_form = _eager_loss_and_grads(model, form.loss, X, [_as_values(t) for t in form.encode(labels)])
    traced = trace(lambda X, t: form.loss([model(x) for x in X], t))
    traced(X, form.encode(labels[::-1]))  # records on other labels
    model.zero_grad()
    out = traced(X, form.encode(labels))
    out.backward()
    for ours_value, ours_grads in (eager_form, (out.data, [p.grad for p in model.parameters()])):
        assert math.isclose(ours_value, value, rel_tol=1e-12, abs_tol=1e-12)
        scale = 1.0 + sum(abs(g) for g in grads)
        assert all(agree(a, b, scale) for a, b in zip(ours_grads, grads)), (ours_grads, grads)
    assert traced.recordings == 1  # new labels are new numbers, not a new tape


def _as_values(target):
    return [Value(t) for t in target] if isinstance(target, list) else Value(target)


def test_one_hot_rows_name_each_class_and_bad_labels_are_refused_as_the_loss_refuses_them():
    assert labels_as_inputs(softmax_cross_entropy).encode([2, 0]) == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="class indices must be whole numbers 0, 1, 2, ...; got -1 at index 1"):
        labels_as_inputs(softmax_cross_entropy).encode([0, -1])
    with pytest.raises(ValueError, match=r"hinge: labels must be -1 or \+1, got 0 at index 0"):
        labels_as_inputs(hinge).encode([0, 1])
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        labels_as_inputs(binary_cross_entropy_with_logits).encode([2])
    with pytest.raises(ValueError, match="sample 0 has 2 logits but the labels name 3 classes"):
        labels_as_inputs(softmax_cross_entropy).loss([[Value(0.0), Value(1.0)]], [[0.0, 0.0, 1.0]])
    assert labels_as_inputs(lambda outputs, labels: outputs[0]) is None  # a loss of your own


# ------------------------------------------------------------------ traced_map

def test_traced_map_gives_the_eager_outputs_of_every_row_with_a_smaller_last_chunk():
    model = MLP(2, [5, 3], seed=9)
    rows = [[0.1 * i, -0.05 * i] for i in range(70)]  # chunks of 32, 32 and 6
    outputs = traced_map(lambda *x: model(list(x)), rows)
    assert outputs == [[v.data for v in model(row)] for row in rows]  # bit for bit
    single = MLP(2, [4, 1], seed=9)
    assert traced_map(lambda *x: single(list(x)), rows[:5]) == [single(row).data for row in rows[:5]]


def test_traced_map_of_a_function_that_branches_on_data_computes_every_row_eagerly():
    rows = [(2.0,), (-3.0,), (0.5,)]
    assert traced_map(lambda v: v * 2.0 if v.data > 0 else -v, rows) == [4.0, 3.0, 1.0]


def test_traced_map_outside_an_ops_domain_raises_the_eager_error():
    with pytest.raises(ValueError, match=r"log\(-1.0\): log is defined only for x > 0"):
        traced_map(lambda v: v.log(), [(1.0,), (2.0,)] * 20 + [(-1.0,)])


def test_a_kept_traced_map_records_one_tape_and_pads_the_last_chunk_with_eager_numbers():
    from glassgrad.engine.tape import TracedMap

    model = MLP(2, [4, 1], seed=3)
    forward = TracedMap(lambda *x: model(list(x)), chunk=4)
    rows = [[0.1 * k, -0.2 * k] for k in range(10)]  # 4 + 4 + 2: the last chunk is padded
    eager = [model(row).data for row in rows]
    assert forward(rows) == eager
    assert forward(rows[:3]) == eager[:3]  # a short call reuses the whole-chunk tape
    model.parameters()[0].data += 0.5      # parameters are read at every replay
    assert forward(rows) == [model(row).data for row in rows]
    assert forward.traced.recordings == 1


def test_where_gradient_terms_cancel_the_tape_agrees_on_the_scale_of_the_terms():
    # d/dp (p/p + p) is 1; eager sums 1 + 1/p - 1/p (= 0 in floats at a tiny p), and the
    # tape sums the same three terms in the same order, so it gets the same float.
    p = Value(2.03e-43)
    traced = trace(lambda: p / p + p)
    out = traced()
    out.backward()
    tape_grad, p.grad = p.grad, 0.0
    (p / p + p).backward()
    assert math.isfinite(tape_grad) and abs(tape_grad - p.grad) <= 1e-12 * (1 + 2 / 2.03e-43)
    assert tape_grad.hex() == p.grad.hex()
