"""Checkers for the classroom exercises: they say exactly what is wrong, and why.

Each ``check_*`` function runs a student's code against a reference that the student
did not write: the engine's own op declarations (``engine.ops``), ``Value.backward``
and ``engine.gradcheck`` (finite differences). When all is well it prints one line,
``PASS ...``; otherwise it raises ``CheckFailure`` (an AssertionError, so a notebook
cell fails visibly) whose message names the wrong thing, the expected and the actual
value, and a hint for the common mistake behind it:

    check_local_derivative("tanh", tanh_local_grads)
    check_backward_by_hand(backward_by_hand)        # on backward_exercise_graph()
    check_neuron_forward(neuron_forward)
    check_sgd_step(sgd_step)
    check_accuracy(model, X_test, y_test, target=0.9)   # on accuracy_exercise_data()

The diagnosis compares the student's answers with the answers each common mistake
would give (a sign error, ``=`` instead of ``+=``, a missing bias, ...) at every test
point; the first mistake that explains all of them is named in ``CheckFailure.mistake``.

In Jupyter a failing check does not raise: it shows a short styled message (what is
wrong, expected and got, the hint) and returns None, so that "Run All" on an unfinished
notebook reaches the last cell. Everywhere else (a script, a test) it raises. The
environment variable ``GLASSGRAD_CHECKS`` overrides the choice: ``raise``, ``show``, or
``off`` (the checkers do nothing: the grader's sandbox, where the grader runs its own).
"""
from __future__ import annotations

import functools
import html
import inspect
import math
import numbers
import os
import re
import sys
from typing import Callable, NoReturn, Sequence, cast

from glassgrad.engine import Op, Value, gradcheck, topological_order
from glassgrad.engine.ops import BUILTIN_OPS

from .data import make_spirals, train_test_split
from .keras import Dense, Input, Sequential
from .layers import ACTIVATIONS, MLP, Dropout, Layer, Neuron
from .predictions import evaluation_mode, model_loss
from .train import History, accuracy as nn_accuracy

# A guess at a mistake: (mistake code, hint for the student, the answers it would give).
Guess = tuple[str, str, Sequence[float]]

TODO_HINT = "Replace the TODO in the cell above with your code, run that cell, then this one."


class CheckFailure(AssertionError):
    """A check failed. ``mistake`` is a short code for the diagnosed mistake
    (``"sign_error"``, ``"overwrote_grad"``, ... or ``"todo"`` for unfinished work)."""

    def __init__(self, check: str, problem: str, hint: str, mistake: str) -> None:
        super().__init__(f"{check}: {problem}\n  Hint: {hint}")
        self.check, self.problem, self.hint, self.mistake = check, problem, hint, mistake


# ------------------------------------------------------------ in a notebook

CHECK_MIMETYPE = "application/vnd.glassgrad.check+json"  # the failure, for tools and tests


def failure_mode() -> str:
    """How a failing check reports: "raise", "show" (inline, in Jupyter) or "off"."""
    chosen = os.environ.get("GLASSGRAD_CHECKS", "")
    if chosen in ("raise", "show", "off"):
        return chosen
    ipython = sys.modules.get("IPython")  # loaded in every Jupyter kernel; never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    return "show" if getattr(shell, "kernel", None) is not None else "raise"


def reported(checker: Callable) -> Callable:
    """``checker``, with its failures shown inline in Jupyter (see ``failure_mode``)."""
    @functools.wraps(checker)
    def run_checker(*args: object, **kwargs: object) -> object:
        mode = failure_mode()
        if mode == "off":
            return None
        try:
            return checker(*args, **kwargs)
        except CheckFailure as failure:
            if mode == "raise":
                raise
            show_failure(failure)
            return None
    return run_checker


def show_failure(failure: CheckFailure) -> None:
    """Display a failed check in the notebook: a red box, not a traceback."""
    from IPython.display import display
    plain = f"FAILED {failure.check}: {failure.problem}\n  Hint: {failure.hint}"
    box = ("<div style=\"border-left: 4px solid #dc2626; background: #fef2f2; color: #111827; "
           "padding: .5em .9em; margin: .2em 0; font-family: system-ui, sans-serif\">"
           f"<div style=\"font-weight: 600; color: #b91c1c\">&#x2717; {html.escape(failure.check)}"
           "</div>"
           f"<div style=\"white-space: pre-wrap; margin: .3em 0\">{html.escape(failure.problem)}</div>"
           f"<div><b>Hint:</b> {html.escape(failure.hint)}</div></div>")
    display({"text/plain": plain, "text/html": box,
             CHECK_MIMETYPE: {"check": failure.check, "problem": failure.problem,
                              "hint": failure.hint, "mistake": failure.mistake}}, raw=True)


def _close(got: float, expected: float) -> bool:
    return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)


