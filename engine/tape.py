"""Trace once, replay fast: ``trace(fn)`` records fn's graph once and replays it on new numbers.

    step = trace(lambda X, y: mse([model(x) for x in X], y))
    loss = step(X, y)           # first call: records; later calls: replays in waves
    loss.backward()             # fills every parameter's .grad, as eager mode would

A recording runs ``fn`` eagerly on fresh leaf Values, then writes the graph down as a
tape (``engine.waves.Tape``): flat arrays of values, op codes, input slots and local
derivatives. A replay computes the same nodes with a few NumPy calls per depth of the
graph, without making a single Value. ``traced.listing()`` prints the tape as a program.

While ``fn`` is recorded, ``Value.data`` is *watched*: code outside the engine that reads
a Value's number (``if v.data > 0``, ``max(z.data for z in logits)``) or sets one would
make a decision the tape cannot repeat, so ``trace`` refuses it with a ``TraceError``.
Library code that needs a number says so with the helpers below, which the tape replays:
``detached_max`` (softmax's shift), ``redrawn_constants`` (a dropout mask) and ``guard``
(a train/eval switch).
"""
from __future__ import annotations

import collections
import itertools
import operator
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import waves
from .ops import Op
from .value import Value
from .waves import CONST, INPUT, MAX, OP, PARAM, REDRAWN, ReplayRefused, Tape

__all__ = ["trace", "Traced", "TracedOutput", "TraceError", "detached_max", "redrawn_constants",
           "guard", "traced_map", "TracedMap", "flatten_results", "unflatten_numbers", "numbers_of"]


class TraceError(RuntimeError):
    """``fn`` did something a tape cannot replay faithfully; run it eagerly instead."""


# ------------------------------------------------------ what a recording watches


class _Recording:
    """What happened while ``fn`` ran: the Values made, in order, and the hazards."""

    def __init__(self) -> None:
        self.born: list[Value] = []        # every Value made, in creation order
        self.hazard: str | None = None     # the first read or write of a number outside the engine
        self.detached: list[tuple[Value, list[Value]]] = []  # (a max Value, the Values it is the max of)
        self.redrawn: list[tuple[Callable[[], list[float]], list[Value]]] = []
        self.guards: list[tuple[Callable[[], object], object]] = []


_ACTIVE: list[_Recording] = []  # the recording in progress (at most one)
_DATA_SLOT = Value.__dict__["data"]  # the slot descriptor of Value.data
_ENGINE_NAMESPACES: set[int] = set()  # the globals of every engine module, by id (see _record)
_VALUE_GLOBALS = sys.modules[Value.__module__].__dict__  # engine.value: by far the most frequent caller
_get_number, _set_number, _caller = _DATA_SLOT.__get__, _DATA_SLOT.__set__, sys._getframe


class _WatchedData:
    """Stands in for the slot ``Value.data`` during a recording only (eager mode never
    pays for it): engine code passes freely, anything else is noted as a hazard.
    (It runs for every number the recording reads or sets, so the test for engine code
    looks at engine.value first.)"""

    def __init__(self, born: list[Value]) -> None:
        self.note_birth = born.append

    def __get__(self, node: Value | None, owner: type | None = None) -> Any:
        if node is None:
            return _DATA_SLOT
        namespace = _caller(1).f_globals
        if namespace is not _VALUE_GLOBALS and id(namespace) not in _ENGINE_NAMESPACES:
            _note_hazard(_caller(1), f"reads {_get_number(node)!r}, the number of a Value (.data)")
        return _get_number(node)

    def __set__(self, node: Value, number: float) -> None:
        namespace = _caller(1).f_globals
        if namespace is _VALUE_GLOBALS or id(namespace) in _ENGINE_NAMESPACES:
            self.note_birth(node)  # the engine only sets the number of a new Value
        else:
            _note_hazard(_caller(1), f"sets the number of a Value (.data = {number!r})")
        _set_number(node, number)


def _note_hazard(frame: Any, what: str) -> None:
    recording = _ACTIVE[0]
    if recording.hazard is None:
        recording.hazard = f"{what} at {frame.f_code.co_filename}:{frame.f_lineno}"


