"""viz.render.draw_graph: what a picture says, and that it says it from the engine's own numbers."""
import re

import pytest

import glassgrad.viz.render
from glassgrad.engine import Op, Value, topological_order
from glassgrad.viz import count_nodes, draw_dot, draw_graph, draw_neuron
from glassgrad.viz.dot import LEAF_COLOUR, PARAMETER_COLOUR, ROOT_COLOUR, format_number

from conftest import tanh_graph


def node_line(source: str, name: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith(f"{name} ["))


class StandInNeuron:
    """The duck type draw_neuron needs: weights .w, bias .b, callable on a list of inputs."""

    def __init__(self, weights, bias):
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)

    def __call__(self, xs):
        total = self.b
        for w, x in zip(self.w, xs):
            total = total + w * x
        return total.tanh()


def test_every_value_shows_label_data_and_grad_after_backward():
    L, (a, b, c) = tanh_graph()
    L.backward()
    source = draw_graph(L).source
    for index, node in enumerate(topological_order(L)):
        line = node_line(source, f"n{index}")
        assert f"data {format_number(node.data)}" in line
        assert f"grad {format_number(node.grad)}" in line
        assert (node.label or f"n{index}") in line


def test_edge_labels_are_the_local_grads_the_engine_computed_not_recomputed():
    # An op whose declared derivative is deliberately "wrong": the picture must show
    # what the engine stored in local_grads, whatever it is.
    marked = Op("marked", lambda x: 2.0 * x, lambda x, out: (0.123456,), formula="2*x")
    x = Value(5.0, label="x")
    y = marked(x)
    source = draw_graph(y).source
    assert re.search(r"n0 -> op1 \[label=0\.1235\]", source)


def test_each_input_of_an_op_gets_its_own_edge_with_its_own_local_grad():
    a = Value(3.0, label="a")
    b = Value(-4.0, label="b")
    source = draw_graph(a * b).source  # d(ab)/da = b = -4, d(ab)/db = a = 3
    assert "n0 -> op2 [label=-4.0]" in source
    assert "n1 -> op2 [label=3.0]" in source
    assert "op2 -> n2" in source


def test_a_value_used_twice_by_one_op_draws_two_edges():
    a = Value(3.0, label="a")
    source = draw_graph(a * a).source
    assert source.count("n0 -> op1 [label=3.0]") == 2


def test_op_nodes_show_the_op_symbol():
    x = Value(2.0, label="x")
    y = (x ** 2).leaky_relu(0.1) - x.sigmoid()
    source = draw_graph(y).source
    for symbol in ("**2", "leaky_relu(0.1)", "sigmoid", "-"):
        assert f"[label=\"{symbol}\"" in source or f"[label={symbol} " in source


def test_hide_local_grads_leaves_edges_unlabelled():
    L, _ = tanh_graph()
    source = draw_graph(L, show_local_grads=False, legend=False).source
    assert not re.search(r"-> op\d+ \[label=", source)


def test_same_program_gives_byte_identical_dot_and_no_ids():
    first, second = draw_graph(tanh_graph()[0]).source, draw_graph(tanh_graph()[0]).source
    assert first == second
    L, _ = tanh_graph()
    assert str(id(L)) not in draw_graph(L).source


def test_before_backward_grads_say_not_computed_instead_of_zeros():
    L, _ = tanh_graph()
    source = draw_graph(L).source
    assert "grad ?" in source and "grad 0.0" not in source
    assert "not computed yet (call L.backward() first)" in source


def test_after_backward_grads_are_shown_even_where_they_are_zero():
    x = Value(-1.0, label="x")
    y = x.relu() + 1.0  # relu'(-1) = 0, so x.grad stays 0 after backward
    y.backward()
    source = draw_graph(y).source
    assert "grad ?" not in source
    assert "{x | data -1.0 | grad 0.0}" in source


def test_grads_argument_overrides_the_rule():
    L, _ = tanh_graph()
    assert "grad 0.0" in draw_graph(L, grads=True).source
    L.backward()
    assert "grad ?" in draw_graph(L, grads=False).source


