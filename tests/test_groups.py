"""draw_graph(..., group_by=module): one box per neuron, kernel position or cell step."""
import random
import re

import pytest

from glassgrad.engine import Value, topological_order
from glassgrad.nn import LSTM, MLP, RNN, Conv2d, Layer, MaxPool2d, Neuron, SelfAttention
from glassgrad.nn.layers import Group, recorded_groups
from glassgrad.nn.tensors import flatten
from glassgrad.viz import draw_graph
from glassgrad.viz.dot import PARAMETER_COLOUR
from glassgrad.viz.groups import group_nodes


def boxes(source: str) -> dict[str, str]:
    """DOT node name -> its record label, for the value boxes (groups g*, tensors t*, nodes n*)."""
    return dict(re.findall(r'^\s*([gtn]\d+) \[label="\{(.*?)\}"', source, flags=re.M))


def edges(source: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M))


def digit(seed: int = 0) -> list:
    rng = random.Random(seed)
    return [[[rng.random() for _ in range(8)] for _ in range(8)]]


def squares(values) -> Value:
    return sum(v * v for v in values)


def test_a_conv_on_an_8x8_digit_is_refused_ungrouped_and_drawn_as_one_box_per_kernel_position():
    conv = Conv2d(1, 1, 3, seed=0)
    loss = squares(flatten(conv(digit())))
    loss.backward()
    with pytest.raises(ValueError, match="max_nodes=300"):
        draw_graph(loss)  # today's node limit still holds without group_by
    drawn = boxes(draw_graph(loss, group_by=conv).source)
    labels = [label.split(" | ")[0] for name, label in drawn.items() if name.startswith("g")]
    assert labels == [f"out[0,{i},{j}]" for i in range(6) for j in range(6)]


def test_shared_parameters_are_one_box_per_tensor_with_an_edge_to_every_group_that_reads_it():
    conv = Conv2d(1, 1, 3, seed=0)
    loss = squares(flatten(conv(digit())))
    source = draw_graph(loss, group_by=conv).source
    tensors = {label: name for name, label in boxes(source).items() if name.startswith("t")}
    assert set(tensors) == {"weight | 9 values", "bias | 1 values"}
    groups = [name for name in boxes(source) if name.startswith("g")]
    for tensor in tensors.values():
        assert {(tensor, group) for group in groups} <= edges(source)


def test_every_node_is_in_exactly_one_box_and_the_counts_add_up():
    conv = Conv2d(1, 2, 3, seed=1)
    pool = MaxPool2d(2)
    loss = squares(flatten(pool(conv(digit(1)))))
    grouping = group_nodes(loss, recorded_groups(conv) + recorded_groups(pool))
    assert grouping.order == topological_order(loss)
    assert len(grouping.unit) == len(grouping.order)
    sizes = {}
    for unit in grouping.unit:
        sizes[unit] = sizes.get(unit, 0) + 1
    drawn = boxes(draw_graph(loss, group_by=[*recorded_groups(conv), *recorded_groups(pool)]).source)
    for name, label in drawn.items():
        if name.startswith("g"):
            assert f"| {sizes[name]} nodes |" in label
    assert set(drawn) == set(sizes)


def test_a_group_box_shows_the_data_and_grad_of_its_output():
    neuron = Neuron(3, activation="tanh", seed=0)
    out = neuron([0.5, -1.0, 2.0])
    loss = out * 3.0
    loss.backward()
    (label,) = [label for name, label in boxes(draw_graph(loss, group_by=neuron).source).items()
                if name.startswith("g")]
    # b, 3 weights, 3 constant inputs, 3 mul, 3 add and the tanh: 14 nodes in one box
    assert label == f"Neuron | 14 nodes | out {out.data:.4g}, grad 3.0"


def test_before_backward_a_group_box_says_grad_unknown():
    neuron = Neuron(2, seed=0)
    out = neuron([1.0, 2.0])
    source = draw_graph(out, group_by=neuron).source
    assert "grad ?" in source and "not computed yet" in source