def _record(fn: Callable, structured_args: list, static_argnums: frozenset) -> tuple[object, _Recording]:
    """Run ``fn(*structured_args)`` eagerly with ``Value.data`` watched."""
    if _ACTIVE:
        raise TraceError("trace: fn calls a traced function while it is being recorded; "
                         "trace the outer function only")
    recording = _Recording()
    _ENGINE_NAMESPACES.update(id(vars(module)) for name, module in list(sys.modules.items())
                              if name.startswith("glassgrad.engine") and module is not None)
    _ACTIVE.append(recording)
    type.__setattr__(Value, "data", _WatchedData(recording.born))
    try:
        leaves_args = [arg if k in static_argnums else _make_leaves(arg)
                       for k, arg in enumerate(structured_args)]
        result = fn(*leaves_args)
    finally:
        type.__setattr__(Value, "data", _DATA_SLOT)
        _ACTIVE.clear()
    return result, recording


# ------------------------------------------- numbers that library code may use


def detached_max(xs: Sequence[Value | float]) -> Value:
    """The largest number among ``xs`` as a constant Value (no gradient flows through it).

    In eager mode this is just ``Value(max(x.data for x in xs))``. In a recording it
    becomes a node of the tape that is recomputed at every replay, so a shift such as
    softmax's ``z - max(z)`` stays exact and overflow-safe on new numbers.
    """
    shift = Value(max(x.data if isinstance(x, Value) else float(x) for x in xs))
    if _ACTIVE:
        _ACTIVE[0].detached.append((shift, [x if isinstance(x, Value) else Value(x) for x in xs]))
    return shift


def redrawn_constants(draw: Callable[[], list[float]]) -> list:
    """``draw()``, a list of numbers (say a dropout mask); in a recording, constant Values
    that every replay fills by calling ``draw()`` again, in the order eager mode would."""
    numbers = draw()
    if not _ACTIVE:
        return numbers
    constants = [Value(x) for x in numbers]
    _ACTIVE[0].redrawn.append((draw, constants))
    return constants


def guard(read: Callable[[], object]) -> None:
    """Record ``read()`` (say ``lambda: module.training``); a replay whose ``read()`` differs
    records ``fn`` anew instead. Outside a recording it does nothing."""
    if _ACTIVE:
        _ACTIVE[0].guards.append((read, read()))


# ------------------------------------------------------------------ arguments


def _flatten(arg: object, numbers: list[float]) -> object:
    """The structure of ``arg`` (nesting, lengths, whole numbers), its floats appended to ``numbers``."""
    if isinstance(arg, np.ndarray):
        arg = arg.tolist()
    if isinstance(arg, (list, tuple)):
        if all(type(x) is float for x in arg):  # the common case: a row of numbers
            numbers.extend(arg)
            return (type(arg), len(arg))
        return (type(arg), tuple(_flatten(x, numbers) for x in arg))
    if isinstance(arg, Value):
        raise TypeError(f"trace: the traced function takes numbers (or lists of numbers), got {arg!r}; "
                        "Values such as parameters are read through fn's closure")
    if isinstance(arg, (bool, int, np.integer)):
        return ("int", int(arg))  # a label or a size: part of the structure, not an input
    if isinstance(arg, (float, np.floating)):
        numbers.append(float(arg))
        return float
    raise TypeError(f"trace: arguments must be numbers or (nested) lists of numbers, "
                    f"got {type(arg).__name__} {arg!r}")


def _make_leaves(arg: object) -> object:
    """``arg`` with each float replaced by a fresh leaf Value (whole numbers stay as they are)."""
    if isinstance(arg, np.ndarray):
        arg = arg.tolist()
    if isinstance(arg, (list, tuple)):
        return type(arg)(_make_leaves(item) for item in arg)
    if isinstance(arg, (float, np.floating)):
        return Value(float(arg))
    return int(arg) if isinstance(arg, np.integer) else arg


def _frozen(arg: object) -> object:
    """A static argument as a hashable key: its exact numbers, nesting kept."""
    if isinstance(arg, np.ndarray):
        arg = arg.tolist()
    if isinstance(arg, (list, tuple)):
        return (type(arg), tuple(_frozen(x) for x in arg))
    try:
        hash(arg)
    except TypeError:
        raise TypeError(f"trace: a static argument must be numbers or lists of them, got {arg!r}") from None
    return (type(arg), arg)


# -------------------------------------------------------------- recording -> tape


