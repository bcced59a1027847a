"""The DOT-building layer: one walk of a graph, and the picture of it, node by node.

Every drawing (``draw_graph``, ``draw_neuron``, the stepper's pages, GIF and widget)
is made of the same two steps:

1. ``index_graph(root)`` walks the graph once (``engine.topological_order``) and
   keeps what the drawings read: the order, each node's position, its name and how
   many times it is used. The stepper passes this one ``GraphIndex`` on to
   ``run_backward``, ``backprop_steps``, ``forward_steps`` and every picture.
2. ``build_graph(index, grad_texts=...)`` writes the DOT text: Value ``order[i]`` is
   the record node ``n<i>``, the op that made it is the oval ``op<i>``, and each input
   edge carries the local derivative read from ``node.local_grads``.

Names come from positions in the order, so the same program always gives
byte-identical DOT text (``graph.source``). The layout is made to fit a notebook: a
Value's fields are stacked, ops are small ovals, and a picture still too wide is scaled
down (``FIT_SIZE``). Everything is plain DOT (no HTML-like labels), so the WebAssembly
Graphviz draws it as the ``dot`` program does.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from glassgrad.engine import Value, topological_order

from .svg import Graph

DEFAULT_MAX_NODES = 300
FIT_SIZE = "11.5,100"   # inches: a wider picture is scaled down to fit a notebook (~1,150 px)

LEAF_COLOUR = "#dbeafe"
PARAMETER_COLOUR = "#fde68a"
ROOT_COLOUR = "#bbf7d0"
OP_COLOUR = "#e5e7eb"
HIGHLIGHT_COLOUR = "#dc2626"
VALUE_FONT_SIZE = 11
NARROW_CHARACTERS = " .,:;-()[]!|fijlrt"
RECEIVING_COLOUR = "#f97316"


@dataclass(frozen=True)
class GraphIndex:
    """One walk of a graph, and everything a drawing reads from it.

    order       ``topological_order(root)``: each node after its inputs, the root last
    position    node -> its place in ``order``: the picture's node ``n<position>``
    names       what pictures and captions call ``order[i]``: its label, else ``n<i>``
    use_counts  how many times ``order[i]`` is an input of a node of the graph
    """

    order: list[Value]
    position: dict[Value, int]
    names: list[str]
    use_counts: list[int]

    @property
    def root(self) -> Value:
        return self.order[-1]


def index_graph(root: Value, *, max_nodes: int | None = None, caller: str = "draw_graph") -> GraphIndex:
    """Walk ``root``'s graph once and index it; refuse graphs over ``max_nodes`` Values.

    ``caller`` is the function named in the error messages.
    """
    if not isinstance(root, Value):
        raise TypeError(f"{caller}: root must be a Value, got {type(root).__name__} {root!r}")
    order = topological_order(root)
    size = len(order)
    if max_nodes is not None and size > max_nodes:
        raise ValueError(
            f"{caller}: the graph has {size} Values, more than max_nodes={max_nodes}; a "
            f"picture that big is unreadable. Pass max_nodes={size} to draw it anyway, or "
            "draw a smaller part: one neuron with draw_neuron(neuron, inputs), or an "
            "intermediate Value of the graph"
        )
    position = {node: index for index, node in enumerate(order)}
    use_counts = [0] * size
    for node in order:
        for node_input in node.inputs:
            use_counts[position[node_input]] += 1
    names = [node_name(node, index) for index, node in enumerate(order)]
    return GraphIndex(order, position, names, use_counts)


def index_of(root: Value, index: GraphIndex | None, caller: str) -> GraphIndex:
    """``index`` if it was made for ``root``'s graph, or a new one (no size limit)."""
    if index is None:
        return index_graph(root, caller=caller)
    if index.root is not root:
        raise ValueError(f"{caller}: index was made for another graph (its root is "
                         f"{index.root!r}, not {root!r})")
    return index