def test_an_mlp_draws_one_box_per_neuron_each_reading_every_neuron_of_the_layer_before():
    model = MLP(2, [3, 2, 1], seed=0)
    xs = [Value(0.5, label="x0"), Value(-0.5, label="x1")]
    out = model(xs)
    out.backward()
    source = draw_graph(out, group_by=model).source
    names = {label.split(" | ")[0]: name for name, label in boxes(source).items()}
    layer = [[names[f"layers.{k}.neurons.{i}"] for i in range(n)] for k, n in enumerate([3, 2, 1])]
    assert {(a, b) for a in layer[0] for b in layer[1]} | {(b, layer[2][0]) for b in layer[1]} <= edges(source)
    assert {(names["x0"], a) for a in layer[0]} <= edges(source)  # shared inputs stay outside
    assert not any(label.startswith("w0") for label in names)  # each neuron's own weights are inside it


def test_the_walk_stops_at_a_groups_inputs_so_work_before_the_module_stays_outside():
    x = Value(1.5, label="x")
    doubled = x * 2.0
    doubled.label = "doubled"
    layer = Layer(1, 2, seed=0)
    loss = sum(layer([doubled]))
    drawn = boxes(draw_graph(loss, group_by=layer).source)
    labels = [label.split(" | ")[0] for label in drawn.values()]
    assert "doubled" in labels and "x" in labels


def test_an_rnn_over_ten_steps_is_a_chain_of_ten_step_boxes():
    rnn = RNN(1, 3, seed=0)
    outputs, h = rnn([[0.1 * t] for t in range(10)])
    loss = sum(h)
    loss.backward()
    source = draw_graph(loss, group_by=rnn).source
    names = {label.split(" | ")[0]: name for name, label in boxes(source).items()}
    steps = [names[f"step {t}"] for t in range(10)]
    assert {(a, b) for a, b in zip(steps, steps[1:])} <= edges(source)
    assert "weight_hh_l0 | 9 values" in boxes(source).values()
    # the nodes after the RNN (the sum) are drawn as draw_graph draws them: op and local derivative
    assert re.search(rf"{steps[-1]} -> op\d+ \[label=1.0\]", source)


def test_an_lstm_step_box_shows_its_h_and_c():
    lstm = LSTM(2, 1, seed=0)
    _, (h, c) = lstm([[0.5, -0.5], [1.0, 0.0]])
    loss = h[0] + c[0]
    loss.backward()
    (last,) = [label for label in boxes(draw_graph(loss, group_by=lstm).source).values()
               if label.startswith("step 1 | ")]
    assert f"h[0] {h[0].data:.4g}, grad 1.0" in last and f"c[0] {c[0].data:.4g}" in last


