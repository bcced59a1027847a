"""Backpropagation one chain-rule step at a time, built from the engine's own pieces.

``Value.backward()`` is the engine's ``run_backward(root)``: ``topological_order``,
``seed_gradients``, then ``node.propagate()`` for each node in reversed order.
``backprop_steps`` runs exactly that, with a hook that writes down, at each
``propagate()``, what it returned: the amount it added to each input's gradient.

    dL/da += dL/dc * dc/da = -2.0 * 3.0 = -6.0

So the frames can never disagree with ``backward()``: they *are* a backward pass.
``step_views`` turns the frames into pictures (one graph per step) for the HTML page,
the GIF and the Jupyter widget. A drawing walks the graph once: ``viz.dot.index_graph``
makes a ``GraphIndex`` that the backward pass and every picture share.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from glassgrad.engine import Value, kept_gradients, run_backward

from .dot import (DEFAULT_MAX_NODES, GraphIndex, add_caption, build_graph, format_number,
                  index_graph, index_of, positions_of, record_width)
from .svg import Graph


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


def backprop_steps(root: Value, *, index: GraphIndex | None = None) -> list[BackwardFrame]:
    """Run backward on ``root``'s graph one ``propagate()`` at a time, recording each step.

    This *is* ``root.backward()``: the engine's ``run_backward`` with a hook that
    records what each ``propagate()`` returned, so the frames can never disagree with
    it. The grads a frame shows are those of this pass (a leaf starts it at 0 and adds
    its earlier gradient back at the end, as backward does). Leaves have no step (they
    have no inputs to pass a gradient to). If a gradient becomes inf or nan, the
    leaves get their gradients back and OverflowError says at which step.
    ``index``: the ``GraphIndex`` of ``root``'s graph, if the caller made it already.
    """
    index = index_of(root, index, "backprop_steps")
    names = index.names
    frames: list[BackwardFrame] = []

    def record(node: Value) -> None:
        if not node.inputs:
            return
        grads_before = {node_input: node_input.grad for node_input in node.inputs}
        contributions = node.propagate()
        updates = _input_updates(node, contributions, grads_before, index)
        position = index.position[node]
        assert node.op is not None  # backprop_steps steps through op nodes only
        frames.append(BackwardFrame(len(frames), position, names[position], node.op.symbol,
                                    node.grad, names[-1], updates))
        if not all(math.isfinite(update.grad_after) for update in updates):
            raise OverflowError(
                f"backprop_steps: at step {len(frames)} a gradient became inf or nan:\n"
                f"{frames[-1].caption()}\nleaf gradients are left as they were before"
            )

    run_backward(root, step=record, order=index.order)
    return frames


def _input_updates(node: Value, contributions: tuple[float, ...], grad_so_far: dict[Value, float],
                   index: GraphIndex) -> tuple[InputUpdate, ...]:
    """Describe what ``node.propagate()`` did to each input, in input order.

    ``contributions`` is what it returned; ``grad_so_far`` holds the inputs' grads from
    before it. An input used twice (``a * a``) gets two updates; the second starts
    where the first ended, and the last one ends at the engine's own number.
    """
    updates = []
    for slot, (node_input, local_grad, contribution) in enumerate(
            zip(node.inputs, node.local_grads, contributions)):
        before = grad_so_far[node_input]
        used_again = any(later is node_input for later in node.inputs[slot + 1:])
        after = before + contribution if used_again else node_input.grad
        grad_so_far[node_input] = after
        position = index.position[node_input]
        updates.append(InputUpdate(position, index.names[position], local_grad, contribution,
                                   before, after))
    return tuple(updates)


def forward_steps(root: Value, *, index: GraphIndex | None = None) -> list[ForwardFrame]:
    """One frame per Value in topological order: how each one was computed.

    ``index``: the ``GraphIndex`` of ``root``'s graph, if the caller made it already.
    """
    index = index_of(root, index, "forward_steps")
    frames = []
    for position, node in enumerate(index.order):
        frames.append(ForwardFrame(
            step=position,
            index=position,
            name=index.names[position],
            op=node.op.symbol if node.op else None,
            input_names=tuple(index.names[index.position[x]] for x in node.inputs),
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
    index: GraphIndex | None = None  # the walk of the graph the view was drawn from


def step_views(root: Value, *, precision: int = 4, rankdir: str = "LR",
               parameters: Iterable[Value] = (), max_nodes: int = DEFAULT_MAX_NODES,
               caption_in_picture: bool = False, index: GraphIndex | None = None) -> list[StepView]:
    """The start (root seeded with dL/dL = 1), then one view after each chain-rule step.

    The options of every stepper (``stepper_html``, ``stepper_gif``, ``step_widget``
    take the same ones, with the same defaults):

      precision   significant digits of every number shown
      rankdir     "LR" (inputs on the left) or "TB" (inputs on top)
      parameters  Values to draw in the parameter style, as by ``draw_graph``
                  (e.g. ``model.parameters()``)
      max_nodes   refuse graphs with more Values than this (a picture would be unreadable)

    ``caption_in_picture`` writes each step's caption under its picture (the GIF's
    way; see also ``captioned``). ``index``: the ``GraphIndex`` of ``root``'s graph,
    if the caller made it already (then ``max_nodes`` is not checked again).

    The backward pass runs from zero leaf gradients, and every gradient of the graph
    is put back as it was afterwards: drawing changes nothing.

    In each view, the node being processed is highlighted (red), the edges it passes
    its gradient along are red, and the inputs it updates have an orange border.
    A grad reads ``?`` while nothing has reached it yet and ``so far`` while some of
    the nodes that use it have not passed their share back yet.
    """
    if index is None:
        index = index_graph(root, max_nodes=max_nodes)
    else:
        index = index_of(root, index, "step_views")
    parameter_positions = positions_of(parameters, index, "parameters")
    with kept_gradients(index.order, zero=True):
        frames = backprop_steps(root, index=index)

    size = len(index.order)
    root_index = size - 1
    L = index.names[root_index]
    grads = [0.0] * size
    grads[root_index] = 1.0
    total = index.use_counts       # how many edges lead out of each node
    waiting = list(total)          # ... of which the gradient has not come back yet

    def grad_texts() -> list[str]:
        return [_grad_text(grads[i], waiting[i], total[i], i == root_index, precision)
                for i in range(size)]

    moments: list[tuple[int, BackwardFrame | None, list[str], str]] = [(root_index, None, grad_texts(),
                f"Start: d{L}/d{L} = 1.0 (the root's gradient with respect to itself); "
                "every other gradient is not known yet (?)")]
    for frame in frames:
        for update in frame.inputs:
            grads[update.index] = update.grad_after
            waiting[update.index] -= 1
        moments.append((frame.index, frame, grad_texts(), frame.caption(precision)))

    # Each node is as wide in every frame as its widest grad text makes it in any frame,
    # so all the pictures share one layout: nodes stay put as the slider moves.
    widths = [record_width(texts[i] for _, _, texts, _ in moments) for i in range(size)]
    views = []
    for highlight, moment, texts, caption in moments:
        receiving = frozenset(update.index for update in moment.inputs) if moment else frozenset()
        graph = build_graph(index, grad_texts=texts, parameters=parameter_positions,
                            highlight=frozenset([highlight]),
                            receiving=receiving, active_op=moment.index if moment else None,
                            rankdir=rankdir, precision=precision, legend=False, min_widths=widths,
                            caption=_picture_caption(caption) if caption_in_picture else "")
        views.append(StepView(graph, caption, f"n{highlight}", moment, index))
    return views


def captioned(view: StepView) -> Graph:
    """A copy of ``view.graph`` with the view's caption under the picture.

    The same picture as ``step_views(..., caption_in_picture=True)`` gives, so one run
    of the stepper serves both a page (captions beside the pictures) and a single frame.
    """
    return add_caption(view.graph.copy(), _picture_caption(view.caption))


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


# ------------------------------------------------------------------- quiz questions

QUIZ_TOLERANCE = 0.01
"""An answer counts as right within 1% of the size of the numbers the step adds up
(the input's grad so far and this step's share), so numbers read off a picture at
4 significant digits and rounded on the way are accepted."""


@dataclass(frozen=True)
class Mistake:
    """A common mistake, named as ``nn.checks`` names it, and the answer it would give."""

    code: str              # "sign_error", "overwrote_grad", ... or "wrong_value" (none known)
    hint: str
    answer: float | None   # None for "wrong_value": any other wrong number


@dataclass(frozen=True)
class QuizAnswer:
    """One number the learner types before a step: an input's grad after the step."""

    index: int             # the input's position in topological_order(root)
    name: str
    answer: float          # the engine's number: x.grad after the step
    tolerance: float       # how far from ``answer`` (or a mistake's answer) still matches
    mistakes: tuple[Mistake, ...]   # checked in order; the first that matches is named