def _build_tape(roots: list[Value], recording: _Recording, n_inputs: int) -> Tape:
    """Number the recording's Values and write them into a ``Tape``, with NumPy doing the
    per-node work (``map`` over the Values gathers their inputs, ops and numbers).

    The inputs come first, then every Value in the order it was made; a parameter (a
    leaf from before the call) is numbered just before the first node that reads it.
    For example, fn's inputs x0, x1 are born 0 and 1, then ``m = w * x0`` (born 2, and
    the first to read the parameter w), then ``s = m + x1`` (born 3). The slots are
    x0: 0, x1: 1, w: 2, m: 3, s: 4. In arrays: the k-th parameter, by first read, goes
    to ``param_readers[k] + k`` (its first reader's birth, plus the k parameters before
    it), and a Value born at b to ``b`` plus the number of parameters placed before it
    (``searchsorted(param_readers, b, side="right")``): here 2 + 0 = 2 for w, and
    2 + 1 = 3 for m."""
    born = recording.born
    n_born = len(born)
    birth_of = dict(zip(born, range(n_born)))  # a Value hashes by identity

    def births(values: Sequence[Value]) -> np.ndarray:  # where each was made; -1: before the call
        return np.fromiter(map(birth_of.get, values, itertools.repeat(-1)), dtype=np.int64, count=len(values))
    inputs_of = list(map(_INPUTS_OF, born))
    arity = np.fromiter(map(len, inputs_of), dtype=np.int64, count=n_born)
    # Every read of a Value: each node's inputs in order, then the Values of each detached max.
    read_values = list(itertools.chain.from_iterable(inputs_of))
    n_input_reads = len(read_values)
    readers = [np.repeat(np.arange(n_born), arity)]
    max_births = births([shift for shift, _ in recording.detached])
    for birth, (_, xs) in zip(max_births.tolist(), recording.detached):
        read_values += xs
        readers.append(np.full(len(xs), birth))
    reader = np.concatenate(readers)
    read_birth = births(read_values)

    # Reads of Values from before the call: parameters, in the order they are first read
    # (a node's inputs before the Values of its max)
    unknown = np.flatnonzero(read_birth < 0)
    unknown = unknown[np.argsort(reader[unknown], kind="stable")]
    unknown_values = [read_values[k] for k in unknown.tolist()]
    params = list(dict.fromkeys(unknown_values))
    number_of = dict(zip(params, range(len(params))))
    param_of_read = np.fromiter(map(number_of.__getitem__, unknown_values), dtype=np.int64, count=len(unknown))
    first_read = np.unique(param_of_read, return_index=True)[1]
    param_readers = reader[unknown[first_read]]
    extra = [root for root in dict.fromkeys(roots) if root not in number_of and root not in birth_of]
    for value in params + extra:
        if value.inputs:
            raise TraceError(
                f"trace: fn uses {value!r}, a result computed before the call; a tape "
                "reads only leaf Values (parameters) from outside, so compute it inside fn")
    # The k-th parameter goes just before its first reader: after k parameters and the Values
    # made before its reader. A root that is neither made nor read in the call goes last.
    param_slots = param_readers + np.arange(len(params))
    born_slots = np.arange(n_born) + np.searchsorted(param_readers, np.arange(n_born), side="right")
    size = n_born + len(params) + len(extra)
    param_slots = np.concatenate([param_slots, np.arange(size - len(extra), size)]).astype(np.int64)
    params += extra
    read_slots = born_slots[read_birth]
    read_slots[unknown] = param_slots[param_of_read]

    ops_of = list(map(_OP_OF, born))
    ops = [op for op in dict.fromkeys(ops_of) if op is not None]  # in order of first use
    code_of: dict[Op | None, int] = {op: k for k, op in enumerate(ops)}
    code_of[None] = -1
    codes = np.fromiter(map(code_of.__getitem__, ops_of), dtype=np.int32, count=n_born)
    kind = np.full(size, PARAM, dtype=np.int8)
    kind[born_slots] = np.where(codes >= 0, OP, CONST)
    kind[born_slots[:n_inputs]] = INPUT
    op_index = np.full(size, -1, dtype=np.int32)
    op_index[born_slots] = codes
    in0, in1 = np.full(size, -1, dtype=np.int64), np.full(size, -1, dtype=np.int64)
    first_input = np.cumsum(arity) - arity
    has_one, has_two = arity >= 1, arity == 2
    in0[born_slots[has_one]] = read_slots[first_input[has_one]]
    in1[born_slots[has_two]] = read_slots[first_input[has_two] + 1]

    labels = {k: f"x[{k}]" for k in range(n_inputs)}
    labels.update({slot: p.label or f"p{k}" for k, (slot, p) in enumerate(zip(param_slots.tolist(), params))})
    max_inputs = {}
    position = n_input_reads
    for birth, (_, xs) in zip(max_births.tolist(), recording.detached):
        max_inputs[int(born_slots[birth])] = read_slots[position:position + len(xs)].tolist()
        position += len(xs)
    kind[list(max_inputs)] = MAX
    redrawn = []
    for draw, constants in recording.redrawn:
        slots = born_slots[births(constants)].tolist()
        kind[slots] = REDRAWN
        redrawn.append((draw, slots))
    leaf_value = np.empty(size)
    leaf_value[born_slots] = np.fromiter(map(_DATA_SLOT.__get__, born), dtype=float, count=n_born)
    leaf_value[param_slots] = [_DATA_SLOT.__get__(p) for p in params]
    slot_of_param = dict(zip(params, param_slots.tolist()))
    root_slots = [slot_of_param[root] if root in slot_of_param else int(born_slots[birth_of[root]])
                  for root in roots]
    return Tape(kind, op_index, in0, in1, leaf_value, ops, params, born_slots[:n_inputs], max_inputs,
                redrawn, root_slots, labels)