def _diagnose(got: Sequence[float], guesses: Sequence[Guess], fallback: str) -> tuple[str, str]:
    """(code, hint) of the first guessed mistake that gives exactly the answers ``got``."""
    for code, hint, predicted in guesses:
        if all(_close(g, p) for g, p in zip(got, predicted)):
            return code, hint
    return "wrong_value", fallback


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and math.isfinite(float(x))


def _name(fn: object) -> str:
    return getattr(fn, "__name__", "your function")


def _call_student(check: str, fn: Callable, *args: object, **kwargs: object) -> object:
    """Call the student's function; a NotImplementedError means the TODO is still there."""
    if not callable(fn):
        raise CheckFailure(check, f"expected your function, got {fn!r}", TODO_HINT, "todo")
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as error:
        raise CheckFailure(check, f"your function has the wrong parameters: {error}",
                           "Keep the parameters the exercise gives in the def line.",
                           "wrong_signature") from None
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(check, f"{_name(fn)} is still a TODO",
                           TODO_HINT, "todo") from None


# ------------------------------------------------------------ local derivatives

_UNARY_POINTS = ((-1.3,), (-0.4,), (0.6,), (2.1,))
_BINARY_POINTS = ((1.5, -0.5), (-2.0, 3.0), (0.7, 1.3), (3.0, 2.0))
_INPUT_NAMES = ("x", "y")


def check_local_derivative(op: str | Op, local_grads: Callable[..., object],
                           points: Sequence[Sequence[float]] | None = None) -> None:
    """Check a student's ``local_grads(x, out)`` (or ``(x, y, out)``) for an op.

    ``op`` is a built-in op's name (``"tanh"``, ``"div"``: see ``engine.ops.BUILTIN_OPS``)
    or an ``Op`` such as ``engine.ops.power(3)``. The student's function must return
    d out/d x_i for each input (a bare number is accepted for one input). The reference
    is the op's own declaration ``op.local_grads``, and ``gradcheck`` runs the student's
    derivative through backward against finite differences.
    """
    op = _builtin_op(op)
    check = f"check_local_derivative({op.name!r})"
    tried = [tuple(map(float, p)) for p in (points or (
        _UNARY_POINTS if op.arity == 1 else _BINARY_POINTS))]
    tried = [p for p in tried if _in_domain(op, p)]
    answers = [_student_local_grads(check, op, local_grads, p) for p in tried]
    for i in range(op.arity):
        expected = [op.local_grads(*p, op.forward(*p))[i] for p in tried]
        got = [answer[i] for answer in answers]
        if all(_close(g, e) for g, e in zip(got, expected)):
            continue
        k = next(k for k, (g, e) in enumerate(zip(got, expected)) if not _close(g, e))
        code, hint = _diagnose(got, _local_derivative_guesses(op, tried, i, expected),
                               "Work it out on paper, then compare with the finite-difference "
                               "slope (f(x+h) - f(x-h)) / 2h for a small h.")
        at = ", ".join(f"{name} = {v!r}" for name, v in zip(_INPUT_NAMES, tried[k]))
        raise CheckFailure(check, (
            f"the derivative with respect to {_INPUT_NAMES[i]} is wrong at {at}: "
            f"expected {expected[k]:.6g}, got {got[k]:.6g}"
            f"{_numeric_slope_text(op, local_grads, tried[k], i)}"), hint, code)
    student_op = Op(f"your_{op.name}", op.forward, _as_tuple_fn(op, local_grads))
    for p in tried:  # an independent confirmation, through backward
        gradcheck(student_op, p)
    print(f"PASS {check}: your local derivative matches engine.ops and finite differences "
          f"at {len(tried)} points")


def _builtin_op(op: str | Op) -> Op:
    if isinstance(op, Op):
        return op
    if op not in BUILTIN_OPS:
        raise ValueError(f"check_local_derivative: no built-in op named {op!r}; "
                         f"choose one of {sorted(BUILTIN_OPS)} or pass an Op")
    return BUILTIN_OPS[op]


def _in_domain(op: Op, point: tuple[float, ...]) -> bool:
    try:
        return math.isfinite(op.forward(*point))
    except (ValueError, ZeroDivisionError, OverflowError):
        return False


def _as_tuple_fn(op: Op, local_grads: Callable[..., object]) -> Callable[..., tuple]:
    """The student's function as an Op's ``local_grads``, returning a tuple even where it
    returns a bare number or a list. Used only once ``_student_local_grads`` has accepted
    its answers at the points checked."""
    if op.arity == 2:  # kept as it is: Op reads its signature, (x, y, out)
        return cast("Callable[..., tuple]", local_grads)

    def unary_local_grads(x: float, out: float) -> tuple:
        answer = local_grads(x, out)
        return tuple(answer) if isinstance(answer, (tuple, list)) else (answer,)
    return unary_local_grads


