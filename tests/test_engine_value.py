"""The Value and backward: accumulation, graph walks, memory, and Python protocol details."""
from __future__ import annotations

import gc
import math
import sys

import numpy as np
import pytest

from glassgrad.engine import Value, ops, seed_gradients, topological_order


def chain(length: int, start: float = 0.3) -> tuple[Value, Value]:
    """A leaf and ``length`` tanh/negation ops after it: (leaf, root)."""
    leaf = Value(start, label="x")
    node = leaf
    for k in range(length):
        node = node.tanh() if k % 2 else -node
    return leaf, node


# ------------------------------------------------------------- backward semantics


def test_backward_gives_the_chain_rule_on_a_small_graph() -> None:
    a, b = Value(2.0), Value(-3.0)
    L = (a * b + a).tanh()              # L = tanh(ab + a)
    L.backward()
    outer = 1 - math.tanh(2.0 * -3.0 + 2.0) ** 2
    assert a.grad == pytest.approx(outer * (-3.0 + 1.0), rel=1e-15)
    assert b.grad == pytest.approx(outer * 2.0, rel=1e-15)


def test_backward_twice_doubles_leaf_grads() -> None:
    a, b = Value(1.5), Value(-0.5)
    L = a * b + a.exp()
    L.backward()
    once = (a.grad, b.grad)
    L.backward()
    assert (a.grad, b.grad) == (2 * once[0], 2 * once[1])


def test_backward_twice_recomputes_interior_grads() -> None:
    a = Value(1.5)
    hidden = a * 3.0
    L = hidden.tanh()
    L.backward()
    first = hidden.grad
    L.backward()
    assert hidden.grad == first and L.grad == 1.0


def test_node_used_twice_gets_both_contributions() -> None:
    x = Value(3.0)
    (x * x).backward()                  # d(x^2)/dx = 2x: both edges from the same node
    assert x.grad == 6.0


def test_shared_subexpression_gradient_flows_through_every_path() -> None:
    x = Value(0.5)
    shared = x.exp()
    L = shared * shared.tanh() + shared  # e^x tanh(e^x) + e^x
    L.backward()
    e = math.exp(0.5)
    expected = e * math.tanh(e) + e * e * (1 - math.tanh(e) ** 2) + e
    assert x.grad == pytest.approx(expected, rel=1e-14)


def test_leaf_as_root_backward_adds_one_to_its_own_grad() -> None:
    leaf = Value(4.0)
    leaf.backward()
    leaf.backward()
    assert leaf.grad == 2.0


def test_value_used_in_two_graphs_accumulates_both_gradients() -> None:
    shared = Value(2.0)
    first, second = shared * 3.0, shared ** 2
    first.backward()
    second.backward()
    assert shared.grad == 3.0 + 4.0


def test_seed_gradients_zeroes_interior_keeps_leaves_and_seeds_root() -> None:
    leaf = Value(1.0)
    hidden = leaf * 2.0
    root = hidden + 1.0
    leaf.grad, hidden.grad, root.grad = 5.0, 7.0, 9.0
    seed_gradients(topological_order(root))
    assert (leaf.grad, hidden.grad, root.grad) == (5.0, 0.0, 1.0)


def test_propagate_adds_local_grad_times_own_grad_to_each_input() -> None:
    a, b = Value(2.0), Value(5.0)
    node = a * b
    node.grad = 10.0
    node.propagate()
    assert (a.grad, b.grad) == (50.0, 20.0)


def test_failed_backward_through_sqrt_at_zero_leaves_grads_unchanged() -> None:
    x, w = Value(0.0), Value(2.0)
    x.grad, w.grad = 0.25, -1.0
    L = x.sqrt() * w
    with pytest.raises(OverflowError, match=r"sqrt\(0\.0\)") as error:
        L.backward()
    assert "left as they were" in str(error.value)
    assert (x.grad, w.grad) == (0.25, -1.0)


def test_failed_backward_names_the_step_where_the_gradient_overflowed() -> None:
    x = Value(1e-300)
    L = (x * 1e300) * 1e300               # value 1e300; dL/dx = 1e300 * 1e300 = inf
    with pytest.raises(OverflowError) as error:
        L.backward()
    assert str(error.value).startswith(
        "backward: a gradient became inf at mul(1e-300, 1e+300): its local derivative "
        "there is 1e+300, times the incoming gradient 1e+300")
    assert x.grad == 0.0


