"""Draw a computation graph: every value with its data and grad, every op, every local derivative.

    from glassgrad.viz import draw_graph
    L.backward()
    draw_graph(L)                  # in Jupyter: shown inline as SVG
    draw_graph(L).save("L.svg")    # or .png/.pdf when the Graphviz program is installed

How a picture reads (the legend in the corner says the same):

* a box is a Value: its label (or its node name ``n3``), ``data`` and ``grad``;
* a small oval is the op that made the Value it points to (``op3`` makes ``n3``);
* the number on an edge from an input x into an op is the local derivative
  d(out)/dx, read from ``node.local_grads``: the engine computed it, we only print it;
* fill colours: blue = input (a leaf), amber = parameter, green = the root (the result);
  a thick red border = highlighted.

Gradients before ``backward()``: a graph whose grads are all 0 has not been through
``backward()`` yet (after it, the root's grad is 1), so every grad is shown as
``grad ?`` with a note, instead of a wall of misleading zeros. Pass ``grads=True`` or
``grads=False`` to decide yourself.

Node names come from each Value's position in ``engine.topological_order(root)``, so
the same program always gives byte-identical DOT text (``graph.source``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import graphviz

from glassgrad.engine import Value, topological_order

from . import svg

DEFAULT_MAX_NODES = 300

LEAF_COLOUR = "#dbeafe"
PARAMETER_COLOUR = "#fde68a"
ROOT_COLOUR = "#bbf7d0"
OP_COLOUR = "#e5e7eb"
HIGHLIGHT_COLOUR = "#dc2626"
RECEIVING_COLOUR = "#f97316"


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders through ``viz.svg``.

    So it shows inline in Jupyter, and ``pipe``/``svg``/``save`` work, even when the
    Graphviz program is not installed (SVG only, through the WebAssembly build).
    """

    def svg(self) -> str:
        """The picture as SVG text."""
        return svg.render_svg(self.source)

    def save(self, path: str | Path, format: str | None = None) -> Path:
        """Write the picture to ``path`` (the format defaults to the file's suffix)."""
        return svg.write(self.source, path, format)

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False,
             *, engine=None, encoding=None):
        """Like ``graphviz.Digraph.pipe``, but through ``viz.svg`` for the plain dot layout."""
        if renderer or formatter or neato_no_op or engine not in (None, "dot"):
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)
        picture = svg.render(self.source, format or self.format)
        return picture.decode(encoding) if encoding else picture

    def _repr_svg_(self) -> str:
        return self.svg()


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    precision: int = 4,
    show_local_grads: bool = True,
    highlight: Iterable[Value] = (),
    parameters: Iterable[Value] = (),
    max_nodes: int = DEFAULT_MAX_NODES,
    grads: bool | None = None,
    legend: bool = True,
    title: str = "",
) -> Graph:
    """The computation graph that ends at ``root``, as a ``Graph`` (a graphviz Digraph).

    rankdir           "LR" (inputs on the left) or "TB" (inputs on top)
    precision         significant digits of every number shown
    show_local_grads  print the local derivative d(out)/d(input) on each input edge
    highlight         Values to draw with a thick red border
    parameters        Values to draw as parameters (e.g. ``model.parameters()``)
    max_nodes         refuse graphs with more Values than this (a picture would be unreadable)
    grads             show gradients? None: yes if any grad in the graph is nonzero
    legend            add the small legend that explains the styles
    title             text under the picture
    """
    order = _checked_order(root, max_nodes)
    if grads is None:
        grads = any(node.grad != 0.0 for node in order)
    if grads:
        grad_texts = [f"grad {format_number(node.grad, precision)}" for node in order]
        note = ""
    else:
        grad_texts = ["grad ?"] * len(order)
        caller = f"{root.label}.backward()" if root.label else ".backward() on the result"
        note = f"grad ?: not computed yet (call {caller} first)"
    position = {node: index for index, node in enumerate(order)}
    return build_graph(
        order,
        grad_texts=grad_texts,
        parameters=positions_of(parameters, position, "parameters"),
        highlight=positions_of(highlight, position, "highlight"),
        rankdir=rankdir,
        precision=precision,
        show_local_grads=show_local_grads,
        legend=legend,
        caption="\\n".join(text for text in (title, note) if text),
    )


draw_dot = draw_graph  # the name used in Karpathy's micrograd lecture


def draw_neuron(neuron, inputs: Sequence[float | Value], **options) -> Graph:
    """Run ``neuron`` on ``inputs``, backpropagate, and draw it with its parameters marked.

    ``neuron`` is anything with weights ``.w`` (a list of Values), a bias ``.b`` and a
    call ``neuron(inputs) -> Value``, like ``nn.Neuron``. Plain-number inputs become
    Values labelled x0, x1, ...; unlabelled weights are shown as w0, w1, ... and b.
    The neuron is left as it was found: its parameters' grads and labels are restored
    after drawing, so the picture shows the gradient of this one output alone.
    Keyword options go to ``draw_graph``.
    """
    parameters = [*neuron.w, neuron.b]
    xs = [x if isinstance(x, Value) else Value(x, label=f"x{i}") for i, x in enumerate(inputs)]
    saved = [(p, p.grad, p.label) for p in (*parameters, *xs)]  # the graph's leaves
    try:
        for i, weight in enumerate(neuron.w):
            weight.label = weight.label or f"w{i}"
        neuron.b.label = neuron.b.label or "b"
        for leaf, _, _ in saved:
            leaf.grad = 0.0
        out = neuron(xs)
        out.backward()
        return draw_graph(out, parameters=parameters, **options)
    finally:
        for leaf, grad, label in saved:
            leaf.grad, leaf.label = grad, label


