"""The benchmark workloads, written once for any scalar library (see ``scalars.py``).

1. ``train``: one training step of micrograd's classic demo: an MLP(2, [16, 16, 1])
   (ReLU hidden layers, linear output) on 2-D "moons" points with the hinge loss
       L = mean_i relu(1 - y_i * score_i) + alpha * sum_p p**2,
   then backward and an SGD update, repeated as in a real training loop.
2. ``chain``: build x -> relu -> *c -> relu -> *c ... with ``n_nodes`` nodes, then
   backward: a graph as deep as it is large.
3. ``memory``: bytes held per graph node after building the demo's training graph
   and running backward on it.

``python -m tests.benchmarks.workloads '<task as JSON>'`` (from the repo root) runs one
task in a fresh process and prints its result as JSON; ``bench.py`` runs every
measurement that way, so that no library's imports or garbage slow another's.
"""
from __future__ import annotations

import gc
import json
import math
import os
import random
import sys
import time
import tracemalloc
from typing import Any, Callable, Sequence

from .scalars import Scalars, load

LAYER_SIZES = (2, 16, 16, 1)
WEIGHT_DECAY = 1e-4  # the alpha of the loss above
LEARNING_RATE = 0.05

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}  # seconds, as floats

Clock = Callable[[], float]
Point = tuple[float, float]
LayerWeights = list[tuple[list[float], float]]  # one (weights, bias) per neuron


# ------------------------------------------------------------------- data and model


def make_moons(n_points: int, noise: float = 0.1, seed: int = 0) -> tuple[list[Point], list[float]]:
    """Two interleaved half circles with Gaussian noise; labels -1 (upper) and +1 (lower).

    Upper moon: (cos t, sin t); lower moon: (1 - cos t, 1/2 - sin t), for t in [0, pi].
    """
    rng = random.Random(seed)
    points: list[Point] = []
    labels: list[float] = []
    for label, n_moon in ((-1.0, n_points // 2), (1.0, n_points - n_points // 2)):
        for i in range(n_moon):
            t = math.pi * i / max(n_moon - 1, 1)
            x, y = (math.cos(t), math.sin(t)) if label < 0 else (1 - math.cos(t), 0.5 - math.sin(t))
            points.append((x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)))
            labels.append(label)
    return points, labels


def random_mlp_weights(sizes: Sequence[int] = LAYER_SIZES, seed: int = 1) -> list[LayerWeights]:
    """Weights uniform in [-1, 1] and biases 0, as plain floats (micrograd's init)."""
    rng = random.Random(seed)
    return [[([rng.uniform(-1.0, 1.0) for _ in range(n_in)], 0.0) for _ in range(n_out)]
            for n_in, n_out in zip(sizes, sizes[1:])]


class Mlp:
    """A multilayer perceptron over one library's scalars, written as plain loops.

    Neuron j of a layer computes b_j + w_j1 * a_1 + w_j2 * a_2 + ... in that order
    (micrograd's Neuron does the same), then relu unless it is in the last layer.
    """

    def __init__(self, scalars: Scalars, weights: list[LayerWeights]) -> None:
        self.scalars = scalars
        self.layers = [[([scalars.parameter(w) for w in neuron_weights], scalars.parameter(bias))
                        for neuron_weights, bias in layer] for layer in weights]

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for weights, bias in layer for p in (*weights, bias)]

    def __call__(self, inputs: list[Any]) -> Any:
        activations = inputs
        for depth, layer in enumerate(self.layers):
            is_output_layer = depth == len(self.layers) - 1
            outputs = []
            for weights, bias in layer:
                total = bias
                for weight, activation in zip(weights, activations):
                    total = total + weight * activation
                outputs.append(total if is_output_layer else self.scalars.relu(total))
            activations = outputs
        return activations[0]


