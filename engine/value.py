"""The Value: one number in a computation graph, and backpropagation over it.

Every arithmetic op on Values makes a new Value that remembers

* ``op``: the ``Op`` that made it (``None`` for a leaf: an input or a parameter);
* ``inputs``: the Values it was computed from;
* ``local_grads``: for each input x_i, the local derivative d(this)/d(x_i), computed
  by the op's declaration in ``engine.ops`` at forward time.

``backward()`` then applies the chain rule, dL/dx_i += dL/d(this) * d(this)/dx_i, to
every node in reverse topological order. A node holds plain references to its inputs
and floats, never a closure that points back at itself, so a graph has no reference
cycles: it is freed as soon as the last reference to its output goes, without
Python's cyclic garbage collector.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence

from . import ops
from .guards import explain_bad_gradient, to_float
from .ops import ABS, ADD, DIV, EXP, LOG, MAX, MUL, NEG, POW, RELU, SIGMOID, SOFTPLUS, SQRT, STEP, SUB, TANH, Op

_isfinite = math.isfinite


class Value:
    """One float in a computation graph, with its gradient.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + 1.0
    >>> c.backward()
    >>> a.grad, b.grad            # dc/da = b, dc/db = a
    (-3.0, 2.0)

    Attributes (read them freely; change only ``data``, ``grad`` and ``label``):
      data         the number, always a finite float
      grad         dL/d(this) after ``L.backward()``; 0.0 before
      label        a name for messages and drawings ("" if none)
      op           the ``engine.ops.Op`` that made this Value, or None for a leaf
      inputs       the Values this one was computed from, in argument order
      local_grads  d(this)/d(input) for each input, the numbers on the graph's edges
    """

    __slots__ = ("data", "grad", "label", "op", "inputs", "local_grads")

    # NumPy scalars defer to our reflected ops, so np.int64(2) * v is a Value.
    __array_ufunc__ = None

    def __init__(self, data: float, label: str = "") -> None:
        self.data = to_float(data, "Value()")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value(): label must be a str, got {type(label).__name__} {label!r}")
        self.label = label
        self.op: Op | None = None
        self.inputs: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---------------------------------------------------------- arithmetic
    # In-place forms (a += b) build a new node exactly like a = a + b: an op never
    # changes the data of a Value that is already in a graph.

    def __add__(self, other: object) -> Value:
        return _binary(ADD, self, other)

    def __radd__(self, other: object) -> Value:
        return _binary(ADD, other, self)

    def __sub__(self, other: object) -> Value:
        return _binary(SUB, self, other)

    def __rsub__(self, other: object) -> Value:
        return _binary(SUB, other, self)

    def __mul__(self, other: object) -> Value:
        return _binary(MUL, self, other)

    def __rmul__(self, other: object) -> Value:
        return _binary(MUL, other, self)

    def __truediv__(self, other: object) -> Value:
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: object) -> Value:
        return _binary(DIV, other, self)

    def __pow__(self, exponent: object) -> Value:
        """x ** n for a number n (one input), or x ** y for a Value y (two inputs)."""
        if isinstance(exponent, Value):
            return _binary(POW, self, exponent)
        return _unary(ops.power(to_float(exponent, "**")), self)

    def __rpow__(self, base: object) -> Value:
        return _binary(POW, base, self)

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = (
        __add__, __sub__, __mul__, __truediv__, __pow__)

    def max(self, other: object) -> Value:
        return _binary(MAX, self, other)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(ABS, self)

    # ---------------------------------------------------- named functions

    def exp(self) -> Value:
        return _unary(EXP, self)

    def log(self) -> Value:
        return _unary(LOG, self)

    def sqrt(self) -> Value:
        return _unary(SQRT, self)

    def tanh(self) -> Value:
        return _unary(TANH, self)

    def sigmoid(self) -> Value:
        return _unary(SIGMOID, self)

    def relu(self) -> Value:
        return _unary(RELU, self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        return _unary(ops.leaky_relu(to_float(slope, "leaky_relu slope")), self)

    def softplus(self) -> Value:
        return _unary(SOFTPLUS, self)

    def step(self) -> Value:
        return _unary(STEP, self)

    # ------------------------------------------------------------ backward

    def backward(self) -> None:
        """Fill in ``grad`` = d(self)/d(node) for every node of this Value's graph.

        The chain rule runs over the nodes in reverse topological order (found by an
        iterative walk, so a chain of a million ops works), one ``propagate()`` each;
        ``run_backward`` below spells out the steps.

        Gradients of interior nodes are recomputed from scratch on every call; the
        gradients of leaves (inputs and parameters) *accumulate*, as in PyTorch. So
        calling ``backward()`` twice gives exactly twice the leaf gradients, and a
        training loop must zero them between steps (``model.zero_grad()``, or
        ``p.grad = 0.0`` for each parameter ``p``).

        Raises OverflowError, and puts every leaf gradient back as it was, if a
        gradient would become infinite or nan (for example through sqrt at 0).
        """
        run_backward(self)

    def propagate(self) -> tuple[float, ...]:
        """One chain-rule step: pass this node's gradient on to its inputs.

        For each input x_i:  x_i.grad += local_grads[i] * self.grad,
        that is  dL/dx_i += d(self)/dx_i * dL/d(self).

        Returns what it added to each input, in input order (the stepper records it).
        A zero gradient adds nothing, so each contribution is 0.0 then: 0 * inf must
        not make a nan.
        """
        grad = self.grad
        if not grad:
            return (0.0,) * len(self.inputs)
        contributions = []
        for node, local_grad in zip(self.inputs, self.local_grads):
            contribution = local_grad * grad
            node.grad += contribution
            contributions.append(contribution)
        return tuple(contributions)


def topological_order(root: Value) -> list[Value]:
    """Every node of ``root``'s graph, each after all of its inputs (``root`` last).

    An iterative depth-first walk that visits inputs in argument order: the same
    program always gives the same order, and depth is limited only by memory.
    Raises ValueError if the graph has a cycle (only possible by editing ``inputs``).
    """
    order: list[Value] = []
    done: dict[Value, bool] = {}  # False while a node's inputs are being walked
    stack = [root]
    while stack:
        node = stack.pop()
        state = done.get(node)
        if state is None:  # first visit: walk the inputs, then meet this node again
            done[node] = False
            stack.append(node)
            for node_input in reversed(node.inputs):
                input_state = done.get(node_input)
                if input_state is None:
                    stack.append(node_input)
                elif input_state is False:  # an input still being walked: a loop
                    raise ValueError(
                        f"the graph has a cycle through {node_input!r}: a Value depends on itself"
                    )
        elif state is False:  # second visit: all of its inputs are placed
            done[node] = True
            order.append(node)
    return order


def run_backward(root: Value, step: Callable[[Value], object] | None = None,
                 order: Sequence[Value] | None = None) -> None:
    """The backward pass of ``root.backward()``, with a hook for each chain-rule step.

    1. ``topological_order(root)``, or ``order`` if the caller has it already (the
       drawings walk the graph once and pass it here);
    2. each leaf's gradient is set aside and starts at 0; ``seed_gradients`` sets
       interior gradients to 0 and the root's to 1;
    3. for each node in reverse order, one chain-rule step: ``node.propagate()``, or
       ``step(node)`` if given (the stepper records each step this way);
    4. each leaf adds the gradient of this pass to the one it had set aside.

    Summing a pass from zero and adding it once is what makes two calls give exactly
    twice the leaf gradients (adding each contribution straight into the old gradient
    would round differently). If a gradient becomes inf or nan, or ``step`` raises,
    every leaf gets its old gradient back and the error is raised.
    """
    if order is None:
        order = topological_order(root)
    elif not order or order[-1] is not root:
        raise ValueError("run_backward: order must be topological_order(root), which ends at root")
    leaves = [node for node in order if not node.inputs]
    leaf_grads_before = [leaf.grad for leaf in leaves]
    try:
        for leaf in leaves:
            leaf.grad = 0.0
        seed_gradients(order)
        for node in reversed(order):
            node.propagate() if step is None else step(node)
        # An inf or nan gradient anywhere is passed on to every input, so it reaches a leaf.
        if not all(_isfinite(leaf.grad) for leaf in leaves):
            raise OverflowError(explain_bad_gradient(order))
    except BaseException:
        for leaf, grad in zip(leaves, leaf_grads_before):
            leaf.grad = grad
        raise
    for leaf, grad in zip(leaves, leaf_grads_before):
        leaf.grad = grad + leaf.grad


def seed_gradients(order: Sequence[Value]) -> None:
    """Start a backward pass over ``order`` (a topological order ending at the root).

    Interior gradients restart at 0, leaves keep theirs (they accumulate), and the
    root gets dL/dL = 1 (added, if the root is itself a leaf).
    """
    for node in order:
        if node.inputs:
            node.grad = 0.0
    root = order[-1]
    root.grad = 1.0 if root.inputs else root.grad + 1.0


@contextlib.contextmanager
def kept_gradients(nodes: Iterable[Value], *, zero: bool = False) -> Iterator[list[Value]]:
    """Keep the ``grad`` of each of ``nodes``, and put it back when the ``with`` block ends.

        with kept_gradients(topological_order(L), zero=True):
            L.backward()          # look at this pass's gradients alone ...
        # ... and every gradient is as it was before, even if the block raised

    ``zero=True`` also starts each gradient at 0.0 inside the block. The drawings use
    this so that drawing a graph never changes a model.
    """
    kept = list(nodes)
    for node in kept:
        if not isinstance(node, Value):
            raise TypeError(f"kept_gradients: nodes must be Values, got {type(node).__name__} {node!r}")
    grads = [node.grad for node in kept]
    try:
        if zero:
            for node in kept:
                node.grad = 0.0
        yield kept
    finally:
        for node, grad in zip(kept, grads):
            node.grad = grad


# ---------------------------------------------------------------- helpers


def apply(op: Op, *inputs: object) -> Value:
    """Apply ``op`` to Values or numbers: the checked path that custom ops take."""
    if len(inputs) != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} input(s), got {len(inputs)}")
    values = [_as_value(x, op.name) for x in inputs]
    xs = [v.data for v in values]
    out = _forward(op, xs)
    try:
        local_grads = tuple(float(g) for g in op.local_grads(*xs, out))
    except (TypeError, ValueError, OverflowError) as error:
        raise type(error)(f"{op.call_text(*xs)}: its local_grads failed: {error}") from None
    if len(local_grads) != op.arity:
        raise TypeError(
            f"{op.name}: local_grads returned {len(local_grads)} derivative(s) "
            f"for {op.arity} input(s)"
        )
    return _node(out, op, tuple(values), local_grads)


def _forward(op: Op, xs: list[float]) -> float:
    try:
        out = float(op.forward(*xs))
    except OverflowError:
        raise OverflowError(f"{op.call_text(*xs)}: the result is too large for a float") from None
    except TypeError as error:  # e.g. a custom forward that returned a complex number
        raise TypeError(f"{op.call_text(*xs)}: forward must return a real number: {error}") from None
    if math.isinf(out):
        raise OverflowError(f"{op.call_text(*xs)}: the result is too large for a float ({out!r})")
    if math.isnan(out):
        raise ValueError(f"{op.call_text(*xs)}: the result is undefined (nan)")
    return out


def _unary(op: Op, a: Value) -> Value:
    x = a.data
    try:
        out = op.forward(x)
    except OverflowError:
        out = math.inf
    if not _isfinite(out):
        _forward(op, [x])  # raises the error that names the op and its input
    return _node(out, op, (a,), op.local_grads(x, out))


def _binary(op: Op, a: object, b: object) -> Value:
    if type(a) is not Value:
        a = _as_value(a, repr(op.symbol))
    if type(b) is not Value:
        b = _as_value(b, repr(op.symbol))
    x, y = a.data, b.data
    try:
        out = op.forward(x, y)
    except OverflowError:
        out = math.inf
    if not _isfinite(out):
        _forward(op, [x, y])
    return _node(out, op, (a, b), op.local_grads(x, y, out))


_new_object = object.__new__


def _node(data: float, op: Op, inputs: tuple, local_grads: tuple) -> Value:
    """A new interior node (no type checks: ``data`` is already a finite float)."""
    node = _new_object(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = op
    node.inputs = inputs
    node.local_grads = local_grads
    return node


def _as_value(x: object, where: str) -> Value:
    """``x`` itself if it is a Value, else a new leaf holding the number ``x``."""
    return x if isinstance(x, Value) else Value(to_float(x, where))


def _formula_text(op: Op | ops.OpFamily) -> str:
    """One line of a method's docstring: the op's formula and its local derivative(s)."""
    derivative = "local derivative" + ("s" if op.arity == 2 else "")
    constant = ""
    if isinstance(op, ops.OpFamily):
        default = "" if op.default is None else f", default {op.default!r}"
        constant = f" for a number {op.parameter}{default}"
    return f"{op.formula}{constant}  ({derivative}: {', '.join(op.derivatives)})"


def _document_methods() -> None:
    """Give each Value method the formulas of the op(s) it applies, from engine.ops."""
    lines: dict[str, list[str]] = {}
    for op in ops.BUILTINS:
        for method_name in op.methods:
            lines.setdefault(method_name, []).append(_formula_text(op))
    for method_name, texts in lines.items():
        getattr(Value, method_name).__doc__ = "\n".join(texts) + "\nDeclared in glassgrad.engine.ops."


_document_methods()