def test_leaves_parameters_root_and_highlight_are_styled_apart():
    neuron = StandInNeuron([0.5, -1.0], 0.25)
    x = [Value(1.0, label="x0"), Value(2.0, label="x1")]
    out = neuron(x)
    source = draw_graph(out, parameters=[*neuron.w, neuron.b], highlight=[x[1]]).source
    order = topological_order(out)
    style = {node: node_line(source, f"n{i}") for i, node in enumerate(order)}
    assert ROOT_COLOUR in style[out] and "penwidth=2" in style[out]
    for parameter in [*neuron.w, neuron.b]:
        assert PARAMETER_COLOUR in style[parameter]
    assert LEAF_COLOUR in style[x[0]]
    assert "class=highlight" in style[x[1]] and "class=highlight" not in style[x[0]]
    assert "legend [" in source


def test_draw_dot_is_draw_graph():
    assert draw_dot is draw_graph


def test_too_many_nodes_raises_with_the_count_and_what_to_do():
    x = Value(1.0)
    for _ in range(20):
        x = x + 1.0
    with pytest.raises(ValueError) as error:
        draw_graph(x, max_nodes=10)
    message = str(error.value)
    assert str(count_nodes(x)) in message and "max_nodes=" in message and "draw_neuron" in message
    assert draw_graph(x, max_nodes=count_nodes(x)).source  # the suggested fix works


def test_huge_graph_is_refused_iteratively_without_building_dot(monkeypatch):
    def no_dot(*args, **kwargs):
        raise AssertionError("the DOT must not be built for a refused graph")

    monkeypatch.setattr(glassgrad.viz.render, "build_graph", no_dot)
    x = Value(0.5)
    for _ in range(200_000):  # far deeper than Python's recursion limit
        x = -x
    with pytest.raises(ValueError, match="200001 Values"):
        draw_graph(x)


def test_count_nodes_counts_shared_nodes_once():
    a = Value(1.0)
    b = a * a + a
    assert count_nodes(b) == len(topological_order(b)) == 3


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="root must be a Value"):
        draw_graph(3.0)
    L, _ = tanh_graph()
    with pytest.raises(TypeError, match="parameters must hold Values"):
        draw_graph(L, parameters=[1.0])
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(L, rankdir="sideways")


def test_user_labels_with_record_characters_are_escaped():
    x = Value(1.0, label='w{0}|<b>"q"')
    source = draw_graph(x * 2.0).source
    assert r'w\{0\}\|\<b\>\"q\"' in source


def test_draw_neuron_marks_parameters_and_leaves_the_neuron_as_it_was():
    neuron = StandInNeuron([0.5, -1.0], 0.25)
    neuron.w[0].grad = 7.0  # a gradient the caller already had
    graph = draw_neuron(neuron, [1.0, 2.0])
    source = graph.source
    assert source.count(PARAMETER_COLOUR) == 3 + 1  # w0, w1, b, and the legend
    assert "{x0 | data 1.0" in source and "{w1 | data -1.0" in source and "{b | data 0.25" in source
    assert neuron.w[0].grad == 7.0 and neuron.w[1].grad == 0.0
    assert [w.label for w in neuron.w] == ["", ""] and neuron.b.label == ""


def test_draw_neuron_shows_the_gradient_of_this_one_output():
    neuron = StandInNeuron([0.5, -1.0], 0.25)
    source = draw_neuron(neuron, [1.0, 2.0]).source
    xs = [Value(1.0), Value(2.0)]
    reference = StandInNeuron([0.5, -1.0], 0.25)
    out = reference(xs)
    out.backward()
    assert f"{{w0 | data 0.5 | grad {format_number(reference.w[0].grad)}}}" in source


def test_draw_neuron_works_with_nn_neuron():
    nn = pytest.importorskip("glassgrad.nn")
    neuron = nn.Neuron(3, activation="tanh", seed=0)
    source = draw_neuron(neuron, [1.0, -2.0, 0.5]).source
    assert source.count(PARAMETER_COLOUR) == 4 + 1
    assert all(p.grad == 0.0 for p in neuron.parameters())


def test_format_number_keeps_a_point_on_whole_numbers_and_the_precision():
    assert format_number(-6.0) == "-6.0"
    assert format_number(0.0013412, precision=3) == "0.00134"
    assert format_number(123456.0, precision=4) == "1.235e+05"


def test_draw_neuron_leaves_the_grads_of_value_inputs_as_they_were() -> None:
    import glassgrad.nn as nn
    neuron = nn.Neuron(2, seed=1)
    x0, x1 = Value(1.0, label="x0"), Value(-2.0, label="x1")
    x0.grad = 5.0
    graph = draw_neuron(neuron, [x0, x1])
    assert x0.grad == 5.0 and x1.grad == 0.0
    assert "grad 5.0" not in graph.source  # the picture shows this output's gradient alone