def hinge_loss(model: Mlp, points: list[Point], labels: list[float]) -> Any:
    """mean_i relu(1 - y_i * score_i) + WEIGHT_DECAY * sum_p p**2, as one scalar graph."""
    scalars = model.scalars
    scores = [model([scalars.constant(x) for x in point]) for point in points]
    margins = [scalars.relu(1.0 + -label * score) for label, score in zip(labels, scores)]
    data_loss = sum(margins) * (1.0 / len(margins))
    return data_loss + WEIGHT_DECAY * sum(p * p for p in model.parameters())


def training_step(model: Mlp, points: list[Point], labels: list[float],
                  learning_rate: float = LEARNING_RATE) -> float:
    """Forward, backward and one SGD update (which also zeroes the gradients); the loss."""
    loss = hinge_loss(model, points, labels)
    model.scalars.backward(loss)
    model.scalars.sgd_update(model.parameters(), learning_rate)
    return model.scalars.to_float(loss)


# ------------------------------------------------------------------------ workloads


def time_training_steps(scalars: Scalars, n_points: int, steps: int, warmup: int,
                        collect_garbage: bool = True, clock: Clock = time.perf_counter) -> list[float]:
    """Seconds per training step for ``steps`` consecutive steps after ``warmup`` ones.

    With ``collect_garbage=False`` the cyclic garbage collector is off while a step
    runs, and ``gc.collect()`` runs, untimed, between steps (to show what the
    collector costs a library whose graphs are full of reference cycles).
    """
    points, labels = make_moons(n_points)
    model = Mlp(scalars, random_mlp_weights())
    seconds = []
    was_enabled = gc.isenabled()
    try:
        for step in range(warmup + steps):
            if not collect_garbage:
                gc.disable()
            start = clock()
            training_step(model, points, labels)
            elapsed = clock() - start
            if not collect_garbage:
                gc.enable()
                gc.collect()
            if step >= warmup:
                seconds.append(elapsed)
    finally:
        if was_enabled:
            gc.enable()
    return seconds


def build_chain(scalars: Scalars, n_nodes: int) -> tuple[Any, Any, Any]:
    """x -> relu -> *c -> relu -> *c ...: exactly ``n_nodes`` nodes, counting the two
    leaves x = 0.5 and c = 1.0. Returns (end of the chain, x, c).

    Every node holds 0.5 and passes a gradient of exactly 1 back, so the result is
    known: d end/dx = 1 and d end/dc = 0.5 * (number of *c nodes), as c is one
    shared leaf. (micrograd 0.1.0 has no tanh, so relu is the one unary op.)
    """
    if n_nodes < 3:
        raise ValueError(f"a chain needs at least 3 nodes (2 leaves and an op), got {n_nodes}")
    start, factor = scalars.parameter(0.5), scalars.parameter(1.0)
    node = start
    for made in range(2, n_nodes):
        node = scalars.relu(node) if made % 2 == 0 else node * factor
    return node, start, factor


def time_chain(scalars: Scalars, n_nodes: int, clock: Clock = time.perf_counter) -> dict:
    """Build and backward a chain of ``n_nodes``; seconds for each, or the error raised."""
    start = clock()
    end, first, factor = build_chain(scalars, n_nodes)
    built = clock()
    try:
        scalars.backward(end)
    except RecursionError:
        del end
        return {"build_seconds": built - start, "error": "RecursionError",
                "fails_at_depth": smallest_failing_chain(scalars)}
    finished = clock()
    return {
        "build_seconds": built - start, "backward_seconds": finished - built,
        "nodes": scalars.count_nodes(end) if scalars.count_nodes else n_nodes,
        "grad_first": scalars.grad_of(first), "grad_factor": scalars.grad_of(factor),
    }


