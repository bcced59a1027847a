"""The compiled tape: a recorded graph as flat arrays, replayed in waves.

A tape numbers every node of one recording ``%0, %1, ...`` in the order eager mode
made them and keeps, as NumPy arrays, what each node is (``kind``), its op code and its
input slots. ``compile`` then does two passes:

1. **fused sums**: ``add(add(add(b, t0), t1), t2)``, where each inner add is used only
   by the next, becomes one node ``sum(b, t0, t1, t2)``. It adds its terms left to
   right, exactly as the chain did, and passes its gradient to every term unchanged
   (d sum / d t_i = 1), so nothing is rounded differently. A neuron's sum of 64
   products is one node instead of 64, and the graph is shallow instead of deep.
2. **waves**: a node's depth is 1 + the largest depth of its inputs (leaves are 0).
   All nodes of one depth and one op form a *wave*: one NumPy call computes all of
   them, because none needs another's output. The forward pass runs the waves in
   order; backward runs them in reverse, as one ``grad_in += local_grad * grad_out``
   per wave. Inputs that repeat within a wave (one x read by 128 neurons) are summed
   with ``np.bincount`` over precomputed positions, not with the slow ``np.add.at``.

Everything that can go wrong in a replay falls back to the eager engine: the tape
rebuilds the Value graph of this call (``rebuild``) and lets it raise its own error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .ops import ADD, Op
from .value import Value, run_backward

# What a node is (the ``kind`` array).
INPUT, PARAM, CONST, OP, MAX, REDRAWN = range(6)
KIND_NAMES = ("input", "param", "const", "op", "max", "redrawn")


@dataclass
class Wave:
    """Nodes of one depth that one NumPy call computes: ``out = f(*values[inputs])``."""

    depth: int
    kind: str            # "op", "sum" (a fused chain of adds) or "max" (a detached max)
    op: Op | None        # the op of an "op" wave
    out: np.ndarray      # (m,) slots written
    inputs: np.ndarray   # (arity, m) slots read: row r is input r of every node
    unique: np.ndarray   # the distinct slots of inputs.ravel() ...
    where: np.ndarray | None  # ... and where each entry goes (None: no slot repeats)


class ReplayRefused(Exception):
    """A replay met something (nan, inf, an error) only the eager engine can explain.
    ``values`` holds the leaves of that replay, so the eager engine can redo it."""

    def __init__(self, values: np.ndarray) -> None:
        super().__init__("replay refused")
        self.values = values


@dataclass
class Run:
    """One forward replay: every node's value and every wave's local derivatives."""

    values: np.ndarray
    local_grads: list       # per wave: a tuple of arrays (or numbers) per input, or None
    nonfinite: list         # per wave: does a local derivative there hold inf or nan?
    grads: np.ndarray | None = None  # the last backward pass (for ``listing``)


class Tape:
    """One recording of ``fn``, compiled; see the module docstring."""

    def __init__(self, kind: np.ndarray, op_index: np.ndarray, in0: np.ndarray, in1: np.ndarray,
                 leaf_value: np.ndarray, ops: list[Op], params: list[Value], input_slots: np.ndarray,
                 max_inputs: dict[int, list[int]], redrawn: list[tuple[Callable, list[int]]],
                 roots: list[int], labels: dict[int, str]) -> None:
        self.kind, self.op_index, self.in0, self.in1 = kind, op_index, in0, in1
        self.leaf_value = leaf_value      # a constant's number (the recorded one for other leaves)
        self.ops, self.params, self.input_slots = ops, params, input_slots
        self.param_slots = np.flatnonzero(kind == PARAM)
        self.const_slots = np.flatnonzero(kind == CONST)
        self.max_inputs = max_inputs      # slot of a detached max -> the slots it is the max of
        self.redrawn = redrawn            # (draw, slots): constants drawn anew at every replay
        self.roots, self.labels = roots, labels
        self.size = len(kind)
        self.last_run: Run | None = None
        self.compile()

    # ------------------------------------------------------------------ compiling

    def compile(self) -> None:
        """Fuse chains of ``+`` into sums, then group the nodes into waves."""
        kind, op_index, in0, in1 = self.kind, self.op_index, self.in0, self.in1
        uses = np.bincount(np.concatenate([in0[in0 >= 0], in1[in1 >= 0], self.roots,
                                           *map(np.asarray, self.max_inputs.values())]),
                           minlength=self.size)
        add_code = self.ops.index(ADD) if ADD in self.ops else -1
        is_add = (kind == OP) & (op_index == add_code)
        self.sum_terms: dict[int, list[int]] = {}
        self.fused_into: dict[int, int] = {}  # an add absorbed into the add that reads it
        for node in np.flatnonzero(is_add).tolist():
            left = int(in0[node])
            if is_add[left] and uses[left] == 1:  # only the left operand: keeps the order of sums
                self.sum_terms[node] = self.sum_terms.pop(left, [int(in0[left]), int(in1[left])]) \
                    + [int(in1[node])]
                self.fused_into[left] = node

        depth = [0] * self.size
        groups: dict[tuple, list[int]] = {}
        for node in np.flatnonzero((kind == OP) | (kind == MAX)).tolist():
            if node in self.fused_into:
                continue
            inputs = self.node_inputs(node)
            depth[node] = 1 + max(depth[i] for i in inputs)
            if node in self.sum_terms:
                key = (int(depth[node]), "sum", len(inputs))
            elif kind[node] == MAX:
                key = (int(depth[node]), "max", len(inputs))
            else:
                key = (int(depth[node]), "op", int(op_index[node]))
            groups.setdefault(key, []).append(node)
        self.depth = np.array(depth, dtype=np.int64)
        self.waves = [self._wave(key, nodes) for key, nodes in
                      sorted(groups.items(), key=lambda item: (item[0][0], item[1][0]))]

    def node_inputs(self, node: int) -> list[int]:
        """The slots a node reads: a sum's terms, a max's arguments, an op's inputs."""
        if node in self.sum_terms:
            return self.sum_terms[node]
        if self.kind[node] == MAX:
            return self.max_inputs[node]
        return [int(self.in0[node])] + ([int(self.in1[node])] if self.in1[node] >= 0 else [])

    def _wave(self, key: tuple, nodes: list[int]) -> Wave:
        depth, kind, which = key
        if kind == "op":  # straight from the input columns
            slots = np.array(nodes, dtype=np.int64)
            rows = [self.in0[slots]] + ([self.in1[slots]] if self.ops[which].arity == 2 else [])
            inputs = np.stack(rows)
        else:
            inputs = np.array([self.node_inputs(node) for node in nodes], dtype=np.int64).T.copy()
        flat = inputs.ravel()
        unique, where = np.unique(flat, return_inverse=True)
        return Wave(depth, kind, self.ops[which] if kind == "op" else None,
                    np.array(nodes, dtype=np.int64), inputs, unique,
                    None if len(unique) == len(flat) else where.ravel())

    # -------------------------------------------------------------------- replay

    def forward(self, inputs: np.ndarray, redraw: bool = True) -> Run:
        """Every node's value for new ``inputs``, wave by wave; parameters are read now.
        ``redraw=False`` keeps the recorded random constants (for the recording call itself)."""
        values = self.leaf_value.copy()
        values[self.input_slots] = inputs
        values[self.param_slots] = [p.data for p in self.params]
        for draw, slots in self.redrawn if redraw else ():
            values[slots] = _checked_constants(draw(), len(slots))
        run = Run(values, [], [])
        with np.errstate(all="ignore"):
            for wave in self.waves:
                xs = values[wave.inputs]
                local_grads, nonfinite = None, False
                if wave.kind == "sum":
                    out = xs[0] + xs[1]
                    for term in xs[2:]:
                        out += term  # left to right, as the chain of adds did
                elif wave.kind == "max":
                    out = xs.max(axis=0)
                else:
                    assert wave.op is not None  # an "op" wave has its op
                    out, local_grads = _apply(wave.op, xs, values)
                    nonfinite = not all(np.isfinite(g).all() for g in local_grads)
                if not np.isfinite(out).all():
                    raise ReplayRefused(values)  # the eager engine names the op and the value
                values[wave.out] = out
                run.local_grads.append(local_grads)
                run.nonfinite.append(nonfinite)
        return run

    def backward(self, run: Run, root: int) -> np.ndarray:
        """d root / d node for every node, from the run's recorded local derivatives."""
        grads = np.zeros(self.size)
        grads[root] = 1.0
        with np.errstate(all="ignore"):
            for wave, local_grads, nonfinite in zip(reversed(self.waves), reversed(run.local_grads),
                                                    reversed(run.nonfinite)):
                if wave.kind == "max":
                    continue  # a detached max is a constant: no gradient flows through it
                grad_out = grads[wave.out]
                if wave.kind == "sum":
                    flowing = np.tile(grad_out, len(wave.inputs))  # d sum / d term = 1
                else:
                    parts = [local_grad * grad_out for local_grad in local_grads]
                    if nonfinite:  # eager skips a node whose gradient is 0, so 0 * inf adds nothing
                        parts = [np.where(grad_out == 0.0, 0.0, part) for part in parts]
                    flowing = np.concatenate([np.broadcast_to(p, grad_out.shape) for p in parts])
                if wave.where is None:  # no slot repeats: a plain fancy-index add is exact
                    grads[wave.inputs.ravel()] += flowing
                else:
                    grads[wave.unique] += np.bincount(wave.where, weights=flowing,
                                                      minlength=len(wave.unique))
        if not np.isfinite(grads).all():
            raise ReplayRefused(run.values)
        run.grads = grads
        return grads

    # ------------------------------------------------ back to Values (errors, stepper)

    def rebuild(self, values: np.ndarray) -> list[Value]:
        """The same program as eager Values, node by node in the recorded order.

        The leaves are fresh Values holding ``values`` at their slots (the numbers of one
        replay; parameters are copied, so nothing outside changes). Each op is applied by
        the engine itself, so an input outside an op's domain raises the eager error at
        the node eager mode would have stopped at.
        """
        nodes: list[Value] = [None] * self.size  # type: ignore[list-item]
        for slot in np.flatnonzero(self.kind < OP).tolist() + np.flatnonzero(self.kind == REDRAWN).tolist():
            nodes[slot] = Value(float(values[slot]), label=self.labels.get(slot, ""))
        for node in range(self.size):
            if self.kind[node] == OP:
                args = [nodes[int(self.in0[node])]]
                if self.in1[node] >= 0:
                    args.append(nodes[int(self.in1[node])])
                nodes[node] = self.ops[self.op_index[node]](*args)
            elif self.kind[node] == MAX:
                nodes[node] = Value(max(nodes[i].data for i in self.max_inputs[node]))
        return nodes

    def explain_failure(self, refused: ReplayRefused, root: int | None = None) -> None:
        """Raise the error eager mode raises for a refused replay (its forward, or the
        backward of ``root``)."""
        nodes = self.rebuild(refused.values)
        if root is not None:
            run_backward(nodes[root])
        raise OverflowError("replay: a value or gradient became inf or nan where eager mode "
                            "found none; please report this program")

    # ----------------------------------------------------------------- the glass box

    def nbytes(self) -> int:
        """Bytes held in NumPy arrays: the node table, the waves and the last run."""
        arrays = [self.kind, self.op_index, self.in0, self.in1, self.leaf_value, self.depth,
                  self.input_slots, self.param_slots, self.const_slots]
        for wave in self.waves:
            arrays += [wave.out, wave.inputs, wave.unique] + ([wave.where] if wave.where is not None else [])
        if self.last_run is not None:
            arrays.append(self.last_run.values)
            arrays += [np.asarray(g) for grads in self.last_run.local_grads if grads for g in grads]
        return sum(a.nbytes for a in arrays)

    def listing(self, fused: bool = True, max_nodes: int = 60) -> str:
        """The tape as a program, one line per node (a summary if it is big)."""
        run = self.last_run
        kinds = np.bincount(self.kind, minlength=6)
        absorbed = len(self.fused_into)
        header = (f"tape: {_count(self.size, 'node')} ({_count(kinds[INPUT], 'input')}, "
                  f"{_count(kinds[PARAM], 'parameter')}, {_count(kinds[CONST] + kinds[REDRAWN], 'constant')}, "
                  f"{_count(kinds[OP], 'op')}), {_count(len(self.waves), 'wave')}, "
                  f"{_count(len(self.sum_terms), 'fused sum')} (absorbing {_count(absorbed, 'add')}), "
                  f"{self.nbytes():,} bytes")
        if self.size > max_nodes:
            lines = [header, "waves (depth: op x nodes):"]
            lines += [f"  {wave.depth:>4}: {_wave_name(wave)} x {len(wave.out)}" for wave in self.waves]
            return "\n".join(lines)
        wave_of = {int(node): k for k, wave in enumerate(self.waves) for node in wave.out}
        rows = []
        for node in range(self.size):
            if fused and node in self.fused_into:
                continue
            computed = run is not None and node not in self.fused_into  # a fused add has no value of its own
            rows.append((f"%{node} = {self._describe(node, fused)}",
                         _short(run.values[node]) if run is not None and computed else "",
                         _short(run.grads[node]) if run is not None and computed and run.grads is not None
                         else "",
                         f"wave {wave_of[node]}" if node in wave_of else
                         "fused" if node in self.fused_into else ""))
        width = max(len(row[0]) for row in rows)
        lines = [header, f"{'':{width}}  {'data':>12}  {'grad':>12}"]
        lines += [f"{a:{width}}  {b:>12}  {c:>12}  {d}".rstrip() for a, b, c, d in rows]
        return "\n".join(lines)

    def _describe(self, node: int, fused: bool) -> str:
        kind = self.kind[node]
        label = self.labels.get(node, "")
        if kind in (INPUT, PARAM):
            return f"{KIND_NAMES[kind]} {label}".rstrip()
        if kind == CONST:
            return f"const {float(self.leaf_value[node])!r}"
        if kind == REDRAWN:
            return "const, drawn anew at every call"
        if kind == MAX:
            return "max (no gradient) " + " ".join(f"%{i}" for i in self.max_inputs[node])
        if fused and node in self.sum_terms:
            return "sum " + " ".join(f"%{i}" for i in self.sum_terms[node])
        op = self.ops[self.op_index[node]]
        return f"{op.symbol if op.params else op.name} " + " ".join(
            f"%{i}" for i in (self.in0[node], self.in1[node]) if i >= 0)


