"""viz.stepper: the frames are a backward pass, step by step, and say so in numbers."""
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from glassgrad.engine import Value, topological_order
from glassgrad.viz import backprop_steps, captioned, forward_steps, index_graph, step_views, stepper_html

from conftest import tanh_graph as tanh_expression

# Ops that stay in their domain for any finite inputs (so random graphs never raise).
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
    "leaky": lambda a, b: a.leaky_relu(0.1),
    "square": lambda a, b: a ** 2,
    "neg": lambda a, b: -a,
    "softplus": lambda a, b: a.softplus(),
    "abs": lambda a, b: abs(a),
    "plus_const": lambda a, b: a + 1.5,
}

recipes = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000)),
    min_size=1, max_size=12,
)
leaf_values = st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=4)


def build(values, recipe):
    """A random graph: each op reads two earlier nodes (maybe the same one twice)."""
    nodes = [Value(x, label=f"x{i}") for i, x in enumerate(values)]
    for op, i, j in recipe:
        nodes.append(OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes[-1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=leaf_values, recipe=recipes)
def test_running_all_frames_gives_exactly_backwards_gradients(values, recipe):
    try:
        stepped, reference = build(values, recipe), build(values, recipe)
    except OverflowError:
        assume(False)
    frames = backprop_steps(stepped)
    reference.backward()
    for node, expected in zip(topological_order(stepped), topological_order(reference)):
        assert node.grad == expected.grad  # bit for bit: the same steps in the same order
    interior = [node for node in topological_order(stepped) if node.inputs]
    assert len(frames) == len(interior)


@settings(max_examples=100, deadline=None)
@given(values=leaf_values, recipe=recipes)
def test_frames_run_in_reverse_topological_order_and_add_up(values, recipe):
    try:
        root = build(values, recipe)
    except OverflowError:
        assume(False)
    frames = backprop_steps(root)
    indices = [frame.index for frame in frames]
    assert indices == sorted(indices, reverse=True)
    assert [frame.step for frame in frames] == list(range(len(frames)))
    for frame in frames:
        for update in frame.inputs:
            assert update.index < frame.index  # inputs come before their output
            assert update.grad_after == update.grad_before + update.contribution
            if frame.grad:
                assert update.contribution == frame.grad * update.local_grad


def test_frames_of_an_mlp_neuron_give_backwards_gradients():
    nn = pytest.importorskip("glassgrad.nn")
    x = [0.5, -1.0, 2.0]
    stepped, reference = nn.Neuron(3, activation="tanh", seed=1), nn.Neuron(3, activation="tanh", seed=1)
    backprop_steps(stepped(x))
    reference(x).backward()
    for p, q in zip(stepped.parameters(), reference.parameters()):
        assert p.grad == q.grad != 0.0


def test_frames_read_the_engines_local_grads_and_grads():
    L, (a, b, c) = tanh_expression()
    first, second, third = backprop_steps(L)
    assert (first.name, first.op, first.grad) == ("L", "tanh", 1.0)
    assert first.inputs[0].local_grad == L.local_grads[0]
    n2 = L.inputs[0].inputs[0]  # a * b
    assert [u.name for u in third.inputs] == ["a", "b"]
    assert [u.local_grad for u in third.inputs] == list(n2.local_grads) == [b.data, a.data]
    assert third.grad == n2.grad
    assert [u.grad_after for u in third.inputs] == [a.grad, b.grad]


def test_caption_reads_the_chain_rule_in_symbols_and_numbers():
    def product():
        a, b = Value(3.0, label="a"), Value(-2.0, label="b")
        c = a * b
        c.label = "c"
        return c

    frame = backprop_steps(product())[0]
    assert "dc/da += dc/dc * dc/da = 1.0 * -2.0 = -2.0" in frame.caption()
    L = product() * 1.0
    L.label = "L"
    frame = [f for f in backprop_steps(L) if f.name == "c"][0]
    assert frame.caption().splitlines() == [
        "Step 2: c = a * b passes dL/dc = 1.0 back to its inputs",
        "dL/da += dL/dc * dc/da = 1.0 * -2.0 = -2.0   (a.grad: 0.0 -> -2.0)",
        "dL/db += dL/dc * dc/db = 1.0 * 3.0 = 3.0   (b.grad: 0.0 -> 3.0)",
    ]


def test_unlabelled_nodes_are_called_by_their_node_names():
    a = Value(3.0)
    frame = backprop_steps(a.tanh())[0]
    assert frame.name == "n1" and frame.inputs[0].name == "n0"
    assert frame.caption().startswith("Step 1: n1 = tanh(n0) passes dn1/dn1 = 1.0")


def test_an_input_used_twice_gets_two_updates_that_follow_each_other():
    a = Value(3.0, label="a")
    (frame,) = backprop_steps(a * a)
    first, second = frame.inputs
    assert first.grad_before == 0.0 and first.grad_after == 3.0
    assert second.grad_before == 3.0 and second.grad_after == a.grad == 6.0


def test_leaf_grads_accumulate_like_backward():
    L, (a, _, _) = tanh_expression()
    backprop_steps(L)
    once = a.grad
    backprop_steps(L)
    assert a.grad == 2 * once


def test_a_gradient_overflow_raises_and_restores_leaf_grads():
    x = Value(0.0, label="x")
    y = x.sqrt()  # d sqrt(x)/dx is infinite at 0
    x.grad = 0.5
    with pytest.raises(OverflowError, match="step 1"):
        backprop_steps(y)
    assert x.grad == 0.5


def test_forward_steps_compute_each_value_in_topological_order():
    L, _ = tanh_expression()
    frames = forward_steps(L)
    assert [f.name for f in frames] == ["a", "b", "n2", "c", "n4", "L"]
    assert frames[2].caption() == "n2 = a * b = 2.0 * (-3.0) = -6.0"
    assert frames[0].caption() == "a = 2.0 (input)"
    assert frames[-1].caption() == f"L = tanh(n4) = tanh(4.0) = {L.data:.4g}"
    assert [f.value for f in frames] == [node.data for node in topological_order(L)]


def test_step_views_show_the_start_and_one_view_per_step_and_change_no_grads():
    L, (a, b, c) = tanh_expression()
    L.backward()
    grads = [node.grad for node in topological_order(L)]
    views = step_views(L)
    assert [node.grad for node in topological_order(L)] == grads
    assert len(views) == 1 + len(backprop_steps(tanh_expression()[0]))
    assert views[0].frame is None and views[0].node == "n5" and "dL/dL = 1.0" in views[0].caption
    assert [view.node for view in views[1:]] == ["n5", "n4", "n2"]


def test_step_views_mark_unknown_partial_and_final_grads():
    a = Value(2.0, label="a")
    b = a * 3.0
    b.label = "b"
    L = b + a  # a gets gradient twice: from + first, then from *
    L.label = "L"
    views = step_views(L)
    start, after_add, after_mul = (view.graph.source for view in views)
    assert "{a | data 2.0 | grad ?}" in start and "{L | data 8.0 | grad 1.0}" in start
    assert "{a | data 2.0 | grad 1.0 so far}" in after_add
    assert "{b | data 6.0 | grad 1.0}" in after_add
    assert "{a | data 2.0 | grad 4.0}" in after_mul
    highlighted = [line.split()[0] for line in after_mul.splitlines() if "class=highlight" in line]
    assert highlighted == ["n2"]  # b = a * 3.0 is n2: it passes its gradient in the last step


def test_step_views_start_from_zero_leaf_grads():
    L, (a, _, _) = tanh_expression()
    a.grad = 100.0
    views = step_views(L)
    expected = backprop_steps(tanh_expression()[0])[-1].inputs[0].grad_after
    assert math.isclose(views[-1].frame.inputs[0].grad_after, expected)
    assert a.grad == 100.0


def test_captions_put_negative_numbers_in_parentheses_and_show_op_constants():
    x = Value(-2.0, label="x")
    y = (x**2 - x).leaky_relu(0.1)
    captions = [frame.caption() for frame in forward_steps(y)]
    assert "n1 = x**2 = (-2.0)**2 = 4.0" in captions
    assert "n2 = n1 - x = 4.0 - (-2.0) = 6.0" in captions
    assert "n3 = leaky_relu(n2, 0.1) = leaky_relu(6.0, 0.1) = 6.0" in captions


# ------------------------------------------------ one walk, one backward pass, recorded


def count_walks(monkeypatch):
    """Count every call of engine.topological_order, under any name a module imported it as."""
    import sys

    original = topological_order
    calls = []

    def counting(root):
        calls.append(root)
        return original(root)

    for module in list(sys.modules.values()):
        if getattr(module, "topological_order", None) is original:
            monkeypatch.setattr(module, "topological_order", counting)
    return calls


def test_frames_record_what_propagate_returned_instead_of_recomputing_it(monkeypatch):
    original = Value.propagate
    returned = []

    def propagate_reporting_half(node):
        contributions = original(node)
        reported = tuple(c / 2 for c in contributions)  # not what a recomputation would give
        returned.append(reported)
        return reported

    monkeypatch.setattr(Value, "propagate", propagate_reporting_half)
    L, _ = tanh_expression()
    frames = backprop_steps(L)
    assert [tuple(u.contribution for u in frame.inputs) for frame in frames] == returned
    assert frames[0].inputs[0].contribution == L.local_grads[0] / 2


def test_a_zero_gradient_step_records_zero_contributions_through_an_infinite_derivative():
    x = Value(0.0, label="x")
    L = x.sqrt() * 0.0                  # d sqrt(x)/dx is inf at 0, but no gradient reaches it
    sqrt_frame = [frame for frame in backprop_steps(L) if frame.op == "sqrt"][0]
    assert sqrt_frame.grad == 0.0
    assert [(u.contribution, u.grad_after) for u in sqrt_frame.inputs] == [(0.0, 0.0)]


def test_index_graph_counts_each_use_of_a_node():
    a = Value(2.0, label="a")
    b = a * a
    L = b + a
    index = index_graph(L)
    assert index.order == topological_order(L) and index.root is L
    assert [index.position[node] for node in index.order] == [0, 1, 2]
    assert index.names == ["a", "n1", "n2"]
    assert index.use_counts == [3, 1, 0]  # a: twice in a * a, once in b + a


def test_frames_and_views_share_one_index_and_walk_the_graph_once(monkeypatch):
    L, _ = tanh_expression()
    index = index_graph(L)
    walks = count_walks(monkeypatch)
    backprop_steps(L, index=index)
    forward_steps(L, index=index)
    step_views(L, index=index)
    assert walks == []


def test_step_views_and_a_stepper_page_walk_the_graph_once(monkeypatch):
    L, _ = tanh_expression()
    walks = count_walks(monkeypatch)
    step_views(L)
    assert walks == [L]
    walks.clear()
    stepper_html(L)
    assert walks == [L]


def test_an_index_of_another_graph_is_refused_with_the_function_name():
    L, _ = tanh_expression()
    other, _ = tanh_expression()
    index = index_graph(other)
    for steps, name in ((backprop_steps, "backprop_steps"), (forward_steps, "forward_steps"),
                        (step_views, "step_views")):
        with pytest.raises(ValueError, match=f"{name}: index was made for another graph"):
            steps(L, index=index)


def test_captioned_view_is_the_picture_step_views_draw_with_the_caption_in_it():
    plain = step_views(tanh_expression()[0])
    in_picture = step_views(tanh_expression()[0], caption_in_picture=True)
    for view, expected in zip(plain, in_picture):
        assert captioned(view).source == expected.graph.source
        assert "labelloc=b" not in view.graph.source  # the view itself is left as it was