def smallest_failing_chain(scalars: Scalars, limit: int = 1 << 20) -> int | None:
    """The shortest chain whose backward raises RecursionError (None up to ``limit``)."""
    def fails(n_nodes: int) -> bool:
        try:
            scalars.backward(build_chain(scalars, n_nodes)[0])
        except RecursionError:
            return True
        return False

    works, n_nodes = 2, 16
    while not fails(n_nodes):  # double until it fails ...
        works, n_nodes = n_nodes, 2 * n_nodes
        if n_nodes > limit:
            return None
    while n_nodes - works > 1:  # ... then bisect between the last success and it
        middle = (works + n_nodes) // 2
        works, n_nodes = (works, middle) if fails(middle) else (middle, n_nodes)
    return n_nodes


def resident_bytes() -> int | None:
    """This process's resident set size (Linux /proc), or None where unavailable."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def measure_graph_memory(scalars: Scalars, n_points: int) -> dict:
    """Bytes per node of the demo's training graph on ``n_points`` points, after backward.

    Measured twice on fresh graphs: the growth of the resident set size (sees every
    allocation, C++ included, but rounds to pages and includes allocator slack), then
    tracemalloc (exact, but sees only memory that Python's allocator hands out:
    blind to PyTorch's C++ tensors and autograd nodes).
    """
    points, labels = make_moons(n_points)
    model = Mlp(scalars, random_mlp_weights())
    training_step(model, points[:2], labels[:2])  # warm up (PyTorch starts its engine)

    def build_and_backward() -> Any:
        loss = hinge_loss(model, points, labels)
        scalars.backward(loss)
        return loss

    gc.collect()
    rss_before = resident_bytes()
    loss = build_and_backward()
    rss_after = resident_bytes()
    del loss
    gc.collect()

    tracemalloc.start()
    traced_before = tracemalloc.get_traced_memory()[0]
    loss = build_and_backward()
    traced_after, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    if scalars.count_nodes:
        nodes, counted_by = scalars.count_nodes(loss), scalars.name
    else:  # PyTorch: count the nodes of the same computation in glassgrad
        glassgrad = load("glassgrad")
        counted_by = glassgrad.name
        nodes = glassgrad.count_nodes(hinge_loss(Mlp(glassgrad, random_mlp_weights()), points, labels))
    return {
        "nodes": nodes,
        "nodes_counted_by": counted_by,
        "rss_bytes": None if rss_before is None else rss_after - rss_before,
        "traced_bytes": traced_after - traced_before if scalars.traceable else None,
        "traced_peak_bytes": traced_peak - traced_before if scalars.traceable else None,
    }


# --------------------------------------------------------- one task per process


def run_task(task: dict) -> dict:
    """Run one workload described by ``task`` (a dict, as in ``bench.py``) and return
    its result; ``{"error": "not installed"}`` if the library cannot be imported."""
    try:
        scalars = load(task["library"])
    except ImportError:
        return {"error": "not installed"}
    workload, clock = task["workload"], CLOCKS[task.get("clock", "wall")]
    if workload == "train":
        seconds = time_training_steps(scalars, task["n_points"], task["steps"], task["warmup"],
                                      task.get("collect_garbage", True), clock)
        return {"seconds": seconds, "version": scalars.version}
    if workload == "chain":
        return time_chain(scalars, task["n_nodes"], clock)
    if workload == "memory":
        return measure_graph_memory(scalars, task["n_points"])
    from . import tape_workloads  # the compiled tape's workloads (issue 10)
    if workload == "traced_train":
        return tape_workloads.time_traced_training(task["n_points"], task["steps"], task["warmup"], clock)
    if workload == "floats_train":
        return tape_workloads.time_float_training(task["n_points"], task["steps"], task["warmup"], clock)
    if workload == "digits":
        return tape_workloads.time_digits(task["batch"], task["steps"], task["traced"], clock)
    if workload == "fit_epoch":
        return tape_workloads.time_fit_epoch(task["n_points"], task["steps"], task["traced"], clock)
    raise ValueError(f"unknown workload {workload!r}: choose train, chain, memory, traced_train, "
                     "floats_train, digits or fit_epoch")


if __name__ == "__main__":
    print(json.dumps(run_task(json.loads(sys.argv[1]))))