def _wave_name(wave: Wave) -> str:
    if wave.kind == "op" and wave.op is not None:
        return wave.op.symbol if wave.op.params else wave.op.name
    return f"{wave.kind} of {len(wave.inputs)}"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _short(x: float) -> str:
    return f"{x:.6g}"


def _apply(op: Op, xs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, tuple]:
    """One op on whole rows of inputs: its array form, or its scalar form element by element."""
    if op.array_forward is not None:
        out = np.asarray(op.array_forward(*xs), dtype=float)
        assert op.array_local_grads is not None  # Op insists on both array forms, or neither
        return out, tuple(op.array_local_grads(*xs, out))
    out = np.empty(xs.shape[1])
    local_grads = np.empty(xs.shape)
    for j, column in enumerate(xs.T.tolist()):
        try:
            out[j] = op.forward(*column)
            local_grads[:, j] = op.local_grads(*column, out[j])
        except Exception:  # noqa: BLE001 - the eager engine re-raises it with its own message
            raise ReplayRefused(values) from None
    return out, tuple(local_grads)


def _checked_constants(numbers: list[float], expected: int) -> list[float]:
    if len(numbers) != expected:
        raise ValueError(f"trace: a redrawn constant gave {len(numbers)} numbers on replay, "
                         f"{expected} when it was recorded")
    return numbers
