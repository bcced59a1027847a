"""Backpropagation one chain-rule step at a time, built from the engine's own pieces.

``Value.backward()`` is the engine's ``run_backward(root)``: ``topological_order``,
``seed_gradients``, then ``node.propagate()`` for each node in reversed order.
``backprop_steps`` runs exactly that, with a hook that writes down, at each
``propagate()``, what it did:

    dL/da += dL/dc * dc/da = -2.0 * 3.0 = -6.0

So the frames can never disagree with ``backward()``: they *are* a backward pass.
``step_views`` turns the frames into pictures (one graph per step) for the HTML page,
the GIF and the Jupyter widget.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from glassgrad.engine import Value, run_backward, topological_order

from .render import (DEFAULT_MAX_NODES, Graph, _checked_order, build_graph, format_number, node_name,
                     positions_of)


@dataclass(frozen=True)
class InputUpdate:
    """What one chain-rule step did to one input x of the node."""

    index: int            # the input's position in topological_order(root): node n<index>
    name: str             # its label, or n<index>
    local_grad: float     # d(node)/dx, read from node.local_grads
    contribution: float   # dL/d(node) * d(node)/dx: what this step adds to x.grad
    grad_before: float    # x.grad before the step
    grad_after: float     # x.grad after the step (the engine's number)


@dataclass(frozen=True)
class BackwardFrame:
    """One ``node.propagate()`` of a backward pass."""

    step: int             # 0 for the first chain-rule step
    index: int            # the node's position in topological_order(root)
    name: str             # its label, or n<index>
    op: str               # the symbol of the op that made it ("*", "tanh", ...)
    grad: float           # dL/d(node), complete by the time the node is processed
    root_name: str        # what the caption calls L
    inputs: tuple[InputUpdate, ...]

    def caption(self, precision: int = 4) -> str:
        """The chain rule of this step, in symbols and numbers, one line per input."""
        L, node, number = self.root_name, self.name, lambda x: format_number(x, precision)
        formula = _op_text(self.op, [update.name for update in self.inputs])
        lines = [f"Step {self.step + 1}: {node} = {formula} passes d{L}/d{node} = "
                 f"{number(self.grad)} back to its inputs"]
        for update in self.inputs:
            x = update.name
            lines.append(
                f"d{L}/d{x} += d{L}/d{node} * d{node}/d{x} = {number(self.grad)} * "
                f"{number(update.local_grad)} = {number(update.contribution)}"
                f"   ({x}.grad: {number(update.grad_before)} -> {number(update.grad_after)})"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class ForwardFrame:
    """One Value of the forward pass: computed from its inputs' values by its op."""

    step: int
    index: int
    name: str
    op: str | None        # None for a leaf (an input or a parameter)
    input_names: tuple[str, ...]
    input_values: tuple[float, ...]
    value: float

    def caption(self, precision: int = 4) -> str:
        """``n2 = a * b = 2.0 * -3.0 = -6.0``, or ``a = 2.0 (input)`` for a leaf."""
        number = lambda x: format_number(x, precision)  # noqa: E731
        if self.op is None:
            return f"{self.name} = {number(self.value)} (input)"
        symbolic = _op_text(self.op, self.input_names)
        numeric = _op_text(self.op, [number(x) for x in self.input_values])
        return f"{self.name} = {symbolic} = {numeric} = {number(self.value)}"


def backprop_steps(root: Value) -> list[BackwardFrame]:
    """Run backward on ``root``'s graph one ``propagate()`` at a time, recording each step.

    This *is* ``root.backward()``: the engine's ``run_backward`` with a hook that
    records each step, so the frames can never disagree with it. The grads a frame
    shows are those of this pass (a leaf starts it at 0 and adds its earlier gradient
    back at the end, as backward does). Leaves have no step (they have no inputs to
    pass a gradient to). If a gradient becomes inf or nan, the leaves get their
    gradients back and OverflowError says at which step.
    """
    order = topological_order(root)
    position = {node: index for index, node in enumerate(order)}
    names = [node_name(node, index) for index, node in enumerate(order)]
    frames: list[BackwardFrame] = []

    def record(node: Value) -> None:
        if not node.inputs:
            return
        index = position[node]
        updates = _propagate_and_record(node, position, names)
        frames.append(BackwardFrame(len(frames), index, names[index], node.op.symbol,
                                    node.grad, names[-1], updates))
        if not all(math.isfinite(update.grad_after) for update in updates):
            raise OverflowError(
                f"backprop_steps: at step {len(frames)} a gradient became inf or nan:\n"
                f"{frames[-1].caption()}\nleaf gradients are left as they were before"
            )

    run_backward(root, step=record)
    return frames


def _propagate_and_record(node: Value, position: dict[Value, int],
                          names: list[str]) -> tuple[InputUpdate, ...]:
    """Call ``node.propagate()`` and describe what it did to each input, in order.

    An input used twice (``a * a``) gets two updates; the second starts where the
    first ended, and the last one ends at the engine's own number.
    """
    grad_so_far = {node_input: node_input.grad for node_input in node.inputs}
    node.propagate()
    updates = []
    for slot, (node_input, local_grad) in enumerate(zip(node.inputs, node.local_grads)):
        before = grad_so_far[node_input]
        # propagate() adds nothing when the node's gradient is 0
        contribution = node.grad * local_grad if node.grad else 0.0
        used_again = any(later is node_input for later in node.inputs[slot + 1:])
        after = before + contribution if used_again else node_input.grad
        grad_so_far[node_input] = after
        updates.append(InputUpdate(position[node_input], names[position[node_input]],
                                   local_grad, contribution, before, after))
    return tuple(updates)