def _student_local_grads(check: str, op: Op, local_grads: Callable, point: tuple) -> tuple:
    """The student's answer at ``point`` as a tuple of floats, or a CheckFailure saying why not."""
    out = op.forward(*point)
    answer = _call_student(check, local_grads, *point, out)
    if op.arity == 1 and answer is not None and not isinstance(answer, (tuple, list)):
        answer = (answer,)
    if answer is None or (isinstance(answer, (tuple, list)) and None in answer):
        raise CheckFailure(check, f"{_name(local_grads)} returned {answer!r}: is it still a TODO?",
                           TODO_HINT, "todo")
    if not isinstance(answer, (tuple, list)) or len(answer) != op.arity:
        raise CheckFailure(check, f"expected {op.arity} derivative(s), one per input, got {answer!r}",
                           "Return a tuple with one local derivative per input, e.g. "
                           + ("(d_out_dx,)" if op.arity == 1 else "(d_out_dx, d_out_dy)"),
                           "wrong_shape")
    if not all(_is_number(a) for a in answer):
        raise CheckFailure(check, f"expected finite numbers, got {answer!r}",
                           "Compute with plain floats (math.exp, math.tanh), not Values.",
                           "wrong_type")
    return tuple(float(a) for a in answer)


def _local_derivative_guesses(op: Op, points: list[tuple], i: int,
                              expected: list[float]) -> list[Guess]:
    outs = [op.forward(*p) for p in points]
    guesses: list[Guess] = [
        ("sign_error", "Same size, opposite sign: a sign error?", [-e for e in expected]),
        ("returned_forward", "That is the op's output, not its slope: return the derivative.",
         outs),
        ("factor_of_two", "Twice the right value: a factor 2 too many?", [2 * e for e in expected]),
        ("factor_of_two", "Half the right value: a factor 2 missing?", [e / 2 for e in expected]),
    ]
    if op.arity == 1:
        guesses.append(("used_input_for_output",
                        "Your formula uses x where it needs out, the op's output "
                        f"(out = {op.formula or op.name}).",
                        [op.local_grads(p[0], p[0])[0] for p in points]))
    else:
        guesses.append(("swapped_inputs",
                        f"That is the derivative with respect to {_INPUT_NAMES[1 - i]}: "
                        "are the two derivatives swapped?",
                        [op.local_grads(*p, out)[1 - i] for p, out in zip(points, outs)]))
    return guesses


def _numeric_slope_text(op: Op, local_grads: Callable, point: tuple, i: int) -> str:
    """' (finite differences give ...)' from gradcheck on the student's op, or ''."""
    student_op = Op(f"your_{op.name}", op.forward, _as_tuple_fn(op, local_grads))
    row = gradcheck(student_op, point, raise_on_failure=False).rows[i]
    return "" if row.numeric is None else f" (finite differences give {row.numeric:.6g})"


# ------------------------------------------------------------- backward by hand


def backward_exercise_graph() -> dict[str, Value]:
    """The graph of exercise 2, L = tanh(a*b) * (a*b), as {name: node} with the root L last.

        u = a * b      du/da = b, du/db = a
        t = tanh(u)    dt/du = 1 - t**2          (the output t, not the input u)
        L = t * u      dL/dt = u, dL/du = t      (u is used twice: its gradients add up)
    """
    a, b = Value(2.0, label="a"), Value(-0.4, label="b")
    u = a * b
    u.label = "u"
    t = u.tanh()
    t.label = "t"
    L = t * u
    L.label = "L"
    return {"a": a, "b": b, "u": u, "t": t, "L": L}


def check_backward_by_hand(backward_by_hand: Callable[..., object],
                           build: Callable[[], dict[str, Value]] = backward_exercise_graph) -> None:
    """Check a student's hand-written backward pass against ``Value.backward``.

    ``build()`` makes a fresh graph as {name: node}, root last; the student's function is
    called with the nodes as keyword arguments (all grads 0) and must set every node's
    ``grad`` to dL/d(node), by hand: from the nodes' ``data`` and the chain rule, without
    ``backward()``. The first wrong gradient, in the order backward visits the nodes, is
    reported.
    """
    check = "check_backward_by_hand"
    reference = build()
    root_name = list(reference)[-1]
    reference[root_name].backward()
    nodes = build()
    _call_student(check, backward_by_hand, **nodes)
    if all(node.grad == 0.0 for node in nodes.values()):
        _explain_no_gradient(check, backward_by_hand, build, root_name)
    if _follows_stored_local_grads(check, backward_by_hand, build, nodes):
        raise CheckFailure(check, (
            f"{_name(backward_by_hand)} let the engine do the work (backward() or propagate()): "
            "its gradients follow the local derivatives stored in the graph (node.local_grads), "
            "not the nodes' .data"),
            f"The point is to do it by hand: don't call {root_name}.backward() (or propagate()). "
            f"Start with {root_name}.grad = 1.0, then work out each local derivative from the "
            "nodes' .data and apply the chain rule.", "called_backward")
    names = {node: name for name, node in reference.items()}
    order = topological_order(reference[root_name])
    unnamed = [node for node in order if node.inputs and node not in names]
    if unnamed:
        raise ValueError(f"{check}: build() must name every interior node; {unnamed[0]!r} "
                         "has no name, so a student cannot set its grad")
    for ref_node in reversed([node for node in order if node in names]):
        name = names[ref_node]
        got, expected = nodes[name].grad, ref_node.grad
        if _close(got, expected):
            continue
        code, hint = _diagnose([got], _backward_guesses(reference, ref_node, names, root_name),
                               "Apply the chain rule: dL/dx = sum over the nodes y that use x "
                               "of dL/dy * dy/dx.")
        raise CheckFailure(check, f"{name}.grad is wrong: expected {expected:.6g}, got {got:.6g}",
                           hint, code)
    print(f"PASS {check}: all {len(nodes)} gradients match backward()")


