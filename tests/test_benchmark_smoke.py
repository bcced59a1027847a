"""Smoke tests for the benchmark (tests/benchmarks): tiny sizes, no timing assertions.

They check that the three libraries really run the same computation (same loss and
gradients, same model as micrograd's own MLP), that the workloads build what they
claim, and that a whole run, in child processes, prints a complete table.
"""
from __future__ import annotations

import gc
import math
import subprocess
import sys

import pytest

from tests.benchmarks import bench, workloads
from tests.benchmarks.scalars import LIBRARY_NAMES, is_installed, load

INSTALLED = [name for name in LIBRARY_NAMES if is_installed(name)]
SMALL_SIZES = (2, 4, 3, 1)


def tiny_model(library: str, sizes=SMALL_SIZES) -> workloads.Mlp:
    return workloads.Mlp(load(library), workloads.random_mlp_weights(sizes, seed=3))


def loss_and_gradients(library: str) -> tuple[float, list[float]]:
    model = tiny_model(library)
    points, labels = workloads.make_moons(6, seed=4)
    loss = workloads.hinge_loss(model, points, labels)
    model.scalars.backward(loss)
    return model.scalars.to_float(loss), [model.scalars.grad_of(p) for p in model.parameters()]


@pytest.mark.parametrize("reference", ["micrograd", "torch"])
def test_every_library_computes_the_same_loss_and_gradients_as_glassgrad(reference):
    pytest.importorskip(reference)
    loss, gradients = loss_and_gradients("glassgrad")
    reference_loss, reference_gradients = loss_and_gradients(reference)
    assert loss == pytest.approx(reference_loss, rel=1e-12)
    assert any(gradients), "a test with all-zero gradients would prove nothing"
    assert gradients == pytest.approx(reference_gradients, rel=1e-9, abs=1e-12)


def test_loop_mlp_computes_what_micrograds_own_mlp_computes():
    micrograd_nn = pytest.importorskip("micrograd.nn")
    weights = workloads.random_mlp_weights(workloads.LAYER_SIZES, seed=5)
    theirs = micrograd_nn.MLP(2, list(workloads.LAYER_SIZES[1:]))
    for layer, layer_weights in zip(theirs.layers, weights):
        for neuron, (neuron_weights, bias) in zip(layer.neurons, layer_weights):
            for parameter, weight in zip(neuron.w, neuron_weights):
                parameter.data = weight
            neuron.b.data = bias
    ours = workloads.Mlp(load("glassgrad"), weights)
    points, _ = workloads.make_moons(10, seed=6)
    for point in points:
        assert ours([ours.scalars.constant(x) for x in point]).data == pytest.approx(
            theirs(list(point)).data, rel=1e-12)


@pytest.mark.parametrize("library", INSTALLED)
def test_training_steps_lower_the_loss_and_leave_gradients_zeroed(library):
    model = tiny_model(library)
    points, labels = workloads.make_moons(8, seed=7)
    losses = [workloads.training_step(model, points, labels, learning_rate=0.1) for _ in range(5)]
    assert losses[-1] < losses[0]
    assert all(model.scalars.grad_of(p) == 0.0 for p in model.parameters())


@pytest.mark.parametrize("collect_garbage", [True, False])
def test_time_training_steps_times_each_step_after_warmup_and_restores_gc(collect_garbage):
    seconds = workloads.time_training_steps(load("glassgrad"), n_points=3, steps=2, warmup=1,
                                            collect_garbage=collect_garbage)
    assert len(seconds) == 2 and all(s >= 0.0 for s in seconds)
    assert gc.isenabled()


def test_make_moons_gives_two_balanced_noisy_half_circles():
    points, labels = workloads.make_moons(11, noise=0.0)
    assert len(points) == 11 and labels.count(-1.0) == 5 and labels.count(1.0) == 6
    for (x, y), label in zip(points, labels):
        centre = (0.0, 0.0) if label < 0 else (1.0, 0.5)
        assert math.dist((x, y), centre) == pytest.approx(1.0)
    noisy, _ = workloads.make_moons(11, noise=0.1)
    assert noisy != points


@pytest.mark.parametrize("library", INSTALLED)
def test_chain_has_the_requested_node_count_and_the_known_gradients(library):
    scalars = load(library)
    n_nodes = 101
    end, start, factor = workloads.build_chain(scalars, n_nodes)
    scalars.backward(end)
    n_multiplications = (n_nodes - 2) // 2  # ops alternate relu, *c after the 2 leaves
    assert scalars.grad_of(start) == 1.0
    assert scalars.grad_of(factor) == 0.5 * n_multiplications
    if scalars.count_nodes:
        assert scalars.count_nodes(end) == n_nodes


def test_time_chain_reports_build_and_backward_of_a_glassgrad_chain():
    result = workloads.time_chain(load("glassgrad"), 1001)
    assert result["nodes"] == 1001
    assert result["build_seconds"] >= 0.0 and result["backward_seconds"] >= 0.0
    assert result["grad_factor"] == 0.5 * 499


def test_micrograd_chain_fails_with_recursion_error_near_the_recursion_limit():
    pytest.importorskip("micrograd")
    result = workloads.time_chain(load("micrograd"), 5 * sys.getrecursionlimit())
    assert result["error"] == "RecursionError"
    assert sys.getrecursionlimit() // 2 < result["fails_at_depth"] <= sys.getrecursionlimit() + 10