def count_nodes(root: Value) -> int:
    """How many Values the graph of ``root`` has (the engine's iterative walk)."""
    return len(topological_order(root))


def node_name(node: Value, index: int) -> str:
    """What a picture or caption calls a Value: its label, else ``n<index>``."""
    return node.label or f"n{index}"


def format_number(x: float, precision: int = 4) -> str:
    """``x`` to ``precision`` significant digits, keeping a ``.0`` on whole numbers: -6.0."""
    text = f"{x:.{precision}g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def build_graph(
    order: Sequence[Value],
    *,
    grad_texts: Sequence[str],
    parameters: frozenset[int] = frozenset(),
    highlight: frozenset[int] = frozenset(),
    receiving: frozenset[int] = frozenset(),
    active_op: int | None = None,
    rankdir: str = "LR",
    precision: int = 4,
    show_local_grads: bool = True,
    legend: bool = True,
    caption: str = "",
) -> Graph:
    """The picture of ``order`` (a topological order, root last), node by node.

    Value ``order[i]`` is the node ``n<i>``; the op that made it is ``op<i>``.
    ``grad_texts[i]`` is what its grad field says. ``highlight`` and ``receiving`` hold
    positions of Values to mark (the stepper's current node and the inputs it
    updates); ``active_op`` is the position whose op and input edges are marked.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    graph = Graph("glassgrad", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                  node_attr={"fontname": "Helvetica", "fontsize": "11"},
                  edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    root_index = len(order) - 1
    position = {node: index for index, node in enumerate(order)}
    for index, node in enumerate(order):
        fields = [node_name(node, index), f"data {format_number(node.data, precision)}",
                  grad_texts[index]]
        style = _value_style(index, node, root_index, parameters)
        if index in highlight:
            style.update(color=HIGHLIGHT_COLOUR, penwidth="3", **{"class": "highlight"})
        elif index in receiving:
            style.update(color=RECEIVING_COLOUR, penwidth="2", **{"class": "receiving"})
        graph.node(f"n{index}", "{" + " | ".join(_record_escape(f) for f in fields) + "}", **style)
        if node.op is not None:
            _draw_op(graph, position, index, node, active_op == index, show_local_grads, precision)
    if legend:
        graph.node("legend", _LEGEND, shape="plaintext")
    if caption:
        graph.attr(label=caption, labelloc="b", fontsize="11")
    return graph


def _draw_op(graph: Graph, position: dict[Value, int], index: int, node: Value, active: bool,
             show_local_grads: bool, precision: int) -> None:
    """The op node ``op<index>``, its edge into ``n<index>``, and one edge per input."""
    op_name = f"op{index}"
    marked = {"color": HIGHLIGHT_COLOUR, "penwidth": "2.5"} if active else {}
    tooltip = node.op.formula or node.op.name
    if node.op.derivatives:
        tooltip += "   local derivatives: " + ", ".join(node.op.derivatives)
    graph.node(op_name, node.op.symbol, shape="ellipse", style="filled", fillcolor=OP_COLOUR,
               fontsize="10", height="0.3", margin="0.04", tooltip=tooltip, **marked)
    graph.edge(op_name, f"n{index}", **marked)
    for node_input, local_grad in zip(node.inputs, node.local_grads):
        label = format_number(local_grad, precision) if show_local_grads else None
        graph.edge(f"n{position[node_input]}", op_name, label=label, **marked)


def _value_style(index: int, node: Value, root_index: int, parameters: frozenset[int]) -> dict:
    style = {"shape": "record", "style": "filled,rounded"}
    if index == root_index:
        style.update(fillcolor=ROOT_COLOUR, penwidth="2")
    elif index in parameters:
        style.update(fillcolor=PARAMETER_COLOUR)
    elif node.op is None:
        style.update(fillcolor=LEAF_COLOUR)
    else:
        style.update(fillcolor="white")
    return style


def _record_escape(text: str) -> str:
    """Escape the characters that structure a record label (a user's label may hold them)."""
    for special in "\\{}|<>\"":
        text = text.replace(special, "\\" + special)
    return text


def _checked_order(root: Value, max_nodes: int) -> list[Value]:
    """``topological_order(root)``, after refusing graphs too big to draw."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__} {root!r}")
    order = topological_order(root)
    size = len(order)
    if size > max_nodes:
        raise ValueError(
            f"draw_graph: the graph has {size} Values, more than max_nodes={max_nodes}; a "
            f"picture that big is unreadable. Pass max_nodes={size} to draw it anyway, or "
            "draw a smaller part: one neuron with draw_neuron(neuron, inputs), or an "
            "intermediate Value of the graph"
        )
    return order


def positions_of(values: Iterable[Value], position: dict[Value, int], argument: str) -> frozenset[int]:
    """The positions of ``values`` that are in the graph (others are not drawn anyway)."""
    positions = []
    for value in values:
        if not isinstance(value, Value):
            raise TypeError(f"draw_graph: {argument} must hold Values, got {type(value).__name__} {value!r}")
        if value in position:
            positions.append(position[value])
    return frozenset(positions)


def _legend_row(colour: str, text: str, shape_text: str = "") -> str:
    return (f'<tr><td bgcolor="{colour}" border="1">{shape_text}</td>'
            f'<td align="left">{text}</td></tr>')


_LEGEND = (
    '<<table border="0" cellborder="0" cellspacing="2" cellpadding="2">'
    + _legend_row(LEAF_COLOUR, "input (leaf)")
    + _legend_row(PARAMETER_COLOUR, "parameter")
    + _legend_row(ROOT_COLOUR, "result (root)")
    + _legend_row(OP_COLOUR, "op: makes the value it points to", "op")
    + '<tr><td>1.5</td><td align="left">on an edge: local derivative d(out)/d(in)</td></tr>'
    + "</table>>"
)