_INPUTS_OF = operator.attrgetter("inputs")
_OP_OF = operator.attrgetter("op")


# ------------------------------------------------------------------ the results


class TracedOutput:
    """One output of a traced call: ``data`` like a Value's, and ``backward()``."""

    def __init__(self, tape: Tape, run: waves.Run, root: int) -> None:
        self.tape, self._run, self._root = tape, run, root
        self.data = float(run.values[root])
        self._input_grads = np.zeros(len(tape.input_slots))

    def __repr__(self) -> str:
        return f"TracedOutput(data={self.data!r})"

    def backward(self) -> None:
        """Add d(this)/dp into ``p.grad`` for every parameter ``p`` fn used, as eager
        ``backward()`` would: a pass from zero, added once, so twice gives exactly 2x.
        If a gradient would be inf or nan, raises eager's OverflowError and changes nothing."""
        tape = self.tape
        try:
            grads = tape.backward(self._run, self._root)
        except ReplayRefused as refused:
            tape.explain_failure(refused, root=self._root)
        for p, grad in zip(tape.params, grads[tape.param_slots].tolist()):
            p.grad = p.grad + grad
        self._input_grads += grads[tape.input_slots]

    def input_grads(self) -> list[float]:
        """d(this)/d(input) for every float passed to the call, flattened in argument order
        (summed over the ``backward()`` calls so far, as a leaf's grad is)."""
        return self._input_grads.tolist()

    def graph(self) -> Value:
        """This call as an eager Value graph (fresh leaves, same numbers): for the stepper
        and the renderer, e.g. ``viz.stepper.backprop_steps(out.graph())``."""
        return self.tape.rebuild(self._run.values)[self._root]


# ------------------------------------------------------------------- the API


@dataclass
class _Entry:
    """A cached tape with what decides whether it may be replayed."""

    tape: Tape
    guards: list[tuple[Callable[[], object], object]]
    single_output: bool  # fn returned one Value (not a list)


