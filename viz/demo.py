"""``glassgrad demo``: train the classic moons MLP, then draw what it learned and how.

    glassgrad demo                                   # moons, MLP(2, [16, 16, 1]), 100 epochs
    glassgrad demo --data spirals --hidden 32,32 --epochs 200 -o spirals/

The recipe is micrograd's demo: an MLP with ReLU hidden layers, full-batch SGD for
100 epochs with the learning rate falling linearly from ``lr`` to ``lr / 10``
(1.0 -> 0.1), and the max-margin (hinge) loss plus an L2 penalty of 1e-4. Data sets
with more than two classes (spirals, blobs) get one output per class and the softmax
cross-entropy loss instead. Then the output folder receives:

    loss_curve.png         loss and accuracy per epoch             (viz.plots.plot_history)
    decision_boundary.png  the class the model picks everywhere    (viz.plots.plot_decision_boundary)
    neuron_graph.svg       one neuron on one training point, after backward  (viz.draw_neuron)
    neuron_stepper.html    that backward pass, one chain-rule step at a time (viz.stepper_html)

The SVG is made by the Graphviz program when ``dot`` is installed, and otherwise by its
WebAssembly build from PyPI, so the demo needs nothing but ``pip install``.
"""
from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import glassgrad.nn as nn
from glassgrad.engine import Value
from glassgrad.nn import MLP, accuracy, fit

from .cli import positive
from .html import stepper_html
from .plots import plot_decision_boundary, plot_history
from .render import draw_neuron
from .svg import dot_program

DATA_SETS = ("moons", "circles", "xor", "spirals", "blobs")
MULTI_CLASS = {"spirals": 3, "blobs": 3}  # data set -> number of classes (the others have 2)
L2_PENALTY = 1e-4
FINAL_LR_FRACTION = 0.1  # the learning rate ends at a tenth of where it starts

OUTPUTS = {
    "loss_curve.png": "loss and accuracy per epoch",
    "decision_boundary.png": "the class the model picks everywhere around the data",
    "neuron_graph.svg": "one neuron on one training point, after backward()",
    "neuron_stepper.html": "that backward pass, one chain-rule step at a time (open in a browser)",
}


def main(argv: list[str] | None = None) -> int:
    """Run the demo with command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"-o/--out: {args.out} is a file; give a folder (it is made if missing)")
    X, y = _make_data(args.data, args.samples, args.seed)
    n_classes = MULTI_CLASS.get(args.data, 2)
    model = MLP(2, [*args.hidden, n_classes if n_classes > 2 else 1], seed=args.seed)
    loss = "softmax_cross_entropy" if n_classes > 2 else "hinge"
    final_lr = args.lr * FINAL_LR_FRACTION
    recipe = f"{loss} loss + L2 {L2_PENALTY:g}, full-batch SGD, lr {args.lr:g} -> {final_lr:g}"
    print(f"training {model!r} on {args.data} ({len(X)} samples, {n_classes} classes): "
          f"{recipe}, {args.epochs} epochs")

    started = time.perf_counter()
    history = fit(model, X, y, loss=loss, optimizer="sgd", lr=args.lr, epochs=args.epochs,
                  l2=L2_PENALTY, lr_schedule=_linear_decay(args.lr, final_lr, args.epochs),
                  seed=args.seed, progress=not args.no_progress,
                  trace=True)  # each step replays one compiled tape (glassgrad.engine.trace)
    seconds = time.perf_counter() - started
    print(f"trained in {seconds:.1f} s: final loss {history.loss[-1]:.4f}, "
          f"training accuracy {accuracy(model, X, y, loss=loss):.1%}")

    neuron_index, point_index = _active_neuron(model, X)
    files = _draw(model, X, y, history, neuron=model.layers[0].neurons[neuron_index],
                  point=X[point_index], title=f"{model!r} on {args.data}\n{recipe}")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"writing to {args.out}{os.sep}")
    width = max(len(str(args.out / name)) for name in files)
    for name, content in files.items():
        path = args.out / name
        path.write_bytes(content)
        print(f"  {str(path):<{width}}  {OUTPUTS[name]}")
    renderer = "the Graphviz program (dot)" if dot_program() else \
        "the WebAssembly build of Graphviz (no `dot` on PATH)"
    print(f"the graphs show neuron {neuron_index} of the first layer on training point "
          f"{point_index} and were laid out by {renderer}")
    print(f"open {args.out / 'neuron_stepper.html'} in a browser to step through backpropagation")
    return 0


def _draw(model, X: list[list[float]], y: list[int], history, *, neuron, point: list[float],
          title: str) -> dict[str, bytes]:
    """Every output file's content, made in memory first, so that a failure writes nothing."""
    # The stepper replays backward on this graph and puts every grad back afterwards.
    neuron_output = neuron([Value(x, label=f"x{i}") for i, x in enumerate(point)])
    loss_curve = plot_history(history)
    # read as fit trained it (model.loss_fn), on a 200 x 200 grid through a traced forward
    boundary = plot_decision_boundary(model, X, y)
    for figure in (loss_curve, boundary):
        figure.suptitle(title, fontsize="medium")
    return {
        "loss_curve.png": _png(loss_curve),
        "decision_boundary.png": _png(boundary),
        "neuron_graph.svg": draw_neuron(neuron, point).svg().encode("utf-8"),
        "neuron_stepper.html": stepper_html(neuron_output, parameters=[*neuron.w, neuron.b]
                                            ).encode("utf-8"),
    }


