"""Grouped drawings: one box per neuron, kernel position or cell step.

    out = conv(digit)                                # a Conv2d on an 8 x 8 image
    loss = sum(v * v for v in flatten(out)); loss.backward()
    draw_graph(loss, group_by=conv)                  # 36 boxes instead of ~2,000 Values

A convolution on a digit or an RNN over ten steps has too many Values to draw one by
one, but its modules know their natural pieces: every call of a module records, for each
piece, the Values it outputs and the Values it reads (an ``nn.layers.Group``; a neuron's
activation, a kernel position's sum, a cell step's h). The drawing has two steps:

1. ``group_nodes(root, groups)``, the grouping pass: from each group's outputs it walks
   back through the graph (iteratively, in recording order) and claims every node it
   meets for that group, stopping at the group's inputs, at another group's outputs and
   at nodes already claimed. A leaf used by one group only (a neuron's own weights, a
   constant) goes inside that group; a leaf several groups share stays outside.
2. ``draw_grouped(...)`` draws one box per group (its label, how many nodes it holds, and
   the data and grad of its outputs), every node no group claimed as in ``draw_graph``
   (with its op and local derivatives), and the shared leaves labelled ``name[index]``
   (parameters such as ``weight[0,0,1,2]``) as one box per name: "weight: 9 values".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from glassgrad.engine import Value, topological_order
from glassgrad.nn import Module
from glassgrad.nn.layers import Group, recorded_groups

from .dot import (LEAF_COLOUR, OP_COLOUR, PARAMETER_COLOUR, ROOT_COLOUR, HIGHLIGHT_COLOUR, _record_escape,
                  add_caption, draw_legend, format_number, new_graph)
from .svg import Graph

GROUP_COLOUR = "#ede9fe"
MAX_ROWS = 4  # output rows shown in a group's box; the rest are counted
_TENSOR_LABEL = re.compile(r"^(.+)\[[\d,]+\]$")  # "weight[0,2]" -> "weight"


@dataclass(frozen=True)
class Grouping:
    """The result of the grouping pass over one graph.

    order   ``topological_order(root)``
    groups  the groups that have an output in the graph, in recording order
    owner   owner[i]: the number of the group that holds ``order[i]``, or None (drawn outside)
    unit    unit[i]: the name of the box that shows ``order[i]``: "g3" (group 3),
            "t0" (a tensor box of shared leaves) or "n17" (the node on its own)
    """

    order: list[Value]
    groups: list[Group]
    owner: list[int | None]
    unit: list[str]


def group_nodes(root: Value, groups: Sequence[Group]) -> Grouping:
    """Assign every node of ``root``'s graph to a group or to a box of its own (see the module doc)."""
    order = topological_order(root)
    position = {node: index for index, node in enumerate(order)}
    kept = [group for group in groups if any(value in position for _, value in group.outputs)]
    owner: list[int | None] = [None] * len(order)
    for number, group in enumerate(kept):  # outputs first, so every walk stops at them
        for _, value in group.outputs:
            if value in position and owner[position[value]] is None:
                owner[position[value]] = number
    for number, group in enumerate(kept):
        stops = set(group.inputs)
        stack = [position[v] for _, v in group.outputs if v in position and owner[position[v]] == number]
        while stack:
            for node_input in order[stack.pop()].inputs:
                at = position[node_input]
                if owner[at] is None and node_input.op is not None and node_input not in stops:
                    owner[at] = number
                    stack.append(at)
    _absorb_private_leaves(order, position, kept, owner)
    return Grouping(order, kept, owner, _units(order, owner))


def _absorb_private_leaves(order: list[Value], position: dict[Value, int], groups: list[Group],
                           owner: list[int | None]) -> None:
    """A leaf that only one group uses, and that is not one of its inputs, goes inside it."""
    users: dict[int, set] = {}
    for at, node in enumerate(order):
        user = ("group", owner[at]) if owner[at] is not None else ("node", at)
        for node_input in node.inputs:
            if node_input.op is None:
                users.setdefault(position[node_input], set()).add(user)
    for at, leaf_users in users.items():
        if len(leaf_users) != 1 or owner[at] is not None:
            continue
        (kind, number), = leaf_users
        if kind == "group" and order[at] not in groups[number].inputs:
            owner[at] = number


def _units(order: list[Value], owner: list[int | None]) -> list[str]:
    tensors: dict[str, str] = {}
    units = []
    for at, node in enumerate(order):
        match = _TENSOR_LABEL.match(node.label) if node.op is None else None
        if owner[at] is not None:
            units.append(f"g{owner[at]}")
        elif match:
            units.append(tensors.setdefault(match.group(1), f"t{len(tensors)}"))
        else:
            units.append(f"n{at}")
    return units