def node_name(node: Value, index: int) -> str:
    """What a picture or caption calls a Value: its label, else ``n<index>``."""
    return node.label or f"n{index}"


def format_number(x: float, precision: int = 4) -> str:
    """``x`` to ``precision`` significant digits, keeping a ``.0`` on whole numbers: -6.0."""
    text = f"{x:.{precision}g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def positions_of(values: Iterable[Value], index: GraphIndex, argument: str) -> frozenset[int]:
    """The positions of ``values`` that are in the graph (others are not drawn anyway)."""
    positions = []
    for value in values:
        if not isinstance(value, Value):
            raise TypeError(f"draw_graph: {argument} must hold Values, got {type(value).__name__} {value!r}")
        if value in index.position:
            positions.append(index.position[value])
    return frozenset(positions)


def build_graph(
    index: GraphIndex,
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
    min_widths: Sequence[float] | None = None,
) -> Graph:
    """The picture of ``index.order`` (a topological order, root last), node by node.

    Value ``order[i]`` is the node ``n<i>``; the op that made it is ``op<i>``.
    ``grad_texts[i]`` is what its grad field says. ``highlight`` and ``receiving`` hold
    positions of Values to mark (the stepper's current node and the inputs it
    updates); ``active_op`` is the position whose op and input edges are marked.
    ``min_widths[i]``, in inches, is the least width of ``n<i>`` (see ``record_width``).
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    # decorate: each edge label is underlined and tied to its own edge by a short line, so
    # the two local derivatives where edges meet (at a "*") each point to their input.
    graph = new_graph(rankdir)
    root_index = len(index.order) - 1
    for position, node in enumerate(index.order):
        fields = [index.names[position], f"data {format_number(node.data, precision)}",
                  grad_texts[position]]
        style = _value_style(position, node, root_index, parameters)
        if min_widths is not None:
            style["width"] = f"{min_widths[position]:.2f}"
        if position in highlight:
            style.update(color=HIGHLIGHT_COLOUR, penwidth="3", **{"class": "highlight"})
        elif position in receiving:
            style.update(color=RECEIVING_COLOUR, penwidth="2", **{"class": "receiving"})
        graph.node(f"n{position}", _stacked_record(fields, rankdir), **style)
        if node.op is not None:
            _draw_op(graph, index, position, active_op == position, show_local_grads, precision)
    if legend:
        draw_legend(graph, rankdir, local_grads=show_local_grads)
    if caption:
        add_caption(graph, caption)
    return graph


def record_width(texts: Iterable[str], fontsize: float = VALUE_FONT_SIZE) -> float:
    """A width in inches that fits a record field holding any of ``texts``, with room to spare.

    An estimate that errs on the wide side, the same whichever Graphviz renders it: narrow
    characters count 0.35 of the font size, all others 0.65 (Helvetica's digits are 0.556).
    Graphviz pads each field by 8 points on either side.
    """
    widest = max((sum(0.35 if character in NARROW_CHARACTERS else 0.65 for character in text)
                  for text in texts), default=0.0)
    return (widest * fontsize + 2 * 8) / 72


def add_caption(graph: Graph, caption: str) -> Graph:
    """Write ``caption`` (DOT label text) under the picture; returns ``graph``."""
    graph.attr(label=caption, labelloc="b", fontsize="11")
    return graph


def _draw_op(graph: Graph, index: GraphIndex, position: int, active: bool,
             show_local_grads: bool, precision: int) -> None:
    """The op node ``op<position>``, its edge into ``n<position>``, and one edge per input."""
    node = index.order[position]
    op_name = f"op{position}"
    marked = {"color": HIGHLIGHT_COLOUR, "penwidth": "2.5"} if active else {}
    marked_label = {"fontcolor": HIGHLIGHT_COLOUR} if active else {}
    op = node.op
    assert op is not None  # only nodes made by an op are drawn with one
    tooltip = op.formula or op.name
    if op.derivatives:
        tooltip += "   local derivatives: " + ", ".join(op.derivatives)
    graph.node(op_name, op.symbol, shape="ellipse", style="filled", fillcolor=OP_COLOUR,
               fontsize="10", width="0.3", height="0.3", margin="0.04", tooltip=tooltip,
               **marked)
    graph.edge(op_name, f"n{position}", **marked)
    for node_input, local_grad in zip(node.inputs, node.local_grads):
        label = format_number(local_grad, precision) if show_local_grads else None
        graph.edge(f"n{index.position[node_input]}", op_name, label=label, **marked, **marked_label)


def _value_style(position: int, node: Value, root_index: int, parameters: frozenset[int]) -> dict:
    style = {"shape": "record", "style": "filled,rounded"}
    if position == root_index:
        style.update(fillcolor=ROOT_COLOUR, penwidth="2")
    elif position in parameters:
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


def _stacked_record(fields: Sequence[str], rankdir: str) -> str:
    """A record label whose fields sit one above the other, whatever the direction.

    A record lays its fields out across the rank direction and each ``{}`` turns them a
    quarter: in "LR" ``{a | b}`` is a row, so the stack needs a second pair of braces.
    """
    stack = "{" + " | ".join(_record_escape(field) for field in fields) + "}"
    return "{" + stack + "}" if rankdir in ("LR", "RL") else stack


def new_graph(rankdir: str) -> Graph:
    """An empty picture with glassgrad's layout: tight spacing, one font, edge labels tied
    to their edges, and scaled down to ``FIT_SIZE`` if it would be wider than a notebook."""
    return Graph("glassgrad", graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                          "ranksep": "0.2", "nodesep": "0.3", "size": FIT_SIZE},
                 node_attr={"fontname": "Helvetica", "fontsize": str(VALUE_FONT_SIZE)},
                 edge_attr={"fontname": "Helvetica", "fontsize": "9", "decorate": "true"})


# (node name, text, fill colour): the first entry is the node named "legend"
VALUE_ENTRIES = (("legend", "input (leaf)", LEAF_COLOUR), ("legend_parameter", "parameter", PARAMETER_COLOUR),
                 ("legend_root", "result (root)", ROOT_COLOUR))


def draw_legend(graph: Graph, rankdir: str, boxes: Sequence[tuple[str, str, str]] = VALUE_ENTRIES,
                local_grads: bool = True) -> None:
    """The legend: a small boxed cluster of plain nodes, styled like what they explain:
    ``boxes`` (node name, text, fill colour; "legend_root" gets the root's thick border),
    then an op and, if the edges show them (``local_grads``), the number on an edge.

    Plain text and ordinary shapes only (no HTML-like labels), so the WebAssembly
    Graphviz draws it as ``dot`` does. Invisible edges chain the entries into one strip
    across the top ("LR") or down the side ("TB"). Across the top, each entry skips a
    rank, so that it sits above a column of Values (the widest columns) and the legend
    makes no column of the graph wider.
    """
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", labeljust="l", fontsize="10", style="rounded",
                    color="#9ca3af", margin="6")
        entries = []
        for name, text, colour in boxes:
            entries.append(name)
            legend.node(name, text, shape="box", style="filled,rounded", height="0.25",
                        fillcolor=colour, penwidth="2" if name == "legend_root" else "1")
        legend.node("legend_op", "op: makes\\nthe value it\\npoints to", shape="ellipse",
                    style="filled", fillcolor=OP_COLOUR, fontsize="9", margin="0.02")
        entries.append("legend_op")
        if local_grads:
            legend.node("legend_local_grad", "1.5 on an edge:\\nlocal derivative\\nd(out)/d(in)",
                        shape="plaintext", fontsize="9", height="0.3")
            entries.append("legend_local_grad")
        minlen = "2" if rankdir in ("LR", "RL") else "1"
        for before, after in zip(entries, entries[1:]):
            legend.edge(before, after, style="invis", minlen=minlen)