class Traced:
    """The callable ``trace(fn)`` returns: one tape per argument structure."""

    def __init__(self, fn: Callable, static_argnums: Sequence[int] = (), max_tapes: int = 32) -> None:
        self.fn = fn
        self.static_argnums = frozenset(static_argnums)
        self.max_tapes = max_tapes
        self.tapes: collections.OrderedDict[object, _Entry] = collections.OrderedDict()
        self.last_tape: Tape | None = None
        self.recordings = 0  # how many times fn was run eagerly to record a tape

    def __call__(self, *args: object) -> TracedOutput | list[TracedOutput]:
        numbers: list[float] = []
        key = tuple(("static", _frozen(arg)) if k in self.static_argnums else _flatten(arg, numbers)
                    for k, arg in enumerate(args))
        inputs = np.array(numbers, dtype=float)
        if not np.isfinite(inputs).all():
            bad = int(np.flatnonzero(~np.isfinite(inputs))[0])
            raise ValueError(f"trace: input {bad} is {numbers[bad]!r}, not a finite number; "
                             "a Value holds finite floats only")
        entry = self.tapes.get(key)
        if entry is not None and any(read() != value for read, value in entry.guards):
            entry = None  # Python state fn depends on has changed: record anew
        recorded_now = entry is None
        if entry is None:
            entry = self._record(key, list(args), len(numbers))
        self.tapes.move_to_end(key)
        tape = self.last_tape = entry.tape
        try:
            run = tape.forward(inputs, redraw=not recorded_now)  # the recording drew its own
        except ReplayRefused as refused:
            tape.explain_failure(refused)
        tape.last_run = run
        outputs = [TracedOutput(tape, run, root) for root in tape.roots]
        return outputs[0] if entry.single_output else outputs

    def _record(self, key: object, args: list, n_inputs: int) -> _Entry:
        result, recording = _record(self.fn, args, self.static_argnums)
        if recording.hazard is not None:
            raise TraceError(
                f"trace: while being recorded, fn {recording.hazard}. A tape replays "
                "the recorded ops on new numbers; a Python decision or constant made from a "
                "number would silently go stale, so this function cannot be traced. Keep the "
                "numbers inside Value ops (glassgrad.engine.tape.detached_max for a max shift), "
                "or call fn eagerly.")
        single = isinstance(result, Value)
        results = [result] if single else list(result) if isinstance(result, (list, tuple)) else []
        roots = [r for r in results if isinstance(r, Value)]
        if not roots or len(roots) != len(results):
            raise TypeError(f"trace: fn must return a Value or a list of Values, got {result!r}")
        entry = self.tapes[key] = _Entry(_build_tape(roots, recording, n_inputs), recording.guards,
                                          single)
        while len(self.tapes) > self.max_tapes:
            self.tapes.popitem(last=False)
        self.recordings += 1
        return entry

    def listing(self, fused: bool = True, max_nodes: int = 60) -> str:
        """The most recently used tape as a program (see ``Tape.listing``)."""
        if self.last_tape is None:
            return "tape: not recorded yet (call the traced function once)"
        return self.last_tape.listing(fused=fused, max_nodes=max_nodes)


def trace(fn: Callable, static_argnums: Sequence[int] = ()) -> Traced:
    """Compile ``fn`` into a tape on its first call; replay the tape on later calls.

    ``fn`` takes numbers, lists of numbers (nested as you like) and whole numbers, and
    returns a Value (or a list of Values) computed with engine ops. The Values it reads
    from outside (a model's parameters, through its closure) are the tape's parameters.

    ``traced = trace(fn)``, then ``out = traced(*args)``:

    * the first call with a given *structure* of arguments (the nesting and lengths of
      the number lists, and the value of every whole number in them) makes a fresh leaf
      Value per float, runs ``fn`` eagerly and records its graph as a tape. Later calls
      with the same structure replay that tape on the new floats; a new structure (a
      smaller last batch, other labels) records another tape, kept beside the first;
    * ``out.data`` is the value; ``out.backward()`` adds into ``p.grad`` of every
      parameter exactly what ``fn(*args).backward()`` adds, bit for bit (the tape sums
      each gradient's terms in eager's order), accumulating the same way. Parameters
      changed in place between calls (``p.data -= lr * p.grad``) are read at every
      replay; ``out.input_grads()`` gives d out/d input per float;
    * errors are eager's: an op outside its domain on replay raises the eager error,
      naming the op and the value (``log(-1.0): log is defined only for x > 0``), never
      a nan; a gradient that would be inf raises backward's OverflowError.

    What the tape does *not* see, and what ``trace`` does about it (like torch.jit.trace,
    a tape holds the ops of one run; unlike it, glassgrad refuses rather than warns):

    * Python control flow on numbers (``if v.data > 0``), numbers read to make
      constants, and numbers set inside ``fn``: refused with ``TraceError`` while
      recording, as ``Value.data`` is watched. Library code that must use a number
      says so: ``detached_max`` (recomputed at every replay), ``redrawn_constants``
      (drawn anew at every replay, e.g. dropout masks) and ``guard`` (records anew
      when a flag such as ``module.training`` changes);
    * whole numbers (labels, class indices) are part of the structure: new labels
      record a new tape (up to 32 tapes are kept), so they are always right; to replay
      one tape for every batch, pass labels as floats instead, as ``nn.fit`` does (a
      one-hot row for softmax cross-entropy: ``nn.losses.labels_as_inputs``). So are
      the arguments at ``static_argnums`` (jax.jit's name): passed to ``fn`` as they are,
      not as Values, e.g. regression targets for ``mse``, which takes plain numbers;
    * other Python state ``fn`` closes over (a plain float, a list's length) is baked
      into the tape as it was at the first call: pass it as an argument instead;
    * ``fn`` may not use a Value computed before the call (only leaves), and recording
      is not thread-safe.
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be callable, got {fn!r}")
    return Traced(fn, static_argnums)


# ------------------------------------------------- many rows through one tape


def flatten_results(results: Sequence[object]) -> tuple[list[Value], list[int | None]]:
    """One result per row (a Value, or a list of Values) as one flat list of Values, and
    each row's shape: None for a lone Value, n for a list of n (see ``unflatten_numbers``)."""
    flat: list[Value] = []
    shapes: list[int | None] = []
    for result in results:
        if isinstance(result, Value):
            flat.append(result)
            shapes.append(None)
        elif isinstance(result, (list, tuple)) and all(isinstance(v, Value) for v in result):
            flat.extend(result)
            shapes.append(len(result))
        else:
            raise TraceError(f"trace: fn returned {result!r}; a traced function returns Values")
    return flat, shapes


