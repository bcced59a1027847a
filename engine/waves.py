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
   order; backward runs them in reverse, as one ``contribution = local_grad * grad_out``
   per wave and input. A wave uses its op's array form, which the op table declares
   only where it rounds exactly as the scalar form (+, -, *, /, sqrt, comparisons); exp,
   log, tanh, pow and ops without one run their scalar form per element. So every value
   is eager's, bit for bit.

**Gradients in eager's order.** Eager ``backward()`` visits the nodes in reverse
``topological_order(root)`` and, for each, adds ``local_grad * grad`` into each input's
``grad`` in argument order, starting from 0.0. Floating-point addition is not
associative, so the tape adds the very same contributions in the very same order: each
edge (node, input) of the graph has a cell in an *edge buffer*, numbered so that a node's
incoming edges sit in eager's order (``Tape.plan``). A wave writes its contributions
into their cells; a node's gradient is read, just before its wave needs it (leaves at
the end), as ``0.0 + e_1 + e_2 + ...``, one vector add per incoming edge for all nodes of
the same in-degree at once. So every gradient is eager's float, bit for bit.

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


@dataclass
class GradientPlan:
    """Where one root's backward keeps each contribution, so that every node's gradient is
    summed in eager's order (see ``Tape.plan``)."""

    n_edges: int         # cells of the edge buffer; one more cell takes what no node reads
    writes: list         # per wave: the cells its contributions go to (rows like wave.inputs)
    reads: list          # per wave, then the leaves last: (nodes, first cell, in-degree) groups


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
        self.sum_terms: dict[int, list[int]] = self._fuse_sums(uses)
        computed = np.flatnonzero(((kind == OP) & ~self.absorbed) | (kind == MAX))

        # depth = 1 + the largest depth of a node's inputs: one walk in slot order (a node's
        # inputs always come before it), the only loop over nodes in compiling
        depth = [0] * self.size
        in0_list, in1_list = in0.tolist(), in1.tolist()
        reads = {**self.sum_terms, **self.max_inputs}
        for node in computed.tolist():
            inputs = reads.get(node)
            if inputs is None:
                first, second = depth[in0_list[node]], depth[in1_list[node]] if in1_list[node] >= 0 else 0
                depth[node] = 1 + (first if first > second else second)
            else:
                depth[node] = 1 + max(map(depth.__getitem__, inputs))
        self.depth = np.array(depth, dtype=np.int64)

        # a wave: the nodes of one depth and one group (an op code; a sum or a max of n inputs)
        n_reads = np.zeros(self.size, dtype=np.int64)
        n_reads[list(reads)] = [len(inputs) for inputs in reads.values()]
        n_reads = n_reads[computed]
        group = np.where(n_reads > 0, len(self.ops) + 2 * n_reads + (kind[computed] == MAX), op_index[computed])
        by_wave = np.lexsort((computed, group, self.depth[computed]))
        nodes, wave_depth, group = computed[by_wave], self.depth[computed][by_wave], group[by_wave]
        starts = np.flatnonzero(np.diff(wave_depth, prepend=-1) | np.diff(group, prepend=-1))
        ends = np.append(starts[1:], len(nodes))
        in_order = sorted(range(len(starts)), key=lambda k: (int(wave_depth[starts[k]]), int(nodes[starts[k]])))
        self.waves = [self._wave(int(wave_depth[starts[k]]), nodes[starts[k]:ends[k]]) for k in in_order]
        self.plans: dict[int, GradientPlan] = {}  # root -> its backward's plan, made on first use

    def _fuse_sums(self, uses: np.ndarray) -> dict[int, list[int]]:
        """Find every chain of adds that fuses into one sum; its terms, by the chain's last add.

        An add is *absorbed* into the add that reads it if that add reads it as its left
        operand and nothing else reads it (so its own number is needed nowhere else). The
        terms of the chain ending at add ``s`` are the first add's two inputs, then input 1
        of every later add, in order: exactly the order the chain added them in."""
        kind, in0, in1 = self.kind, self.in0, self.in1
        add_code = self.ops.index(ADD) if ADD in self.ops else -1
        is_add = (kind == OP) & (self.op_index == add_code)
        adds = np.flatnonzero(is_add)
        left = in0[adds]
        absorbing = is_add[left] & (uses[left] == 1)  # only the left operand: keeps the order of sums
        absorbed, reader = left[absorbing], adds[absorbing]
        self.absorbed = np.zeros(self.size, dtype=bool)
        self.absorbed[absorbed] = True
        self.fused_into: dict[int, int] = dict(zip(absorbed.tolist(), reader.tolist()))
        # the chain's last add, for every absorbed add: follow the readers, doubling the stride
        last = np.arange(self.size)
        last[absorbed] = reader
        while True:
            further = last[last[absorbed]]
            if np.array_equal(further, last[absorbed]):
                break
            last[absorbed] = further
        heads = np.unique(reader[~self.absorbed[reader]])
        members = np.concatenate([absorbed, heads])  # each chain's adds, in the order they were made
        members = members[np.lexsort((members, last[members]))]
        firsts = np.flatnonzero(np.diff(last[members], prepend=-1))
        terms = np.insert(in1[members], firsts, in0[members[firsts]]).tolist()
        bounds = (firsts + np.arange(len(firsts))).tolist() + [len(terms)]
        return {head: terms[start:end] for head, start, end in
                zip(last[members[firsts]].tolist(), bounds[:-1], bounds[1:])}

    def node_inputs(self, node: int) -> list[int]:
        """The slots a node reads: a sum's terms, a max's arguments, an op's inputs."""
        if node in self.sum_terms:
            return self.sum_terms[node]
        if self.kind[node] == MAX:
            return self.max_inputs[node]
        return [int(self.in0[node])] + ([int(self.in1[node])] if self.in1[node] >= 0 else [])

    def _wave(self, depth: int, nodes: np.ndarray) -> Wave:
        first = int(nodes[0])
        if first in self.sum_terms or self.kind[first] == MAX:
            kind = "sum" if first in self.sum_terms else "max"
            inputs = np.array([self.node_inputs(node) for node in nodes.tolist()], dtype=np.int64).T.copy()
            return Wave(depth, kind, None, nodes, inputs)
        op = self.ops[self.op_index[first]]  # straight from the input columns
        inputs = np.stack([self.in0[nodes]] + ([self.in1[nodes]] if op.arity == 2 else []))
        return Wave(depth, "op", op, nodes, inputs)

    # ------------------------------------------------------- eager's order of sums

    def eager_order(self, root: int) -> list[int]:
        """The slots of ``root``'s graph in ``engine.value.topological_order(root)``'s order.

        The same iterative depth-first walk, inputs in argument order, on the input
        columns; a detached max is a leaf there (a constant Value), so it is one here."""
        in0, in1 = self.in0.tolist(), self.in1.tolist()
        state = bytearray(self.size)  # 0: not met, 1: its inputs are being walked, 2: placed
        order: list[int] = []
        stack = [root]
        pop, push, place = stack.pop, stack.append, order.append  # (the loop runs per node)
        while stack:
            node = pop()
            if state[node] == 0:  # first visit: walk the inputs (last pushed is walked first)
                first = in0[node]
                if first < 0:  # a leaf: nothing to walk, placed at once
                    state[node] = 2
                    place(node)
                    continue
                state[node] = 1
                push(node)
                second = in1[node]
                if second >= 0 and state[second] == 0:
                    push(second)
                if state[first] == 0:
                    push(first)
            elif state[node] == 1:  # second visit: all of its inputs are placed
                state[node] = 2
                place(node)
        return order

    def plan(self, root: int) -> GradientPlan:
        """Number the edge buffer's cells for ``root``'s backward (cached per root).

        An edge is (node, input index) of an op node of ``root``'s graph; eager adds the
        edges into a node in the order (node's place in reversed eager order, input index).
        A fused sum keeps the edges of the adds it absorbed: its first two terms are the
        first add's inputs 0 and 1, every later term input 1 of its own add.
        Nodes whose gradients are read together (one wave's outputs, or the leaves) with
        the same in-degree k form a group: k rows of cells, row r holding each node's
        r-th edge, so reading them is k vector adds on one contiguous block.
        """
        if root in self.plans:
            return self.plans[root]
        parent, index, child = self._edges_in_eager_order(root)
        degree = np.bincount(child, minlength=self.size)
        first_edge = np.concatenate([[0], np.cumsum(degree)[:-1]])
        rank = np.arange(len(child)) - first_edge[child]  # 0 for a node's first edge in eager order

        phase = np.full(self.size, len(self.waves), dtype=np.int64)  # the leaves are read last
        for k, wave in enumerate(self.waves):
            if wave.kind != "max":  # a detached max is a leaf of eager's graph
                phase[wave.out] = k
        read = np.flatnonzero(degree > 0)
        read = read[np.lexsort((read, degree[read], phase[read]))]
        starts = np.flatnonzero(np.diff(phase[read], prepend=-1) | np.diff(degree[read], prepend=-1))
        counts = np.diff(np.append(starts, len(read)))
        sizes = counts * degree[read[starts]]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        group = np.repeat(np.arange(len(starts)), counts)
        group_of = np.zeros(self.size, dtype=np.int64)
        column_of = np.zeros(self.size, dtype=np.int64)
        group_of[read] = group
        column_of[read] = np.arange(len(read)) - starts[group]
        n_edges = len(child)
        cell = np.full((self.size, 2), n_edges, dtype=np.int64)  # n_edges: the cell nobody reads
        cell[parent, index] = (offsets[group_of[child]] + rank * counts[group_of[child]]
                               + column_of[child])

        reads: list[list] = [[] for _ in range(len(self.waves) + 1)]
        for start, count, offset in zip(starts.tolist(), counts.tolist(), offsets.tolist()):
            nodes = read[start:start + count]
            reads[int(phase[nodes[0]])].append((nodes, offset, int(degree[nodes[0]])))
        writes = [self._write_cells(wave, cell) for wave in self.waves]
        plan = self.plans[root] = GradientPlan(n_edges, writes, reads)
        return plan

    def _edges_in_eager_order(self, root: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every edge of ``root``'s graph as three arrays (parent, input index, child),
        sorted by child and, for each child, in the order eager adds them into its grad.

        For ``L = m + a`` with ``m = a * b``, eager visits L before m, so it computes
        ``a.grad = (0.0 + 1 * L.grad) + b * m.grad``: the edges into ``a`` are (L, 1), then
        (m, 0).
        """
        position = np.full(self.size, -1, dtype=np.int64)  # -1: not in root's graph
        order = self.eager_order(root)
        position[order] = np.arange(len(order))
        op_nodes = np.flatnonzero(self.kind == OP)
        binary = op_nodes[self.in1[op_nodes] >= 0]
        parent = np.concatenate([op_nodes, binary])
        index = np.concatenate([np.zeros(len(op_nodes), dtype=np.int64), np.ones(len(binary), dtype=np.int64)])
        child = np.concatenate([self.in0[op_nodes], self.in1[binary]])
        keep = (position[parent] >= 0) & ~self.absorbed[child]  # an absorbed add has no gradient of its own
        parent, index, child = parent[keep], index[keep], child[keep]
        # by child, then the parent's place in reversed eager order (later first), then input index
        in_eager_order = np.lexsort((index, -position[parent], child))
        return parent[in_eager_order], index[in_eager_order], child[in_eager_order]

    def _write_cells(self, wave: Wave, cell: np.ndarray) -> np.ndarray | None:
        """The cells a wave's contributions go to, one row per input (or term)."""
        if wave.kind == "max":
            return None
        if wave.kind == "op":
            return cell[wave.out, :len(wave.inputs)].T.copy()
        adds = [wave.out]  # a sum: walk its chain of adds back to the first one
        for _ in range(len(wave.inputs) - 2):
            adds.append(self.in0[adds[-1]])
        adds.reverse()
        return np.stack([cell[adds[0], 0]] + [cell[add, 1] for add in adds])

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
        """d root / d node for every node, from the run's recorded local derivatives, each
        summed from its contributions in eager's order (see ``plan``)."""
        plan = self.plan(root)
        grads = np.zeros(self.size)
        grads[root] = 1.0
        edges = np.empty(plan.n_edges + 1)
        with np.errstate(all="ignore"):
            for k in range(len(self.waves) - 1, -1, -1):
                wave, cells = self.waves[k], plan.writes[k]
                if cells is None:
                    continue  # a detached max is a constant: no gradient flows through it
                _read_gradients(plan.reads[k], edges, grads)
                grad_out = grads[wave.out]
                if wave.kind == "sum":
                    edges[cells] = grad_out  # d sum / d term = 1
                    continue
                nonfinite = run.nonfinite[k]
                for row, local_grad in zip(cells, run.local_grads[k]):
                    part = local_grad * grad_out
                    if nonfinite:  # eager skips a node whose gradient is 0, so 0 * inf adds nothing
                        part = np.where(grad_out == 0.0, 0.0, part)
                    edges[row] = part
            _read_gradients(plan.reads[-1], edges, grads)
        if not (np.isfinite(grads).all() and np.isfinite(edges[:plan.n_edges]).all()):
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
            arrays += [wave.out, wave.inputs]
        for plan in self.plans.values():
            arrays += [cells for cells in plan.writes if cells is not None]
            arrays += [nodes for groups in plan.reads for nodes, _, _ in groups]
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


def _read_gradients(groups: list, edges: np.ndarray, grads: np.ndarray) -> None:
    """Each node's gradient as eager sums it: 0.0, plus its edges in order, one at a time."""
    for nodes, offset, degree in groups:
        block = edges[offset:offset + degree * len(nodes)].reshape(degree, len(nodes))
        total = block[0] + 0.0  # eager's grad starts at 0.0 (and 0.0 + -0.0 is 0.0)
        for row in block[1:]:
            total += row
        grads[nodes] = total


def _apply(op: Op, xs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, tuple]:
    """One op on whole rows of inputs: its array form where that gives the scalar form's
    floats exactly, else its scalar form element by element (eager's numbers, bit for bit)."""
    if op.array_forward is not None:  # declared only where it rounds as the scalar form (engine.ops)
        out = np.asarray(op.array_forward(*xs), dtype=float)
        assert op.array_local_grads is not None  # Op insists on both array forms, or neither
        return out, tuple(op.array_local_grads(*xs, out))
    rows = xs.tolist()
    try:
        numbers = list(map(op.forward, *rows))
        local_grads = list(map(op.local_grads, *rows, numbers))
        out_array = np.array(numbers, dtype=float)
        grads_array = np.array(local_grads, dtype=float).reshape(len(numbers), op.arity)
    except Exception:  # noqa: BLE001 - the eager engine re-raises it with its own message
        raise ReplayRefused(values) from None
    return out_array, tuple(grads_array.T)


def _checked_constants(numbers: list[float], expected: int) -> list[float]:
    if len(numbers) != expected:
        raise ValueError(f"trace: a redrawn constant gave {len(numbers)} numbers on replay, "
                         f"{expected} when it was recorded")
    return numbers