def quiz_answers(frame: BackwardFrame, index: GraphIndex) -> tuple[QuizAnswer, ...]:
    """What the learner must type before ``frame`` is shown: for each input the step
    updates (once, even if the node uses it twice), its grad after the step,

        x.grad (after) = x.grad (so far) + dL/d(node) * d(node)/dx

    and the answers the common mistakes would give instead, worked out here from the
    frame so that a page can name them by comparing numbers. The codes and hints are
    the checkers' (``nn.checks``): ``overwrote_grad`` (``=`` instead of ``+=``),
    ``missing_chain_factor``, ``sign_error``, and for a wrong local derivative
    ``swapped_inputs``, ``returned_forward``, ``used_input_for_output``, ``factor_of_two``.
    A mistake that would give the right number anyway is left out.
    """
    node = index.order[frame.index]
    slots: dict[int, list[InputUpdate]] = {}
    for update in frame.inputs:
        slots.setdefault(update.index, []).append(update)
    answers = []
    for position, updates in slots.items():
        before, after = updates[0].grad_before, updates[-1].grad_after
        tolerance = QUIZ_TOLERANCE * max(abs(before), sum(abs(u.contribution) for u in updates))
        mistakes = []
        for code, hint, answer in _step_mistakes(frame, node, index, position, updates):
            if math.isfinite(answer) and abs(answer - after) > tolerance:
                mistakes.append(Mistake(code, hint, answer))
        name = updates[0].name
        mistakes.append(Mistake("wrong_value", (
            f"Apply the chain rule: d{frame.root_name}/d{name} += d{frame.root_name}/d{frame.name}"
            f" * d{frame.name}/d{name}; the number on the edge from {name} is "
            f"d{frame.name}/d{name}."), None))
        answers.append(QuizAnswer(position, name, after, tolerance, tuple(mistakes)))
    return tuple(answers)