def unflatten_numbers(numbers: Sequence[float], shapes: Sequence[int | None]) -> list:
    """The inverse of ``flatten_results``, on numbers: a float or a list of floats per row."""
    rows: list = []
    position = 0
    for shape in shapes:
        if shape is None:
            rows.append(numbers[position])
            position += 1
        else:
            rows.append(list(numbers[position:position + shape]))
            position += shape
    return rows


class TracedMap:
    """``fn`` mapped over rows of numbers through one tape of ``chunk`` rows, kept for reuse.

    ``TracedMap(fn)(rows)`` is ``[fn(*row) for row in rows]`` as numbers (a float, or a
    list of floats, per row), computed by replaying one recorded tape of ``chunk`` rows
    over and over: a 200 x 200 grid of an MLP's outputs in about a second instead of a
    minute. The last, shorter chunk is padded with copies of its last row and the extra
    outputs are dropped, so one recording serves any number of rows; keep the
    ``TracedMap`` to serve later calls with no new recording at all. (Recording costs
    about two eager calls per row and a replay a few microseconds per row.)

    ``fn`` takes one Value per number of a row and returns a Value or a list of Values
    (``lambda *x: model(list(x))``). If it cannot be traced (a ``TraceError``: say it
    branches on ``.data``), every row is computed eagerly instead: the same numbers,
    only slower. An op outside its domain raises the eager error.
    """

    def __init__(self, fn: Callable[..., object], chunk: int = 32) -> None:
        self.fn, self.chunk = fn, chunk
        self.shapes: list[int | None] = []
        self.traced = trace(self._whole_chunk)
        self.eager = False      # set once fn turns out not to be traceable
        self.full_chunk = False  # a tape of a whole chunk is recorded: pad short calls to it

    def _whole_chunk(self, chunk_rows: list) -> list[Value]:
        flat, self.shapes = flatten_results([self.fn(*row) for row in chunk_rows])
        return flat

    def __call__(self, rows: Sequence[Sequence[float]]) -> list:
        points = [[float(x) for x in row] for row in rows]
        numbers: list = []
        for start in range(0, len(points), self.chunk):
            part = points[start:start + self.chunk]
            if self.eager:
                numbers += [numbers_of(self.fn(*(Value(x) for x in row))) for row in part]
                continue
            padded = part
            if len(part) < self.chunk and (self.full_chunk or len(points) > self.chunk):
                padded = part + [part[-1]] * (self.chunk - len(part))
            try:
                outputs = self.traced(padded)
            except TraceError:
                self.eager = True
                numbers += [numbers_of(self.fn(*(Value(x) for x in row))) for row in part]
                continue
            self.full_chunk = self.full_chunk or len(padded) == self.chunk
            rows_out = unflatten_numbers([o.data for o in outputs], self.shapes)  # type: ignore[union-attr]
            numbers += rows_out[:len(part)]
        return numbers


def traced_map(fn: Callable[..., object], rows: Sequence[Sequence[float]], chunk: int = 32) -> list:
    """``[fn(*row) for row in rows]`` as numbers, through one tape: ``TracedMap(fn, chunk)(rows)``."""
    return TracedMap(fn, chunk)(rows)


def numbers_of(result: object) -> object:
    """An eager result as numbers: a Value's number (a plain number as it is), or a list of them."""
    if isinstance(result, (list, tuple)):
        return [numbers_of(item) for item in result]
    return result.data if isinstance(result, Value) else result