@pytest.mark.parametrize("library", INSTALLED)
def test_graph_memory_counts_the_graphs_nodes_and_measures_bytes(library):
    result = workloads.measure_graph_memory(load(library), n_points=3)
    glassgrad = load("glassgrad")
    model = workloads.Mlp(glassgrad, workloads.random_mlp_weights())
    points, labels = workloads.make_moons(3)
    assert result["nodes"] == glassgrad.count_nodes(workloads.hinge_loss(model, points, labels))
    if library == "torch":
        assert result["traced_bytes"] is None  # tracemalloc cannot see PyTorch's C++ graph
    else:
        assert result["traced_bytes"] > 0 and result["traced_peak_bytes"] >= result["traced_bytes"]


def test_speedup_is_micrograd_time_over_each_librarys_time():
    results = {
        "glassgrad": {"train": {"seconds": [0.1, 0.3, 0.2]}},
        "micrograd": {"train": {"seconds": [1.0, 1.0, 1.0]}},
        "torch 0-d float64": {"train": {"error": "not installed"}},
    }
    summary = bench.summarize(results)
    assert summary["glassgrad"]["speedup"] == pytest.approx(1.0 / 0.2)
    assert summary["torch 0-d float64"]["step"] == "not installed"
    assert "speedup" not in summary["torch 0-d float64"]


TINY = bench.Sizes(n_points=3, steps=1, warmup=0, chain_nodes=3 * sys.getrecursionlimit(),
                   memory_points=2, timeout_seconds=120.0)


@pytest.fixture(scope="module")
def tiny_run_results() -> dict:
    """One run of every workload at TINY sizes, in child processes as in a real run."""
    return bench.run_benchmarks(TINY, clock="cpu")


def test_chain_check_accepts_the_known_gradient_and_flags_any_other():
    chain = {"nodes": 11, "build_seconds": 0.0, "backward_seconds": 0.0}
    assert "as expected" in bench._check_chain({**chain, "grad_factor": 0.5 * 4})
    assert "WRONG, expected 2.0" in bench._check_chain({**chain, "grad_factor": 2.5})


@pytest.mark.parametrize("markdown", [False, True])
def test_a_tiny_full_run_prints_every_row_and_every_target(tiny_run_results, markdown):
    report = bench.render(bench.summarize(tiny_run_results), TINY, markdown, clock="cpu")
    assert bench.CLOCK_TEXT["cpu"] in report
    for row in bench.ROWS:
        assert row.label in report
    for target in bench.TARGETS:
        assert target.text in report
    if "micrograd" in INSTALLED:
        assert "fails: RecursionError at depth ~" in report
    assert ("| glassgrad |" in report) == markdown


def test_a_tiny_full_run_measures_every_installed_library(tiny_run_results):
    for row in bench.ROWS:
        for workload, result in tiny_run_results[row.label].items():
            expected_error = None if row.library in INSTALLED else "not installed"
            if row.library == "micrograd" and workload == "chain" and "micrograd" in INSTALLED:
                expected_error = "RecursionError"
            assert result.get("error") == expected_error, (row.label, workload, result)


def test_bench_runs_as_a_file_too():
    done = subprocess.run([sys.executable, str(bench.REPO_ROOT / "tests/benchmarks/bench.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout


# ------------------------------------------------------------ the compiled tape (issue 10)


def test_plain_float_step_computes_the_same_loss_and_update_as_glassgrad():
    from tests.benchmarks import tape_workloads
    weights = workloads.random_mlp_weights(SMALL_SIZES, seed=3)
    points, labels = workloads.make_moons(6, seed=4)
    model = workloads.Mlp(load("glassgrad"), weights)
    layers = tape_workloads.float_layers(weights)
    for _ in range(3):
        assert tape_workloads.float_training_step(layers, points, labels) == pytest.approx(
            workloads.training_step(model, points, labels), rel=1e-12)
    updated = [x for layer in layers for w, b in layer for x in (*w, b)]
    assert updated == pytest.approx([p.data for p in model.parameters()], rel=1e-12, abs=1e-15)


def test_traced_moons_step_computes_the_eager_loss_and_gradients():
    from tests.benchmarks import tape_workloads
    model, traced, points = tape_workloads.traced_moons_step(6)
    out = traced(points)
    out.backward()
    ours = [p.grad for p in model.parameters()]
    model.scalars.sgd_update(model.parameters(), 0.0)  # zero the gradients
    points_, labels = workloads.make_moons(6)
    eager = workloads.hinge_loss(model, points_, labels)
    eager.backward()
    assert out.data == pytest.approx(eager.data, rel=1e-12)
    assert ours == pytest.approx([p.grad for p in model.parameters()], rel=1e-12, abs=1e-15)


def test_a_tiny_tape_run_prints_the_tape_table_with_every_row_and_target():
    sizes = bench.Sizes(n_points=3, steps=1, warmup=0, digits_batch=1, digits_steps=1,
                        timeout_seconds=300.0)
    tape_results = bench.run_tape_benchmarks(sizes, clock="cpu")
    assert all("error" not in result for result in tape_results.values()), tape_results
    summary = {"glassgrad": {"step": 0.1}, "micrograd": {"step": 1.0}}
    report = bench.render_tape(tape_results, summary, sizes, markdown=True)
    for text in ("glassgrad traced (replay)", "the one-time recording", "plain floats",
                 "digits step 1 x 64-128-64-10: eager", "bytes per tape node",
                 "nn.fit on 3 moons in batches of 32, mean epoch of 10, trace=True"):
        assert text in report
    for text, _ in bench.TAPE_TARGETS:
        assert text in report