def test_gradient_overflowing_only_when_summed_gets_the_general_message() -> None:
    x = Value(1e-300)
    L = x * 1e308 + x * 1e308             # each path gives 1e308; their sum is inf
    with pytest.raises(OverflowError) as error:
        L.backward()
    assert str(error.value) == ("backward: a gradient overflowed to inf; leaf gradients are "
                                "left as they were before backward")
    assert x.grad == 0.0


def test_zero_gradient_through_infinite_local_derivative_gives_zero_not_nan() -> None:
    x = Value(0.0)
    (x.sqrt() * 0.0).backward()         # 0 * inf would be nan; no gradient arrives at all
    assert x.grad == 0.0


# ---------------------------------------------------------- graph walks, no recursion


def test_topological_order_puts_inputs_before_outputs_and_root_last() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    order = topological_order(d)
    assert order[-1] is d and len(order) == len({id(node) for node in order})
    position = {node: k for k, node in enumerate(order)}
    for node in order:
        assert all(position[x] < position[node] for x in node.inputs)


def test_topological_order_is_deterministic_and_follows_argument_order() -> None:
    def build() -> list[str]:
        a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
        ab = a * b
        ab.label = "ab"
        root = ab + c
        root.label = "root"
        return [node.label for node in topological_order(root)]

    assert build() == build() == ["a", "b", "ab", "c", "root"]


def test_cycle_made_by_editing_inputs_raises_value_error() -> None:
    a = Value(1.0)
    b = a * 2.0
    c = b + 1.0
    b.inputs = (c, b.inputs[1])         # now b depends on c, which depends on b
    with pytest.raises(ValueError, match="cycle"):
        topological_order(c)
    with pytest.raises(ValueError, match="cycle"):
        c.backward()


def test_no_recursion_anywhere_deep_graph_under_recursion_limit_100() -> None:
    leaf, root = chain(5_000)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)
    try:
        order = topological_order(root)
        root.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert len(order) == 5_001 and leaf.grad != 0.0


@pytest.mark.slow  # ~4 s; runs in CI, skipped only by mutation testing (-m "not slow")
def test_million_node_chain_backward_works_and_frees() -> None:
    leaf = Value(0.3)
    node = leaf
    for _ in range(1_000_000):
        node = -node                    # d(root)/d(leaf) = (-1)^1e6 = 1
    node.backward()
    assert leaf.grad == 1.0
    del node                            # freeing a million-deep chain must not crash
    gc.collect()


# --------------------------------------------------------------- memory: no cycles


def test_dropped_graph_is_freed_without_the_cycle_collector() -> None:
    """With gc disabled, only reference counting frees objects. If a graph held a
    reference cycle it would survive its last reference and gc.collect() would find
    it; zero unreachable objects means no node, tuple or closure points back."""
    gc.collect()
    gc.disable()
    try:
        a, b = Value(0.5, label="a"), Value(-1.5, label="b")
        L = ((a * b).tanh() + a ** 2 - b.exp() / (a.sigmoid() + 1.0)).relu()
        L = L + abs(b).softplus().log() + a.leaky_relu(0.1) + b.step()
        L.backward()
        del a, b, L
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_dropping_the_root_releases_its_inputs() -> None:
    leaf = Value(1.0)
    baseline = sys.getrefcount(leaf)
    root = (leaf * 2.0).tanh()
    assert sys.getrefcount(leaf) > baseline
    del root
    assert sys.getrefcount(leaf) == baseline


# ------------------------------------------------------------ Python protocol details


def test_repr_shows_data_grad_and_label() -> None:
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0.0)"
    assert repr(Value(-2, label="w")) == "Value(data=-2.0, grad=0.0, label='w')"


def test_values_hash_and_compare_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2
    assert {a: "first"}[a] == "first"


def test_data_is_always_a_python_float() -> None:
    for raw in (3, True, np.int64(2), np.float32(0.5), np.float64(1.5), np.array(2.0)):
        assert type(Value(raw).data) is float
    assert Value(np.float64(1.5)).data == 1.5


@pytest.mark.parametrize("scalar", [np.int64(2), np.float64(2.0), np.float32(2.0), np.int8(2)])
def test_numpy_scalars_work_on_both_sides(scalar) -> None:
    v = Value(3.0)
    for result in (scalar * v, v * scalar, scalar + v, v - scalar, scalar / v, scalar ** v):
        assert type(result) is Value
    assert (scalar * v).data == 6.0 and (scalar - v).data == -1.0