def _explain_no_gradient(check: str, backward_by_hand: Callable[..., object],
                         build: Callable[[], dict[str, Value]], root_name: str) -> NoReturn:
    """Every gradient is 0: raise "todo", or "root_not_seeded" if the function does compute
    gradients once the root's is set for it (a forgotten seed makes every product 0)."""
    seeded = build()
    seeded[root_name].grad = 1.0
    _call_student(check, backward_by_hand, **seeded)
    if any(node.grad != 0.0 for name, node in seeded.items() if name != root_name):
        raise CheckFailure(check, (
            f"every gradient is 0, {root_name}.grad included (with {root_name}.grad = 1.0 "
            f"set for you, {_name(backward_by_hand)} does compute gradients)"),
            f"Backward starts at the output: set {root_name}.grad = 1.0 first (d{root_name}/"
            f"d{root_name} = 1). Every other gradient is a product that includes "
            f"{root_name}.grad, so without that seed they all stay 0.", "root_not_seeded")
    raise CheckFailure(check, f"{_name(backward_by_hand)} set no gradient (all are still 0): "
                       "is it still a TODO?",
                       TODO_HINT + f" Start with {root_name}.grad = 1.0.", "todo")


def _follows_stored_local_grads(check: str, backward_by_hand: Callable[..., object],
                                build: Callable[[], dict[str, Value]],
                                answered: dict[str, Value]) -> bool:
    """True if the student's gradients change when every node's stored ``local_grads``
    is doubled and its ``data`` is not: ``backward()`` and ``propagate()`` read those
    numbers, a hand computation from ``.data`` does not. (A value test, not a patch of
    ``Value.backward``: it works as well when the grader runs the function in the
    student's own process.)"""
    doubled = build()
    for node in topological_order(list(doubled.values())[-1]):
        node.local_grads = tuple(2.0 * local_grad for local_grad in node.local_grads)
    _call_student(check, backward_by_hand, **doubled)
    return not all(_close(doubled[name].grad, node.grad) for name, node in answered.items())


Use = tuple[Value, int, float]  # (a node that takes the node as input i, i, the edge's local derivative)


def _uses(reference: dict[str, Value], node: Value) -> list[Use]:
    """Every use of ``node`` in the graph: each node that takes it as an input, and where."""
    return [(user, i, local_grad) for user in reference.values()
            for i, (user_input, local_grad) in enumerate(zip(user.inputs, user.local_grads))
            if user_input is node]


def _backward_guesses(reference: dict[str, Value], node: Value, names: dict[Value, str],
                      root_name: str) -> list[Guess]:
    """Wrong values for ``node.grad`` that common mistakes give, upstream grads being right.

    Each guess changes one term of the right answer, sum over uses of local_grad * user.grad:
    one use only (``=`` for ``+=``), no user.grad, a local derivative of the wrong kind,
    or a user.grad read before all of its own terms were added."""
    if node is reference[root_name]:
        return [("root_not_seeded",
                 f"Backward starts at the output: set {root_name}.grad = 1.0 (dL/dL = 1).",
                 [0.0])]
    uses = _uses(reference, node)
    guesses: list[Guess] = [("sign_error", "Same size, opposite sign: a sign error?", [-node.grad])]
    if len(uses) > 1:
        for user, _, local_grad in uses:
            guesses.append((
                "overwrote_grad",
                f"{names[node]} is used {len(uses)} times, and you kept only the gradient "
                f"through {names[user]}: accumulate with += instead of overwriting with =.",
                [local_grad * user.grad]))
    for user, _, local_grad in uses:
        if not _close(user.grad, 1.0):
            guesses.append((
                "missing_chain_factor",
                f"That is the local derivative d{names[user]}/d{names[node]} alone: multiply "
                f"it by the gradient flowing in, {names[user]}.grad (the chain rule).",
                [sum(g for _, _, g in uses) if len(uses) > 1 else local_grad]))
    for use in uses:
        guesses += [(code, hint, [node.grad + (wrong_local - use[2]) * use[0].grad])  # one term swapped
                    for code, hint, wrong_local in _wrong_local_derivatives(node, use, names)]
    return guesses + _partial_upstream_guesses(reference, node, uses, names)