def test_attention_draws_a_qkv_box_per_position_and_each_output_reads_every_one():
    attention = SelfAttention(2, seed=0)
    outputs, _ = attention([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    source = draw_graph(sum(flatten(outputs)), group_by=attention).source
    names = {label.split(" | ")[0]: name for name, label in boxes(source).items()}
    for i in range(3):
        assert {(names[f"qkv[{j}]"], names[f"out[{i}]"]) for j in range(3)} <= edges(source)


def test_a_module_keeps_only_the_groups_of_its_latest_call():
    neuron = Neuron(2, seed=0)
    first = neuron([1.0, 2.0])
    second = neuron([3.0, 4.0])
    assert [group.outputs[0][1] for group in recorded_groups(neuron)] == [second]
    with pytest.raises(ValueError, match="latest call"):
        draw_graph(first, group_by=neuron)


def test_recording_groups_adds_no_parameters():
    conv = Conv2d(1, 1, 2, seed=0)
    before = conv.named_parameters()
    conv([[[1.0, 2.0], [3.0, 4.0]]])
    assert conv.named_parameters() == before


def test_grouped_max_nodes_counts_boxes():
    rnn = RNN(1, 2, seed=0)
    _, h = rnn([[1.0]] * 10)
    with pytest.raises(ValueError, match="boxes, more than max_nodes=5"):
        draw_graph(h[0], group_by=rnn, max_nodes=5)


def test_the_same_program_gives_the_same_grouped_dot_text():
    def picture():
        rnn = RNN(2, 2, seed=3)
        _, h = rnn([[1.0, 0.5]] * 4)
        loss = h[0] * h[1]
        loss.backward()
        return draw_graph(loss, group_by=rnn).source

    assert picture() == picture()


def test_a_list_of_groups_can_be_given_directly():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    product = a * b
    out = product + 1.0
    source = draw_graph(out, group_by=[Group("times", (("ab", product),), (a, b))]).source
    labels = [label.split(" | ")[0] for label in boxes(source).values()]
    assert labels.count("times") == 1 and "a" in labels and "b" in labels


def test_a_list_of_modules_draws_the_boxes_of_each_and_their_parameters():
    conv, readout = Conv2d(1, 1, 3, seed=0), Neuron(36, activation="linear", seed=0)
    score = readout(flatten(conv(digit())))
    score.backward()
    source = draw_graph(score, group_by=[conv, readout]).source
    drawn = boxes(source)
    labels = [label.split(" | ")[0] for name, label in drawn.items() if name.startswith("g")]
    assert sorted(labels) == sorted([f"out[0,{i},{j}]" for i in range(6) for j in range(6)] + ["Neuron"])
    # the readout's 36 weights are its own (inside its box); the conv's are shared (a tensor box)
    assert set(label for name, label in drawn.items() if not name.startswith("g")) == {
        "weight | 9 values", "bias | 1 values"}
    assert re.search(r'label="\{weight \| 9 values\}".*fillcolor="' + PARAMETER_COLOUR, source)
    assert draw_graph(score, group_by=[*recorded_groups(conv), *recorded_groups(readout)],
                      parameters=conv.parameters() + readout.parameters()).source == source


def test_group_by_something_else_is_refused_with_what_it_got():
    with pytest.raises(TypeError, match="group_by must be a Module .* got str 'conv'"):
        draw_graph(Value(1.0) * 2.0, group_by="conv")
    with pytest.raises(TypeError, match="group_by must be a Module .* got list \\[Conv2d"):
        draw_graph(Value(1.0) * 2.0, group_by=[Conv2d(1, 1, 3), "readout"])


@pytest.mark.parametrize("empty", [[], ()])
def test_group_by_an_empty_list_is_refused_as_empty_not_as_a_timing_problem(empty):
    with pytest.raises(ValueError, match=f"^draw_graph: group_by={re.escape(repr(empty))} is empty; give "
                                         "the Module whose boxes to draw") as caught:
        draw_graph(Value(1.0) * 2.0, group_by=empty)
    assert "latest call" not in str(caught.value)


def test_a_grouped_conv_picture_renders_to_svg():
    conv = Conv2d(1, 1, 3, seed=0)
    loss = squares(flatten(conv(digit())))
    loss.backward()
    svg = draw_graph(loss, group_by=conv).pipe(format="svg").decode()
    assert svg.count("out[0,") == 36


def test_a_conv_on_a_digit_read_by_a_neuron_renders_at_a_readable_scale():
    conv, readout = Conv2d(1, 1, 3, seed=0), Neuron(36, activation="linear", seed=0)
    score = readout(flatten(conv(digit())))
    score.backward()
    svg = draw_graph(score, group_by=[conv, readout]).pipe(format="svg").decode()
    scale = float(re.search(r'transform="scale\(([\d.]+)', svg).group(1))
    assert scale >= 0.4  # graphviz shrinks a picture wider than a notebook; text stays legible to ~0.4
    assert svg.count("out[0,") == 36