def test_numpy_scalar_on_the_left_gradient_reaches_the_value() -> None:
    v = Value(3.0)
    (np.float64(2.0) * v).backward()
    assert v.grad == 2.0


def test_in_place_operators_make_new_nodes() -> None:
    a = Value(2.0)
    original = a
    a += 1.0
    a *= 3.0
    a -= 1.0
    a /= 2.0
    a **= 2
    assert a is not original and original.data == 2.0
    assert a.data == 16.0                # (((2 + 1) * 3 - 1) / 2) ** 2
    a.backward()
    assert original.grad == 12.0         # 2 * 4 * (3 / 2)


def test_leaky_relu_default_slope_is_one_hundredth() -> None:
    assert Value(-1.0).leaky_relu().data == -0.01
    assert Value(-1.0).leaky_relu().op is ops.leaky_relu(0.01)


def test_unary_plus_returns_the_same_value() -> None:
    v = Value(1.0)
    assert +v is v


def test_reflected_operators_put_the_number_first() -> None:
    v = Value(4.0)
    assert (10.0 - v).data == 6.0 and (10.0 / v).data == 2.5 and (2.0 ** Value(3.0)).data == 8.0
    assert (1.0 + v).inputs[0].data == 1.0 and (1.0 + v).inputs[1] is v


def test_each_method_applies_its_declared_op() -> None:
    v = Value(0.5)
    for method, name in [(v.exp, "exp"), (v.log, "log"), (v.sqrt, "sqrt"), (v.tanh, "tanh"),
                         (v.sigmoid, "sigmoid"), (v.relu, "relu"), (v.softplus, "softplus"),
                         (v.step, "step"), (v.__neg__, "neg"), (v.__abs__, "abs")]:
        assert method().op is ops.BUILTIN_OPS[name]
    assert v.leaky_relu(0.3).op is ops.leaky_relu(0.3)
    assert (v ** 2).op is ops.power(2.0) and (v ** 2).op.params == (2.0,)
    assert (v ** Value(2.0)).op is ops.BUILTIN_OPS["pow"]


def test_leaf_has_no_op_no_inputs_no_local_grads() -> None:
    leaf = Value(1.0, label="w")
    assert (leaf.op, leaf.inputs, leaf.local_grads, leaf.grad) == (None, (), (), 0.0)


def test_interior_node_records_op_inputs_and_local_grads() -> None:
    a, b = Value(2.0), Value(5.0)
    node = a / b
    assert node.op is ops.BUILTIN_OPS["div"]
    assert node.inputs == (a, b)
    assert node.local_grads == (1 / 5.0, -2.0 / 25.0)
    assert node.label == "" and node.grad == 0.0


def test_method_docstrings_come_from_the_op_declarations() -> None:
    assert "tanh(x)" in Value.tanh.__doc__ and "1 - tanh(x)**2" in Value.tanh.__doc__


def test_backward_twice_doubles_leaf_grads_exactly_even_with_many_contributions() -> None:
    # Each leaf gets six contributions; summing them straight into the old gradient
    # would round differently on the second pass. backward sums a pass from zero and
    # adds it once, so the second call gives exactly twice (as PyTorch does).
    import random
    rng = random.Random(0)
    for _ in range(300):
        leaves = [Value(rng.uniform(-2, 2)) for _ in range(3)]
        L = sum((rng.choice(leaves) * rng.uniform(-2, 2) for _ in range(18)), Value(0.0))
        L.backward()
        once = [leaf.grad for leaf in leaves]
        L.backward()
        assert [leaf.grad for leaf in leaves] == [2 * g for g in once]


def test_run_backward_calls_the_step_hook_once_per_node_in_backward_order() -> None:
    from glassgrad.engine import run_backward, topological_order
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b + a).tanh()
    visited = []

    def step(node: Value) -> None:
        visited.append(node)
        node.propagate()

    run_backward(L, step=step)
    assert visited == list(reversed(topological_order(L)))
    hooked = (a.grad, b.grad)
    a.grad = b.grad = 0.0
    L.backward()
    assert hooked == (a.grad, b.grad)