def _wrong_local_derivatives(node: Value, use: Use, names: dict[Value, str]) -> list[tuple[str, str, float]]:
    """(code, hint, the local derivative it gives) for the mistakes one edge invites: the
    other input's derivative of a binary op; for a unary op, its formula in the input where
    it is written in the output, or the op applied to its own output again."""
    user, i, local_grad = use
    op = user.op
    if op is None or not op.derivatives or op.arity > 2:
        return []
    name, user_name = names[node], names[user]
    if op.arity == 2:
        if user.inputs[1 - i] is node:  # x * x: both derivatives are the same
            return []
        input_names = [names.get(x, f"{x.data:g}") for x in user.inputs]  # a constant by its value
        texts = [_named(text, input_names) for text in op.derivatives]
        return [("swapped_inputs",
                 f"{user_name} = {_named(op.formula, input_names)}, so d{user_name}/d{name} = "
                 f"{texts[i]} = {local_grad:.4g}. Your {name}.grad is what {texts[1 - i]} = "
                 f"{user.local_grads[1 - i]:.4g} gives: the derivative with respect to the other "
                 f"input, {input_names[1 - i]}.", user.local_grads[1 - i])]
    wrong: list[tuple[str, str, float]] = []
    right_text = _derivative_in_output(op, name, user_name)
    with_input_text = re.sub(rf"\b{user_name}\b", name, right_text)
    if with_input_text != right_text:  # else the two texts would read the same (sigmoid's)
        with_input = op.local_grads(node.data, node.data)[0]  # the input where the output belongs
        wrong.append((
            "used_input_for_output",
            f"{user_name} = {op.name}({name}), so d{user_name}/d{name} = "
            f"{right_text} = {local_grad:.4g}, with the OUTPUT {user_name} = {user.data:.4g}. "
            f"Your {name}.grad is what {with_input_text} = {with_input:.4g} gives, with the "
            f"input {name} = {node.data:.4g} instead: d {op.name}(x)/dx = "
            f"{op.derivatives[0]} is written in {op.name}'s output.", with_input))
    twice = op.local_grads(user.data, op.forward(user.data))[0]  # the op's derivative at its output
    wrong.append((
        "applied_twice",
        f"{user_name} = {op.name}({name}), so d{user_name}/d{name} = {right_text} = "
        f"{local_grad:.4g}. Your {name}.grad is what {_named(op.derivatives[0], [user_name])} = "
        f"{twice:.4g} gives: that applies {op.name} twice ({user_name} is {op.name}({name}) already).",
        twice))
    return [guess for guess in wrong if not _close(guess[2], local_grad)]


def _partial_upstream_guesses(reference: dict[str, Value], node: Value, uses: list[Use],
                              names: dict[Value, str]) -> list[Guess]:
    """``node.grad`` computed from a user's grad that had only some of its terms yet: the
    user is used more than once, and the chain rule ran on before its ``+=`` lines were done."""
    guesses: list[Guess] = []
    for user, _, local_grad in uses:
        user_uses = _uses(reference, user)
        if len(user_uses) < 2:
            continue
        for later, _, later_local_grad in user_uses:
            partial = later_local_grad * later.grad  # user.grad with only the term through `later`
            if _close(partial, user.grad):
                continue
            guesses.append((
                "used_unfinished_grad",
                f"Your {names[node]}.grad used {names[user]}.grad = {partial:.4g}, only its gradient "
                f"through {names[later]}; {names[user]} is used {len(user_uses)} times, so "
                f"{names[user]}.grad = {user.grad:.4g} once every term is added. Finish "
                f"{names[user]}.grad (all of its += lines) before using it for {names[node]}: "
                f"backward reaches a node only after every node that uses it.",
                [node.grad + local_grad * (partial - user.grad)]))
    return guesses


def _named(text: str, input_names: Sequence[str]) -> str:
    """An op's formula text with x (and y) replaced by the graph's names of its inputs."""
    by_symbol = dict(zip(_INPUT_NAMES, input_names))
    return re.sub(r"\b[xy]\b", lambda found: by_symbol.get(found.group(), found.group()), text)


def _derivative_in_output(op: Op, input_name: str, output_name: str) -> str:
    """The op's local derivative as text, in the names of the graph: for t = tanh(u),
    "1 - tanh(x)**2" becomes "1 - t**2" (the output's name where the formula appears)."""
    return _named(op.derivatives[0], [input_name]).replace(_named(op.formula, [input_name]), output_name)


# ---------------------------------------------------------------- neuron forward

_NEURON_CASES = (  # (weights, bias, inputs)
    ((0.5, -1.2, 0.8), 0.3, (1.0, 2.0, -0.5)),
    ((-0.7, 0.4), -0.6, (0.9, -1.5)),
    ((1.1, 0.2, -0.3, 0.6), 0.9, (-0.4, 0.3, 1.2, 0.5)),
)
_ACTIVATIONS = tuple(ACTIVATIONS)  # nn's activations, read from the op table