def _active_neuron(model, X: list[list[float]]) -> tuple[int, int]:
    """A first-layer neuron (2 inputs: a small graph) and a training point it is active on.

    Active means its activation passes gradient back (a ReLU's input is > 0): a dead
    neuron would show a graph of zero gradients. Returns the first such (neuron index,
    point index), else (0, 0).
    """
    for neuron_index, neuron in enumerate(model.layers[0].neurons):
        for point_index, point in enumerate(X):
            output = neuron(point)
            if output.op is not None and output.local_grads[0] != 0.0:
                return neuron_index, point_index
    return 0, 0


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _make_data(name: str, samples: int, seed: int) -> tuple[list[list[float]], list[int]]:
    maker = getattr(nn, f"make_{name}")
    if name in MULTI_CLASS:
        classes = MULTI_CLASS[name]
        option = {"spirals": "n_classes", "blobs": "centers"}[name]
        return maker(n_samples=samples, seed=seed, **{option: classes})
    return maker(n_samples=samples, seed=seed)


def _linear_decay(first: float, last: float, epochs: int) -> Callable[[int], float]:
    """lr at epoch k (0-based) = first + (last - first) * k / epochs, as micrograd's demo."""

    def learning_rate(epoch: int) -> float:
        return first + (last - first) * epoch / epochs

    return learning_rate


# ------------------------------------------------------------------ the command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassgrad demo",
        description="Train a small MLP on a toy data set, then write its loss curve, its "
                    "decision boundary, one neuron's gradient graph and a backprop stepper.",
    )
    parser.add_argument("--data", choices=DATA_SETS, default="moons",
                        help="the toy data set (default: moons)")
    parser.add_argument("--hidden", type=_layer_sizes, default=[16, 16], metavar="SIZES",
                        help="hidden layer sizes, comma separated (default: 16,16)")
    parser.add_argument("--epochs", type=positive(int), default=100,
                        help="full-batch training steps (default: 100)")
    parser.add_argument("--lr", type=positive(float), default=1.0,
                        help="the first learning rate; it falls linearly to a tenth of it "
                             "(default: 1.0)")
    parser.add_argument("--samples", type=positive(int), default=100,
                        help="how many points the data set has (default: 100)")
    parser.add_argument("--seed", type=int, default=1337,
                        help="seed for the data and the initial weights (default: 1337)")
    parser.add_argument("-o", "--out", type=Path, default=Path("glassgrad-demo"),
                        help="the folder to write into (default: glassgrad-demo)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _layer_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"hidden layer sizes are positive whole numbers separated by commas, "
            f"like 16,16; got {text!r}"
        )
    return sizes


if __name__ == "__main__":
    raise SystemExit(main())