def forward_steps(root: Value) -> list[ForwardFrame]:
    """One frame per Value in topological order: how each one was computed."""
    order = topological_order(root)
    position = {node: index for index, node in enumerate(order)}
    frames = []
    for index, node in enumerate(order):
        frames.append(ForwardFrame(
            step=index,
            index=index,
            name=node_name(node, index),
            op=node.op.symbol if node.op else None,
            input_names=tuple(node_name(x, position[x]) for x in node.inputs),
            input_values=tuple(x.data for x in node.inputs),
            value=node.data,
        ))
    return frames


@dataclass(frozen=True)
class StepView:
    """One picture of the stepper: the graph as it is at one moment of backward."""

    graph: Graph
    caption: str
    node: str                      # the DOT name of the highlighted node, e.g. "n4"
    frame: BackwardFrame | None    # None for the start, before the first step


def step_views(root: Value, *, precision: int = 4, rankdir: str = "LR",
               caption_in_picture: bool = False, parameters: Iterable[Value] = (),
               max_nodes: int = DEFAULT_MAX_NODES) -> list[StepView]:
    """The start (root seeded with dL/dL = 1), then one view after each chain-rule step.

    The backward pass runs from zero leaf gradients, and every gradient of the graph
    is put back as it was afterwards: drawing changes nothing.

    In each view, the node being processed is highlighted (red), the edges it passes
    its gradient along are red, and the inputs it updates have an orange border.
    A grad reads ``?`` while nothing has reached it yet and ``so far`` while some of
    the nodes that use it have not passed their share back yet. ``parameters`` (e.g.
    ``model.parameters()``) are drawn in the parameter style, as by ``draw_graph``.
    """
    order = _checked_order(root, max_nodes)
    parameter_positions = positions_of(parameters, {node: i for i, node in enumerate(order)},
                                       "parameters")
    saved = [node.grad for node in order]
    try:
        for node in order:
            node.grad = 0.0
        frames = backprop_steps(root)
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad

    root_index = len(order) - 1
    L = node_name(root, root_index)
    grads = [0.0] * len(order)
    grads[root_index] = 1.0
    total = _use_counts(order)     # how many edges lead out of each node
    waiting = list(total)          # ... of which the gradient has not come back yet

    def view(highlight: int, frame: BackwardFrame | None, caption: str) -> StepView:
        texts = [_grad_text(grads[i], waiting[i], total[i], i == root_index, precision)
                 for i in range(len(order))]
        receiving = frozenset(update.index for update in frame.inputs) if frame else frozenset()
        graph = build_graph(order, grad_texts=texts, parameters=parameter_positions,
                            highlight=frozenset([highlight]),
                            receiving=receiving, active_op=frame.index if frame else None,
                            rankdir=rankdir, precision=precision, legend=False,
                            caption=_picture_caption(caption) if caption_in_picture else "")
        return StepView(graph, caption, f"n{highlight}", frame)

    views = [view(root_index, None,
                  f"Start: d{L}/d{L} = 1.0 (the root's gradient with respect to itself); "
                  "every other gradient is not known yet (?)")]
    for frame in frames:
        for update in frame.inputs:
            grads[update.index] = update.grad_after
            waiting[update.index] -= 1
        views.append(view(frame.index, frame, frame.caption(precision)))
    return views


def _use_counts(order: list[Value]) -> list[int]:
    """For each node, how many times it is an input of another node of the graph."""
    position = {node: index for index, node in enumerate(order)}
    counts = [0] * len(order)
    for node in order:
        for node_input in node.inputs:
            counts[position[node_input]] += 1
    return counts


def _grad_text(grad: float, waiting: int, total: int, is_root: bool, precision: int) -> str:
    if is_root or waiting == 0:
        return f"grad {format_number(grad, precision)}"
    if waiting == total:
        return "grad ?"
    return f"grad {format_number(grad, precision)} so far"


def _op_text(symbol: str, operands: list[str] | tuple[str, ...]) -> str:
    """An op applied to operands as text: ``a * b``, ``a**2``, ``tanh(n4)``.

    A negative number next to an operator gets parentheses (``(-2.0)**2`` is 4, while
    ``-2.0**2`` would read as -4); an op with a constant in its symbol, such as
    ``leaky_relu(0.1)``, shows it as a second argument: ``leaky_relu(n2, 0.1)``.
    """
    if len(operands) == 2 and symbol in ("+", "-", "*", "/", "**"):
        left, right = operands
        if left.startswith("-") and symbol == "**":
            left = f"({left})"
        if right.startswith("-"):
            right = f"({right})"
        return f"{left} {symbol} {right}"
    if len(operands) == 1 and symbol.startswith("**"):
        operand = operands[0]
        return f"({operand}){symbol}" if operand.startswith("-") else f"{operand}{symbol}"
    if symbol == "neg":
        return f"-({operands[0]})" if operands[0].startswith("-") else f"-{operands[0]}"
    if symbol.endswith(")") and "(" in symbol:
        name, constant = symbol[:-1].split("(", 1)
        return f"{name}({', '.join(operands)}, {constant})"
    return f"{symbol}({', '.join(operands)})"


def _picture_caption(caption: str) -> str:
    """The caption as a DOT graph label: lines left-aligned (``\\l``), backslashes kept."""
    return caption.replace("\\", "\\\\").replace("\n", "\\l") + "\\l"