def test_run_backward_puts_leaf_grads_back_when_the_step_hook_raises() -> None:
    from glassgrad.engine import run_backward
    a = Value(2.0)
    a.grad = 0.25
    L = a * a + 1.0

    def failing_step(node: Value) -> None:
        node.propagate()
        if not node.inputs:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        run_backward(L, step=failing_step)
    assert a.grad == 0.25


# ------------------------------------------- propagate's record, a given order, kept grads


def test_propagate_returns_what_it_added_to_each_input_in_input_order() -> None:
    a, b = Value(2.0), Value(5.0)
    a.grad, b.grad = 1.0, -1.0
    node = a * b
    node.grad = 10.0
    assert node.propagate() == (50.0, 20.0)  # d(ab)/da * 10 = b * 10, d(ab)/db * 10 = a * 10
    assert (a.grad, b.grad) == (1.0 + 50.0, -1.0 + 20.0)


def test_propagate_returns_one_contribution_per_use_of_an_input_used_twice() -> None:
    x = Value(3.0)
    square = x * x
    square.grad = 2.0
    assert square.propagate() == (6.0, 6.0)
    assert x.grad == 12.0


def test_propagate_with_zero_gradient_returns_zeros_and_adds_nothing_even_through_inf() -> None:
    x = Value(0.0)
    root = x.sqrt()                     # d sqrt(x)/dx is inf at 0: 0 * inf would be nan
    assert root.local_grads == (math.inf,)
    root.grad = 0.0
    assert root.propagate() == (0.0,)
    assert x.grad == 0.0


def test_propagate_of_a_leaf_returns_an_empty_tuple() -> None:
    leaf = Value(1.0)
    leaf.grad = 3.0
    assert leaf.propagate() == ()


def test_run_backward_with_a_given_order_walks_nothing_and_matches_backward(monkeypatch) -> None:
    import glassgrad.engine.value as value_module
    from glassgrad.engine import run_backward

    def build():
        a, b = Value(0.7), Value(-1.3)
        return (a * b + a.exp()).tanh() * a, (a, b)

    given, (a, b) = build()
    order = topological_order(given)
    reference, (a_ref, b_ref) = build()
    reference.backward()

    def no_walk(root):
        raise AssertionError("run_backward walked the graph although it was given the order")

    monkeypatch.setattr(value_module, "topological_order", no_walk)
    run_backward(given, order=order)
    assert (a.grad, b.grad) == (a_ref.grad, b_ref.grad)  # bit for bit
    run_backward(given, order=order)
    assert (a.grad, b.grad) == (2 * a_ref.grad, 2 * b_ref.grad)  # leaves still accumulate


def test_run_backward_refuses_an_order_that_does_not_end_at_the_root() -> None:
    from glassgrad.engine import run_backward
    a = Value(2.0)
    L = a * 3.0
    with pytest.raises(ValueError, match="run_backward: order must be topological_order"):
        run_backward(L, order=[L, a])
    with pytest.raises(ValueError, match="run_backward: order must be topological_order"):
        run_backward(L, order=[])


def test_kept_gradients_puts_every_gradient_back_after_the_block() -> None:
    from glassgrad.engine import kept_gradients
    a, b = Value(2.0), Value(-3.0)
    a.grad, b.grad = 0.5, 7.0
    L = a * b
    with kept_gradients(topological_order(L)) as kept:
        L.backward()
        assert (a.grad, b.grad) == (0.5 - 3.0, 7.0 + 2.0)  # inside: backward accumulated
        assert kept == topological_order(L)
    assert (a.grad, b.grad, L.grad) == (0.5, 7.0, 0.0)


def test_kept_gradients_with_zero_starts_at_zero_and_restores_after_an_error() -> None:
    from glassgrad.engine import kept_gradients
    a = Value(2.0)
    a.grad = 4.0
    with pytest.raises(RuntimeError, match="inside"):
        with kept_gradients([a], zero=True):
            assert a.grad == 0.0
            (a * a).backward()
            assert a.grad == 4.0            # d(a^2)/da = 2a, from zero
            raise RuntimeError("inside")
    assert a.grad == 4.0


def test_kept_gradients_refuses_something_that_is_not_a_value() -> None:
    from glassgrad.engine import kept_gradients
    with pytest.raises(TypeError, match="kept_gradients: nodes must be Values, got float 1.5"):
        with kept_gradients([Value(1.0), 1.5]):
            pass