def draw_grouped(root: Value, group_by: object, *, rankdir: str = "LR", precision: int = 4,
                 show_local_grads: bool = True, highlight: Iterable[Value] = (),
                 parameters: Iterable[Value] = (), max_nodes: int, grads: bool | None = None,
                 legend: bool = True, title: str = "") -> Graph:
    """``draw_graph(root, group_by=...)``: ``group_by`` is a Module (its latest call's groups
    and its sub-Modules'), or a list of Modules and ``Group``s (``[conv, readout]``: the
    boxes of both); the options are ``draw_graph``'s, and ``max_nodes`` limits the boxes
    drawn. Parameters default to those of the Modules in ``group_by``."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__} {root!r}")
    items = [group_by] if isinstance(group_by, Module) else group_by
    if not (isinstance(items, (list, tuple)) and all(isinstance(item, (Module, Group)) for item in items)):
        raise TypeError(f"draw_graph: group_by must be a Module (e.g. the model you called) or a list "
                        f"of Modules and nn.layers.Group, got {type(group_by).__name__} {group_by!r}")
    if not items:
        raise ValueError(f"draw_graph: group_by={group_by!r} is empty; give the Module whose boxes to "
                         "draw (e.g. group_by=model), a list of Modules and Groups, or leave "
                         "group_by out to draw every Value")
    modules = [item for item in items if isinstance(item, Module)]
    groups = [group for item in items
              for group in (recorded_groups(item) if isinstance(item, Module) else [item])]
    grouping = group_nodes(root, groups)
    if not grouping.groups:
        raise ValueError(f"draw_graph: group_by={group_by!r} recorded no group of this graph; a module "
                         "keeps the groups of its latest call only, so draw right after the forward "
                         "pass that made this graph")
    boxes = list(dict.fromkeys(grouping.unit))
    if len(boxes) > max_nodes:
        raise ValueError(f"draw_graph: the grouped graph has {len(boxes)} boxes, more than "
                         f"max_nodes={max_nodes}; pass max_nodes={len(boxes)} to draw it anyway, or "
                         "draw the output of one sample's forward pass")
    if not parameters:
        parameters = [p for module in modules for p in module.parameters()]
    if grads is None:
        grads = any(node.grad != 0.0 for node in grouping.order)
    caption = title
    if not grads:
        caption = "\\n".join(text for text in (title, "grad ?: not computed yet (call .backward() first)")
                             if text)
    graph = new_graph(rankdir)
    _draw_boxes(graph, grouping, boxes, _Marks(set(parameters), set(highlight), root), grads, precision)
    _draw_edges(graph, grouping, show_local_grads, precision)
    if legend:
        draw_legend(graph, rankdir, GROUP_LEGEND, local_grads=show_local_grads)
    if caption:
        add_caption(graph, caption)
    return graph


@dataclass(frozen=True)
class _Marks:
    parameters: set
    highlight: set
    root: Value


def _draw_boxes(graph: Graph, grouping: Grouping, boxes: list[str], marks: _Marks, grads: bool,
                precision: int) -> None:
    members: dict[str, list[Value]] = {box: [] for box in boxes}
    for node, box in zip(grouping.order, grouping.unit):
        members[box].append(node)

    def number(x: float) -> str:
        return format_number(x, precision)

    for box in boxes:
        nodes = members[box]
        if box[0] == "g":
            group = grouping.groups[int(box[1:])]
            shown = [(name, v) for name, v in group.outputs if v in nodes]
            rows = [f"{name} {number(v.data)}, grad {number(v.grad) if grads else '?'}"
                    for name, v in shown[:MAX_ROWS]]
            rows += [f"... {len(shown) - MAX_ROWS} more"] if len(shown) > MAX_ROWS else []
            fields = [group.label, f"{len(nodes)} nodes", *rows]
            fill = GROUP_COLOUR
        elif box[0] == "t":
            fields = [_TENSOR_LABEL.match(nodes[0].label).group(1), f"{len(nodes)} values"]  # type: ignore[union-attr]
            fill = PARAMETER_COLOUR if any(n in marks.parameters for n in nodes) else LEAF_COLOUR
        else:
            node = nodes[0]
            fields = [node.label or box, f"data {number(node.data)}",
                      f"grad {number(node.grad)}" if grads else "grad ?"]
            fill = (PARAMETER_COLOUR if node in marks.parameters else
                    LEAF_COLOUR if node.op is None else "white")
        style = {"shape": "record", "style": "filled,rounded", "fillcolor": fill}
        if marks.root in nodes:
            style.update(fillcolor=ROOT_COLOUR, penwidth="2")
        if any(n in marks.highlight for n in nodes):
            style.update(color=HIGHLIGHT_COLOUR, penwidth="3", **{"class": "highlight"})
        graph.node(box, "{" + " | ".join(_record_escape(f) for f in fields) + "}", **style)


def _draw_edges(graph: Graph, grouping: Grouping, show_local_grads: bool, precision: int) -> None:
    """An op oval per node drawn on its own (as draw_graph), one edge per box a group reads."""
    position = {node: index for index, node in enumerate(grouping.order)}
    group_inputs: dict[str, dict[str, None]] = {}  # ordered sets
    for at, node in enumerate(grouping.order):
        box = grouping.unit[at]
        if box[0] == "g":
            sources = group_inputs.setdefault(box, {})
            for node_input in node.inputs:
                if grouping.unit[position[node_input]] != box:
                    sources[grouping.unit[position[node_input]]] = None
        elif node.op is not None:
            graph.node(f"op{at}", node.op.symbol, shape="ellipse", style="filled", fillcolor=OP_COLOUR,
                       fontsize="10", height="0.3", margin="0.04")
            graph.edge(f"op{at}", box)
            for node_input, local_grad in zip(node.inputs, node.local_grads):
                label = format_number(local_grad, precision) if show_local_grads else None
                graph.edge(grouping.unit[position[node_input]], f"op{at}", label=label)
    for box, sources in group_inputs.items():
        for source in sources:
            graph.edge(source, box)


# The grouped picture's legend entries (drawn by dot.draw_legend, in plain nodes).
GROUP_LEGEND = (("legend", "a group: one neuron, kernel position\\nor cell step (its outputs: data, grad)",
                 GROUP_COLOUR),
                ("legend_leaf", "input (leaf), or a tensor of them", LEAF_COLOUR),
                ("legend_parameter", "parameter(s)", PARAMETER_COLOUR),
                ("legend_root", "result (root)", ROOT_COLOUR))