def check_neuron_forward(neuron_forward: Callable[..., Value], activation: str = "tanh") -> None:
    """Check ``neuron_forward(weights, bias, inputs) -> Value``: activation(w . x + b).

    ``weights`` is a list of Values, ``bias`` a Value, ``inputs`` a list of floats, and
    ``activation`` one of ``nn.ACTIVATIONS`` ("tanh", "sigmoid", "relu", "linear", ...).
    The reference applies the engine's declared ops; ``gradcheck`` then checks that gradients flow from the
    output back to every weight and the bias.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"check_neuron_forward: activation must be one of {_ACTIVATIONS}, "
                         f"got {activation!r}")
    check = f"check_neuron_forward(activation={activation!r})"
    got, expected = [], []
    for weights, bias, inputs in _NEURON_CASES:
        try:
            out = _call_student(check, neuron_forward, [Value(w, label=f"w{i}") for i, w in
                                                        enumerate(weights)],
                                Value(bias, label="b"), list(inputs))
        except IndexError as error:
            raise CheckFailure(check, (f"{_name(neuron_forward)} raised IndexError ({error}) "
                                       f"for a neuron with {len(inputs)} inputs"),
                               "Your neuron reads more inputs than it was given: sum over "
                               "zip(weights, inputs), so that any number of inputs works "
                               "(the check tries 2, 3 and 4).", "hard_coded_inputs") from None
        if out is None:
            raise CheckFailure(check, f"{_name(neuron_forward)} returned None: is it still a TODO?",
                               TODO_HINT, "todo")
        if not isinstance(out, Value):
            raise CheckFailure(check, f"expected a Value, got {type(out).__name__} {out!r}",
                               "Build the output from the weights with Value ops (w * x, +, "
                               ".tanh()) so that backward can reach the weights.", "not_a_value")
        got.append(out.data)
        expected.append(_activate(activation, _dot(weights, inputs) + bias))
    if not all(_close(g, e) for g, e in zip(got, expected)):
        k = next(k for k, (g, e) in enumerate(zip(got, expected)) if not _close(g, e))
        code, hint = _diagnose(got, _neuron_guesses(activation), "Compute "
                               f"{_activation_text(activation)}(w0*x0 + w1*x1 + ... + b).")
        weights, bias, inputs = _NEURON_CASES[k]
        raise CheckFailure(check, (f"wrong output for weights={list(weights)}, bias={bias}, "
                                   f"inputs={list(inputs)}: expected {expected[k]:.6g}, "
                                   f"got {got[k]:.6g}"), hint, code)
    for weights, bias, inputs in _NEURON_CASES:
        report = gradcheck(lambda *params, inputs=inputs: neuron_forward(list(params[:-1]), params[-1],
                                                                         list(inputs)),
                           [*weights, bias], raise_on_failure=False)
        if not report.ok:
            raise CheckFailure(check, "the output is right, but gradients do not flow back:\n"
                               + str(report),
                               "Did you use .data, float() or Value(...) on a partial result? "
                               "That cuts the graph; keep every step a Value op.", "graph_cut")
    print(f"PASS {check}: outputs match and gradients reach every weight and the bias "
          f"({len(_NEURON_CASES)} neurons)")


def _running_activation(activation: str, weights: Sequence[float], bias: float,
                        inputs: Sequence[float]) -> float:
    """The activation applied inside the loop, to the running sum: out = act(out + w_i x_i)."""
    out = bias
    for w, x in zip(weights, inputs):
        out = _activate(activation, out + w * x)
    return out


def _dot(weights: Sequence[float], inputs: Sequence[float]) -> float:
    return sum(w * x for w, x in zip(weights, inputs))


def _activate(activation: str, z: float) -> float:
    apply = ACTIVATIONS[activation]  # a Value method, applying the op declared in engine.ops
    return z if apply is None else apply(Value(z)).data


def _activation_text(activation: str) -> str:
    return "" if activation == "linear" else activation


def _neuron_guesses(activation: str) -> list[Guess]:
    cases = _NEURON_CASES
    guesses: list[Guess] = [
        ("missing_bias", "Did you forget to add the bias b?",
         [_activate(activation, _dot(w, x)) for w, b, x in cases]),
        ("bias_after_activation", "The bias goes inside the activation: "
         f"{_activation_text(activation)}(w . x + b).",
         [_activate(activation, _dot(w, x)) + b for w, b, x in cases]),
    ]
    guesses.append(("bias_added_per_input", "You added the bias once per input (inside the loop): "
                    "add b once, to the whole sum w0*x0 + w1*x1 + ...",
                    [_activate(activation, _dot(w, x) + len(x) * b) for w, b, x in cases]))
    if activation != "linear":
        guesses.append(("missing_activation", f"Did you forget the activation, .{activation}()?",
                        [_dot(w, x) + b for w, b, x in cases]))
        once = (f"Apply .{activation}() once, after the loop, to the whole sum: "
                f"{activation}(w0*x0 + w1*x1 + ... + b), not to each term.")
        guesses += [
            ("activation_per_term", once,
             [sum(_activate(activation, wi * xi) for wi, xi in zip(w, x)) + b for w, b, x in cases]),
            ("activation_per_term", once,
             [_activate(activation, sum(_activate(activation, wi * xi) for wi, xi in zip(w, x)) + b)
              for w, b, x in cases]),
            ("activation_per_term", once, [_running_activation(activation, w, b, x) for w, b, x in cases]),
        ]
    guesses += [("wrong_activation", f"That is {other}, not {activation}.",
                 [_activate(other, _dot(w, x) + b) for w, b, x in cases])
                for other in _ACTIVATIONS if other != activation]
    most_inputs = max(len(x) for _, _, x in cases)
    for used in range(2, most_inputs):  # the first `used` inputs, hard-coded (one: wrong_value)
        given = next(len(x) for _, _, x in cases if len(x) > used)
        guesses.append((
            "hard_coded_inputs",
            f"Your neuron used only the first {used} of {given} inputs: sum w_i * x_i over all "
            "of them (a loop over zip(weights, inputs)), so that any number of inputs works.",
            [_activate(activation, _dot(w[:used], x[:used]) + b) for w, b, x in cases]))
    return guesses


# ------------------------------------------------------------------- SGD step


def check_sgd_step(sgd_step: Callable[[list[Value], float], object]) -> None:
    """Check ``sgd_step(parameters, learning_rate)``: p.data -= learning_rate * p.grad.

    The step must change each parameter's ``data`` in place and leave ``grad`` alone
    (zeroing gradients is a separate step). Two learning rates are tried.
    """
    check = "check_sgd_step"
    start, grads = (0.5, -1.2, 2.0, 0.7), (0.3, -0.8, 1.5, 0.0)
    for learning_rate in (0.1, 0.5):
        parameters = [Value(d, label=f"p{i}") for i, d in enumerate(start)]
        for p, g in zip(parameters, grads):
            p.grad = g
        returned = _call_student(check, sgd_step, parameters, learning_rate)
        got = [p.data for p in parameters]
        if got == list(start) and [p.grad for p in parameters] == list(grads):
            problem = f"no parameter changed (learning_rate = {learning_rate})"
            in_place = ("Change each p.data in place (p.data -= ...); `p = Value(...)` or "
                        "returning new values leaves the model's parameters as they were.")
            if returned is None:
                raise CheckFailure(check, problem, f"{TODO_HINT} If you did, note: {in_place}",
                                   "todo")
            raise CheckFailure(check, problem, in_place, "not_in_place")
        expected = [d - learning_rate * g for d, g in zip(start, grads)]
        if not all(_close(g, e) for g, e in zip(got, expected)):
            code, hint = _diagnose(got, [
                ("plus_instead_of_minus", "The parameters moved uphill: subtract the "
                 "gradient (p.data -= ...), don't add it.",
                 [d + learning_rate * g for d, g in zip(start, grads)]),
                ("missing_learning_rate", "The step is the whole gradient: multiply it by "
                 "the learning rate.", [d - g for d, g in zip(start, grads)]),
                ("updated_grad", "Update p.data, not p.grad.", list(start)),
            ], "Each parameter should move by -learning_rate * p.grad.")
            k = next(k for k, (g, e) in enumerate(zip(got, expected)) if not _close(g, e))
            raise CheckFailure(check, (
                f"with data = {start[k]}, grad = {grads[k]} and learning_rate = {learning_rate}, "
                f"expected p.data = {expected[k]:.6g}, got {got[k]:.6g}"), hint, code)
        if [p.grad for p in parameters] != list(grads):
            raise CheckFailure(check, "sgd_step changed p.grad",
                               "Leave the gradients alone: zeroing them before the next "
                               "backward is a separate step.", "changed_grad")
    print(f"PASS {check}: every parameter moves by -learning_rate * grad")


# ------------------------------------------------------------------- accuracy


def accuracy_exercise_data() -> tuple[list[list[float]], list[int], list[list[float]], list[int]]:
    """The data of exercise 5, ``X_train, y_train, X_test, y_test``: three spiral arms
    (classes 0, 1, 2), 300 points split at random into 180 to train on and 120 held out
    to test on. Fixed seeds, so the notebook and the grader use the same points::

        X, y = make_spirals(300, n_classes=3, noise=0.05, seed=5)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, seed=6)
    """
    X, y = make_spirals(300, n_classes=3, noise=0.05, seed=5)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, seed=6)
    return X_train, y_train, X_test, y_test


def check_accuracy(model: Callable[[list[float]], object] | None, X: Sequence[Sequence[float]],
                   y: Sequence[int], target: float = 0.9, *,
                   loss: str | Callable[..., Value] | None = None) -> float:
    """Check that ``model`` classifies at least ``target`` of the points ``X`` correctly.

    Predictions follow ``nn.accuracy`` (the rule of ``nn.predictions``): several outputs
    predict the index of the largest; one output is read as a probability after a
    sigmoid (class 1 where p > 0.5), as a regression value for mse (split halfway between
    the labels), else as a score (class 1 where it is > 0). ``loss`` is the loss the model
    was trained with (default: the one ``nn.fit`` or ``compile`` noted on it). The model
    runs in eval mode (Dropout off), and its own mode is restored. Returns the accuracy.
    """
    check = f"check_accuracy(target={target:.0%})"
    if model is None:
        raise CheckFailure(check, "the model is None: is training it still a TODO?", TODO_HINT, "todo")
    if _is_history(model):
        raise CheckFailure(check, "the model is a History, what nn.fit returns",
                           "You returned fit's History; return the model (fit trains it in place): "
                           "nn.fit(model, X, y, ...), then return model.", "returned_history")
    if len(X) != len(y) or not X:
        raise ValueError(f"{check}: X and y must be the same non-zero length, "
                         f"got {len(X)} and {len(y)}")
    with evaluation_mode(model):
        _check_output(check, model(list(X[0])), len(set(y)))
        accuracy = nn_accuracy(model, X, y, loss=loss)  # the rule fit() and evaluate() use
    if accuracy >= target:
        print(f"PASS {check}: accuracy {accuracy:.1%} on {len(y)} points")
        return accuracy
    chance = 1 / len(set(y))
    if accuracy < 1 - target and len(set(y)) == 2:
        code, hint = "inverted", ("The predictions are mostly the opposite class: is your "
                                  "loss pushing the output the wrong way for each label?")
    elif accuracy < chance + 0.1 and model_loss(model, loss) is not None:
        # nn.fit or compile did the loop (zero_grad, backward, step): the settings are left
        code, hint = "no_learning", ("No better than guessing: did the loss go down (look at "
                                     "the History)? Try another learning rate, more epochs, "
                                     "or a loss that suits the labels and the last layer.")
    elif accuracy < chance + 0.1:
        code, hint = "no_learning", ("No better than guessing: did the loss go down? Check "
                                     "zero_grad before backward, the sign of the update and "
                                     "the learning rate.")
    elif _has_no_hidden_layer(model):
        code, hint = "no_hidden_layer", ("No hidden layer: a straight-line model cannot follow "
                                         "curves such as spirals; add a hidden layer (e.g. "
                                         f"nn.MLP(2, [16, 16, {len(set(y))}])).")
    else:
        code, hint = "not_enough", ("Learning, but not enough yet: train for more steps, try "
                                    "another learning rate or a larger model.")
    raise CheckFailure(check, f"accuracy {accuracy:.1%} on {len(y)} points, below the target",
                       hint, code)


def _is_history(model: object) -> bool:
    """Is ``model`` nn.fit's History, here or in the grader's student process (whose objects
    come back as proxies named after their type, "your History": see viz/sandbox.py)?"""
    return isinstance(model, History) or _name(model) == f"your {History.__name__}"


def _has_no_hidden_layer(model: object) -> bool:
    """Is ``model`` one layer of neurons, its inputs wired straight to its outputs (a Neuron,
    a Layer, nn.MLP(2, [3]), a Sequential of one Dense)? Then every boundary between its
    classes is a straight line. (A model in the grader's process cannot be looked into: False.)"""
    if isinstance(model, (Neuron, Layer)):
        return True
    if isinstance(model, MLP):
        return len(model.layers) == 1
    if isinstance(model, Sequential):
        return (all(isinstance(layer, (Dense, Input, Dropout)) for layer in model.layers)
                and sum(isinstance(layer, Dense) for layer in model.layers) == 1)
    return False


def _check_output(check: str, output: object, classes: int) -> object:
    if not (isinstance(output, Value) or (isinstance(output, list) and output
                                          and all(isinstance(o, Value) for o in output))):
        raise CheckFailure(check, f"the model returned {output!r}",
                           "A model should return a Value (one output) or a list of Values "
                           "(one per class).", "wrong_type")
    outputs = 1 if isinstance(output, Value) else len(output)
    if (outputs == 1 and classes > 2) or 1 < outputs < classes:
        raise CheckFailure(check, f"the model has {outputs} output(s) for {classes} classes",
                           f"Give the last layer one neuron per class ({classes}; e.g. "
                           f"nn.MLP(2, [16, 16, {classes}])) and train it with "
                           "loss='softmax_cross_entropy': the largest output is the predicted "
                           "class.", "wrong_output_count")
    return output


# Wrapped here, at the end, so that each checker above stays a plain function that raises.
check_local_derivative = reported(check_local_derivative)
check_backward_by_hand = reported(check_backward_by_hand)
check_neuron_forward = reported(check_neuron_forward)
check_sgd_step = reported(check_sgd_step)
check_accuracy = reported(check_accuracy)
