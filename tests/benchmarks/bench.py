"""Benchmark glassgrad against micrograd 0.1.0 and PyTorch (0-d float64 tensors).

    python -m tests.benchmarks.bench [--quick] [--markdown]      (from the repo root)
    python tests/benchmarks/bench.py [--quick] [--markdown]

In one run it measures, for every library, the workloads of ``workloads.py``:
1. a training step of micrograd's classic moons demo (median seconds over many
   consecutive steps, garbage collector on as normal; plus rows with it off);
2. build and backward of a 1,000,000-node chain;
3. bytes per node of the demo's training graph after backward;
and prints one table, with ratios against micrograd and the project's targets; then
4. the compiled tape (``tape_workloads.py``): the moons step traced (replay, and the
   one-time recording apart), the same step in plain floats with a hand-written
   backward, the digits step (64 -> 128 -> 64 -> 10, batch 32) eager vs traced, one
   epoch of ``nn.fit`` with trace=False vs trace=True, and the tape's bytes per node,
   in a second table with the tape's targets.

Each measurement runs in a fresh Python process that imports only the library it
measures: PyTorch alone adds ~150,000 objects that every full garbage collection has
to walk, which would slow the other libraries down. ``--quick`` uses small sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make ``tests.benchmarks`` importable
    sys.path.insert(0, str(REPO_ROOT))

from tests.benchmarks.scalars import is_installed  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    n_points: int = 100  # moons points per training step (the demo's)
    steps: int = 15  # timed consecutive training steps, after `warmup` untimed ones
    warmup: int = 2
    chain_nodes: int = 1_000_000
    memory_points: int = 300  # a training graph of ~200,000 nodes
    timeout_seconds: float = 900.0  # per measurement
    digits_batch: int = 32  # the digits step of the compiled-tape table
    digits_steps: int = 3


FULL = Sizes()
QUICK = Sizes(n_points=20, steps=3, warmup=1, chain_nodes=20_000, memory_points=20,
              timeout_seconds=300.0, digits_batch=2, digits_steps=1)


CLOCK_TEXT = {"wall": "wall-clock seconds (time.perf_counter)",
              "cpu": "CPU seconds of the measuring process (time.process_time; --cpu-time)"}


@dataclass(frozen=True)
class Target:
    text: str
    column: str  # which measurement it is about
    is_met: Callable[[float], bool]


TARGETS = (
    Target("training step >= 5x faster than micrograd", "speedup", lambda x: x >= 5.0),
    Target("<= 250 bytes per node (tracemalloc)", "bytes_per_node",
           lambda x: x <= 250.0),
    Target("1,000,000-node chain, build + backward < 10 s", "chain_seconds", lambda x: x < 10.0),
)


@dataclass(frozen=True)
class Row:
    """One row of the table: a library, and which workloads to run on it."""

    label: str
    library: str
    collect_garbage: bool = True
    workloads: tuple[str, ...] = ("train", "chain", "memory")


ROWS = (
    Row("glassgrad", "glassgrad"),
    Row("glassgrad, gc off in steps", "glassgrad", collect_garbage=False, workloads=("train",)),
    Row("micrograd", "micrograd"),
    Row("micrograd, gc off in steps", "micrograd", collect_garbage=False, workloads=("train",)),
    Row("torch 0-d float64", "torch"),
)


# --------------------------------------------------------------------- measuring


def run_in_fresh_process(task: dict, timeout_seconds: float) -> dict:
    """Run ``task`` with ``python -m tests.benchmarks.workloads``; its JSON result, or
    ``{"error": ...}`` if it crashed or ran out of time."""
    command = [sys.executable, "-m", "tests.benchmarks.workloads", json.dumps(task)]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout_seconds:.0f} s"}
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {"error": f"crashed (exit code {done.returncode}): {last_line}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_benchmarks(sizes: Sizes, report: Callable[[str], None] = lambda _: None,
                   clock: str = "wall") -> dict:
    """Every workload of every row of ROWS: {row label: {workload: result dict}}.
    ``clock`` is "wall" (elapsed time) or "cpu" (this process's CPU time)."""
    results: dict[str, dict[str, dict]] = {}
    for row in ROWS:
        results[row.label] = {}
        for workload in row.workloads:
            if not is_installed(row.library):
                results[row.label][workload] = {"error": "not installed"}
                continue
            report(f"{row.label}: {workload} ...")
            task = {"workload": workload, "library": row.library, "n_points": sizes.n_points,
                    "steps": sizes.steps, "warmup": sizes.warmup,
                    "collect_garbage": row.collect_garbage, "n_nodes": sizes.chain_nodes,
                    "clock": clock}
            if workload == "memory":
                task["n_points"] = sizes.memory_points
            results[row.label][workload] = run_in_fresh_process(task, sizes.timeout_seconds)
    return results


def summarize(results: dict) -> dict[str, dict[str, float | str]]:
    """The numbers of the table: per row, step time and speedup, chain seconds and
    bytes per node (a string instead of a number where a measurement failed)."""
    summary: dict[str, dict[str, float | str]] = {}
    for label, measured in results.items():
        numbers: dict[str, float | str] = {}
        train = measured.get("train", {})
        numbers["step"] = train.get("error") or statistics.median(train["seconds"])
        if "chain" in measured:
            chain = measured["chain"]
            numbers["chain_build"] = chain.get("build_seconds", "")
            if "fails_at_depth" in chain:
                failure = f"fails: RecursionError at depth ~{chain['fails_at_depth']}"
                numbers["chain_backward"] = numbers["chain_seconds"] = failure
            elif "error" in chain:
                numbers["chain_backward"] = numbers["chain_seconds"] = chain["error"]
            else:
                numbers["chain_backward"] = chain["backward_seconds"]
                numbers["chain_seconds"] = chain["build_seconds"] + chain["backward_seconds"]
                numbers["chain_check"] = _check_chain(chain)
        if "memory" in measured:
            memory = measured["memory"]
            if "error" in memory:
                numbers["bytes_per_node"] = numbers["rss_bytes_per_node"] = memory["error"]
            else:
                for key, measured_bytes in (("bytes_per_node", memory["traced_bytes"]),
                                            ("rss_bytes_per_node", memory["rss_bytes"])):
                    numbers[key] = "n/a" if measured_bytes is None else measured_bytes / memory["nodes"]
        summary[label] = numbers
    reference = summary.get("micrograd", {}).get("step")
    for numbers in summary.values():
        if isinstance(reference, float) and isinstance(numbers["step"], float):
            numbers["speedup"] = reference / numbers["step"]
    return summary


def _check_chain(chain: dict) -> str:
    """Did the chain's backward give the known answer d end/dc = 0.5 * (number of *c)?"""
    expected = 0.5 * ((chain["nodes"] - 2) // 2)
    verdict = "as expected" if chain["grad_factor"] == expected else f"WRONG, expected {expected}"
    return f"{chain['nodes']:,} nodes, d end/dc = {chain['grad_factor']} ({verdict})"


# ---------------------------------------------------------------- the compiled tape


TAPE_TASKS = {  # label -> the task (plus sizes) measured in a fresh process
    "moons traced": {"workload": "traced_train", "library": "glassgrad"},
    "moons floats": {"workload": "floats_train", "library": "glassgrad"},
    "digits eager": {"workload": "digits", "library": "glassgrad", "traced": False},
    "digits traced": {"workload": "digits", "library": "glassgrad", "traced": True},
    "fit eager": {"workload": "fit_epoch", "library": "glassgrad", "traced": False},
    "fit traced": {"workload": "fit_epoch", "library": "glassgrad", "traced": True},
}

TAPE_TARGETS = (
    ("traced moons step >= 100x faster than micrograd", lambda t: t["micrograd"] / t["traced"] >= 100),
    ("traced moons step faster than plain floats with a hand-written backward",
     lambda t: t["traced"] < t["floats"]),
    ("digits step traced >= 30x faster than eager", lambda t: t["digits eager"] / t["digits traced"] >= 30),
)


def run_tape_benchmarks(sizes: Sizes, report: Callable[[str], None] = lambda _: None,
                        clock: str = "wall") -> dict:
    """Every task of TAPE_TASKS, each in a fresh process: {label: result dict}."""
    results = {}
    for label, task in TAPE_TASKS.items():
        report(f"tape: {label} ...")
        task = {**task, "n_points": sizes.n_points, "steps": sizes.steps, "warmup": sizes.warmup,
                "batch": sizes.digits_batch, "clock": clock}
        if task["workload"] in ("digits", "fit_epoch"):
            task["steps"] = sizes.digits_steps
        results[label] = run_in_fresh_process(task, sizes.timeout_seconds)
    return results


def render_tape(tape_results: dict, summary: dict, sizes: Sizes, markdown: bool) -> str:
    """The compiled-tape table: moons step side by side, digits eager vs traced, bytes per node."""
    def median(label: str) -> float | str:
        result = tape_results.get(label, {})
        return result.get("error") or statistics.median(result["seconds"])

    traced = tape_results.get("moons traced", {})
    times = {"eager": summary.get("glassgrad", {}).get("step"), "traced": median("moons traced"),
             "micrograd": summary.get("micrograd", {}).get("step"),
             "torch": summary.get("torch 0-d float64", {}).get("step"), "floats": median("moons floats"),
             "digits eager": median("digits eager"), "digits traced": median("digits traced"),
             "fit eager": median("fit eager"), "fit traced": median("fit traced"),
             "fit eager, of ten": tape_results.get("fit eager", {}).get("epoch_of_ten"),
             "fit traced, of ten": tape_results.get("fit traced", {}).get("epoch_of_ten")}
    moons = [("glassgrad eager", times["eager"]), ("glassgrad traced (replay)", times["traced"]),
             ("glassgrad traced: the one-time recording", traced.get("trace_seconds", traced.get("error"))),
             ("micrograd 0.1.0", times["micrograd"]), ("torch 0-d float64", times["torch"]),
             ("plain floats, hand-written backward", times["floats"])]
    rows = [[f"moons step: {label}", _number(seconds), _ratio(times["micrograd"], seconds).strip(" ()"),
             _ratio(times["floats"], seconds).strip(" ()")] for label, seconds in moons]
    rows += [[f"digits step {sizes.digits_batch} x 64-128-64-10: {label}", _number(times[key]),
              "-", _ratio(times["digits eager"], times[key]).strip(" ()")]
             for label, key in (("eager", "digits eager"), ("traced (replay)", "digits traced"))]
    fit_rows = (("one epoch, trace=False", "fit eager", "fit eager"),
                ("one epoch, trace=True (recording included)", "fit traced", "fit eager"),
                ("mean epoch of 10, trace=False", "fit eager, of ten", "fit eager, of ten"),
                ("mean epoch of 10, trace=True", "fit traced, of ten", "fit eager, of ten"))
    rows += [[f"nn.fit on {sizes.n_points} moons in batches of 32, {label}", _number(times[key]),
              "-", _ratio(times[eager], times[key]).strip(" ()")] for label, key, eager in fit_rows]
    header = ["compiled tape", "seconds (median)", "micrograd / this",
              "plain floats / this (digits, fit: eager / this)"]
    nodes = traced.get("tape_nodes")
    notes = [f"Tape of the moons step: {nodes:,} nodes in {traced['waves']} waves, "
             f"{traced['tape_bytes'] / nodes:.1f} bytes per tape node (its NumPy arrays, after a replay "
             "and a backward)." if nodes else "Tape of the moons step: not measured."]
    lines = ["Targets for the compiled tape:"]
    for text, is_met in TAPE_TARGETS:
        try:
            verdict = "met" if is_met(times) else "NOT MET"
        except TypeError:  # a measurement is missing
            verdict = "not measured"
        lines.append(f"{'* ' if markdown else '  '}{text}: {verdict}")
    return "\n\n".join([format_table(header, rows, markdown), "\n".join(notes), "\n".join(lines)])


# --------------------------------------------------------------------- reporting


def format_table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    """A pipe table in Markdown, otherwise columns aligned with spaces."""
    if markdown:
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
    widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()
                     for cells in lines)


def _number(value: float | str | None, unit: str = "", digits: int = 3) -> str:
    if value is None or value == "":
        return "-"
    return value if isinstance(value, str) else f"{value:.{digits}g}{unit}"


def _ratio(value: float | str | None, reference: float | str | None) -> str:
    """`value` as a multiple of `reference`, e.g. "(0.34x)"; empty if either is missing."""
    if isinstance(value, float) and isinstance(reference, float) and reference:
        return f" ({value / reference:.2f}x)"
    return ""


def render(summary: dict, sizes: Sizes, markdown: bool, clock: str = "wall") -> str:
    """The whole report: machine, table, footnotes and targets, as text."""
    micrograd = summary.get("micrograd", {})
    chain = f"{sizes.chain_nodes:,}-node chain"
    header = ["library", f"step s (median of {sizes.steps})", "vs micrograd",
              f"{chain}: build s", "backward s", "bytes/node tracemalloc", "bytes/node RSS"]
    rows = []
    for label, numbers in summary.items():
        speedup = numbers.get("speedup")
        rows.append([
            label, _number(numbers["step"]),
            f"{speedup:.1f}x" if isinstance(speedup, float) else "-",
            _number(numbers.get("chain_build")),
            _number(numbers.get("chain_backward")),
            _number(numbers.get("bytes_per_node"), digits=4)
            + _ratio(numbers.get("bytes_per_node"), micrograd.get("bytes_per_node")),
            _number(numbers.get("rss_bytes_per_node"), digits=4)
            + _ratio(numbers.get("rss_bytes_per_node"), micrograd.get("rss_bytes_per_node")),
        ])
    notes = [
        f"Training step: forward + backward + SGD on {sizes.n_points} moons points, MLP(2, [16, 16, 1]);"
        f" median of {sizes.steps} consecutive steps after {sizes.warmup} warm-up steps,"
        " each library in a fresh process. 'gc off in steps': the cyclic garbage collector is"
        " disabled during each step and run, untimed, between steps.",
        f"Chain: x -> relu -> *c -> relu -> ... ({sizes.chain_nodes:,} nodes with the leaves x and c),"
        " each library in a fresh process. "
        + "; ".join(f"{label}: {numbers['chain_check']}"
                    for label, numbers in summary.items() if "chain_check" in numbers) + ".",
        f"Memory: the training graph on {sizes.memory_points} points after backward, per node"
        " (op results and leaves; PyTorch's count is glassgrad's for the same computation)."
        " tracemalloc sees only Python's allocator: for PyTorch it misses the C++ tensors and"
        " autograd nodes, so use the RSS column (resident set growth, page-rounded) there."
        " Ratios in parentheses are against micrograd.",
    ]
    return "\n\n".join([
        "\n".join(machine_info() + [f"Times: {CLOCK_TEXT[clock]}"]),
        format_table(header, rows, markdown),
        "\n".join("* " + note if markdown else textwrap.fill(note, width=100) for note in notes),
        "\n".join(target_lines(summary.get("glassgrad", {}), sizes, markdown)),
    ])


def target_lines(glassgrad: dict, sizes: Sizes, markdown: bool) -> list[str]:
    lines = ["Targets for glassgrad:"]
    for target in TARGETS:
        value = glassgrad.get(target.column)
        if target.column == "chain_seconds" and sizes.chain_nodes != 1_000_000:
            verdict = f"not checked (this run's chain has {sizes.chain_nodes:,} nodes)"
        elif isinstance(value, float):
            verdict = f"{value:.3g}: {'met' if target.is_met(value) else 'NOT MET'}"
        else:
            verdict = f"not measured ({value or 'no result'})"
        lines.append(f"{'* ' if markdown else '  '}{target.text}: {verdict}")
    return lines


def machine_info() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = []
    for name in ("glassgrad", "micrograd", "torch"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return [
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}",
        f"CPU: {cpu}, {os.cpu_count()} logical cores; {', '.join(versions)}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with CPU seconds of the process instead of the wall clock "
                             "(steadier when other jobs share the machine)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    clock = "cpu" if args.cpu_time else "wall"
    progress = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    results = run_benchmarks(sizes, report=progress, clock=clock)
    tape_results = run_tape_benchmarks(sizes, report=progress, clock=clock)
    summary = summarize(results)
    print(render(summary, sizes, args.markdown, clock))
    print()
    print(render_tape(tape_results, summary, sizes, args.markdown))


if __name__ == "__main__":
    main()