def _step_mistakes(frame: BackwardFrame, node: Value, index: GraphIndex, position: int,
                   updates: list[InputUpdate]) -> list[tuple[str, str, float]]:
    """(code, hint, the answer it gives) for the mistakes one input's answer may show."""
    x, n, L = updates[0].name, frame.name, frame.root_name
    before, grad = updates[0].grad_before, frame.grad
    share = sum(update.contribution for update in updates)
    local = sum(update.local_grad for update in updates)
    uses = index.use_counts[position]
    guesses = [
        ("overwrote_grad", f"{x} is used {uses} times, and you kept only the gradient through "
         f"{n}: accumulate with += instead of overwriting with =.", share),
    ]
    if len(updates) > 1:
        guesses.append(("overwrote_grad", f"{n} uses {x} {len(updates)} times: add the share "
                        "of each use (+=), not just one.", before + updates[0].contribution))
    guesses += [
        ("missing_chain_factor", f"That is the local derivative d{n}/d{x} alone: multiply it by "
         f"the gradient flowing in, d{L}/d{n} (the chain rule).", before + local),
        ("sign_error", "This step's share has the opposite sign: a sign error?", before - share),
    ]
    others = [i for i, node_input in enumerate(node.inputs) if index.position[node_input] != position]
    if others:
        other = index.names[index.position[node.inputs[others[0]]]]
        guesses.append(("swapped_inputs", f"That uses d{n}/d{other}, the derivative with respect "
                        "to the other input: are the two derivatives swapped?",
                        before + grad * node.local_grads[others[0]] * len(updates)))
    guesses.append(("returned_forward", f"That uses the value of {n}, the op's output, not its "
                    f"slope: the local derivative is d{n}/d{x}.",
                    before + grad * node.data * len(updates)))
    op = node.op
    assert op is not None  # a quiz question is about an op node's step
    if op.arity == 1:
        try:
            wrong_local = op.local_grads(node.inputs[0].data, node.inputs[0].data)[0]
        except (ArithmeticError, ValueError):
            wrong_local = math.nan
        guesses.append(("used_input_for_output", "The local derivative uses x where it needs out, "
                        f"the op's output (out = {op.formula or op.name}).",
                        before + grad * wrong_local))
    guesses += [
        ("factor_of_two", "Twice the right share: a factor 2 too many?", before + 2 * share),
        ("factor_of_two", "Half the right share: a factor 2 missing?", before + share / 2),
    ]
    return guesses
