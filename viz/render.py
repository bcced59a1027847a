"""Draw a computation graph: every value with its data and grad, every op, every local derivative.

    from glassgrad.viz import draw_graph
    L.backward()
    draw_graph(L)                  # in Jupyter: shown inline as SVG
    draw_graph(L).save("L.svg")    # or .png/.pdf when the Graphviz program is installed

How a picture reads (the legend across the top says the same):

* a box is a Value: its label (or its node name ``n3``), ``data`` and ``grad``, stacked;
* a small oval is the op that made the Value it points to (``op3`` makes ``n3``);
* the number on an edge from an input x into an op is the local derivative
  d(out)/dx, read from ``node.local_grads``: the engine computed it, we only print it;
* fill colours: blue = input (a leaf), amber = parameter, green = the root (the result);
  a thick red border = highlighted.

A picture wider than a notebook's output area (about 1,150 px) is scaled down to fit
(``viz.dot.FIT_SIZE``); the layout keeps that rare for graphs of a neuron's size.

Gradients before ``backward()``: a graph whose grads are all 0 has not been through
``backward()`` yet (after it, the root's grad is 1), so every grad is shown as
``grad ?`` with a note, instead of a wall of misleading zeros. Pass ``grads=True`` or
``grads=False`` to decide yourself.

Node names come from each Value's position in ``engine.topological_order(root)``, so
the same program always gives byte-identical DOT text (``graph.source``). The DOT itself
is written by ``viz.dot``, the layer every drawing shares.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from glassgrad.engine import Value, kept_gradients, topological_order

from .dot import DEFAULT_MAX_NODES, build_graph, format_number, index_graph, positions_of
from .svg import Graph


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
    group_by: object = None,
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
    group_by          a Module (or a list of Modules): one box per neuron, kernel position
                      or cell step of its latest call (see viz.groups); max_nodes then counts boxes
    """
    if group_by is not None:
        from .groups import draw_grouped  # reads nn's groups: loaded only when asked for

        return draw_grouped(root, group_by, rankdir=rankdir, precision=precision,
                            show_local_grads=show_local_grads, highlight=highlight,
                            parameters=parameters, max_nodes=max_nodes, grads=grads,
                            legend=legend, title=title)
    index = index_graph(root, max_nodes=max_nodes)
    order = index.order
    if grads is None:
        grads = any(node.grad != 0.0 for node in order)
    if grads:
        grad_texts = [f"grad {format_number(node.grad, precision)}" for node in order]
        note = ""
    else:
        grad_texts = ["grad ?"] * len(order)
        caller = f"{root.label}.backward()" if root.label else ".backward() on the result"
        note = f"grad ?: not computed yet (call {caller} first)"
    return build_graph(
        index,
        grad_texts=grad_texts,
        parameters=positions_of(parameters, index, "parameters"),
        highlight=positions_of(highlight, index, "highlight"),
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
    labels = [(p, p.label) for p in parameters]
    with kept_gradients([*parameters, *xs], zero=True):  # the graph's leaves
        try:
            for i, weight in enumerate(neuron.w):
                weight.label = weight.label or f"w{i}"
            neuron.b.label = neuron.b.label or "b"
            out = neuron(xs)
            out.backward()
            return draw_graph(out, parameters=parameters, **options)
        finally:
            for parameter, label in labels:
                parameter.label = label


def count_nodes(root: Value) -> int:
    """How many Values the graph of ``root`` has (the engine's iterative walk)."""
    return len(topological_order(root))
