"""The articles' network on real handwritten digits: glassgrad against scikit-learn's MLPClassifier.

    python -m tests.benchmarks.digits [--epochs 10] [--samples N] [--markdown]   (from the repo root)

Both libraries train the same network in one run, one after the other: 64 inputs, Dense
128 ReLU, Dense 64 ReLU, 10 softmax outputs (cross-entropy), Adam (learning rate 0.001,
no L2), mini-batches of 32, ``--epochs`` passes (10), on the same 80% of scikit-learn's
1,797 digits (``nn.data.train_test_split(test_size=0.2, seed=0)``); each is then scored on
the other 20%. The table gives test accuracy and the training time (wall clock and this
process's CPU seconds) side by side, and the project's targets: accuracy within 1.5 points
of scikit-learn's, time within 30x (a scalar engine against BLAS matrices).

``--samples N`` uses only the first N digits (the smoke test's tiny run). Needs the
``[data]`` extra (scikit-learn).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO_ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make ``tests.benchmarks`` importable
    sys.path.insert(0, str(REPO_ROOT))

from tests.benchmarks.bench import format_table  # noqa: E402

if TYPE_CHECKING:
    from sklearn.neural_network import MLPClassifier

    from glassgrad.nn.keras import Sequential

HIDDEN = (128, 64)
BATCH_SIZE = 32
LEARNING_RATE = 0.001
ACCURACY_POINTS = 1.5  # target: glassgrad's test accuracy within this many points of scikit-learn's
TIME_FACTOR = 30.0  # target: glassgrad's training time within this factor of scikit-learn's


@dataclass(frozen=True)
class Result:
    library: str
    accuracy: float  # on the held-out digits
    wall_seconds: float  # of training (fit) only
    cpu_seconds: float


def digits_split(samples: int | None) -> tuple[list, list, list, list]:
    from glassgrad.nn.data import load_digits, train_test_split

    X, y = load_digits()
    if samples is not None:
        X, y = X[:samples], y[:samples]
    return train_test_split(X, y, test_size=0.2, seed=0)


def timed(train) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    train()
    return time.perf_counter() - wall, time.process_time() - cpu


def glassgrad_model() -> Sequential:
    """The articles' network in glassgrad.nn.keras, compiled: Adam at LEARNING_RATE, no L2."""
    import glassgrad.nn.keras as dl

    model = dl.Sequential([dl.Input(shape=(64,)), *(dl.Dense(units, activation="relu") for units in HIDDEN),
                           dl.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  learning_rate=LEARNING_RATE)
    return model


def sklearn_classifier(epochs: int) -> MLPClassifier:
    """The same network as scikit-learn's MLPClassifier: no L2 (alpha=0), exactly ``epochs``
    shuffled passes (no early stopping: it would need n_iter_no_change epochs without progress)."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam", alpha=0.0,
                         batch_size=BATCH_SIZE, learning_rate_init=LEARNING_RATE, max_iter=epochs,
                         early_stopping=False, n_iter_no_change=epochs + 1, shuffle=True, random_state=0)


def run_glassgrad(split: tuple, epochs: int) -> Result:
    X_train, X_test, y_train, y_test = split
    model = glassgrad_model()
    wall, cpu = timed(lambda: model.fit(X_train, y_train, epochs=epochs, batch_size=BATCH_SIZE,
                                        verbose=0, seed=0))
    return Result("glassgrad", model.evaluate(X_test, y_test, return_dict=True)["accuracy"], wall, cpu)


def run_sklearn(split: tuple, epochs: int) -> Result:
    from sklearn.exceptions import ConvergenceWarning

    X_train, X_test, y_train, y_test = split
    model = sklearn_classifier(epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # it stops after max_iter epochs, as asked
        wall, cpu = timed(lambda: model.fit(X_train, y_train))
    return Result("scikit-learn MLPClassifier", float(model.score(X_test, y_test)), wall, cpu)


def render(glassgrad: Result, sklearn: Result, epochs: int, n_train: int, markdown: bool) -> str:
    header = ["library", "test accuracy", "training wall s", "training CPU s"]
    rows = [[r.library, f"{r.accuracy:.1%}", f"{r.wall_seconds:.3g}", f"{r.cpu_seconds:.3g}"]
            for r in (glassgrad, sklearn)]
    points = 100.0 * (sklearn.accuracy - glassgrad.accuracy)
    factor = glassgrad.wall_seconds / sklearn.wall_seconds if sklearn.wall_seconds else float("inf")
    verdicts = [
        f"accuracy within {ACCURACY_POINTS} points of scikit-learn's: {abs(points):.1f} points "
        f"{'behind' if points > 0 else 'ahead'}, "
        f"{'met' if points <= ACCURACY_POINTS else 'NOT met'}",
        f"training time within {TIME_FACTOR:g}x of scikit-learn's: {factor:.0f}x, "
        f"{'met' if factor <= TIME_FACTOR else 'NOT met'}",
    ]
    bullet = "* " if markdown else "  "
    return "\n".join([f"64-{HIDDEN[0]}-{HIDDEN[1]}-10 on {n_train} digits, adam, {epochs} epochs, "
                      f"batch {BATCH_SIZE}:", "", format_table(header, rows, markdown), "",
                      *(bullet + line for line in verdicts)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=None, help="use only the first N digits")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    split = digits_split(args.samples)
    glassgrad = run_glassgrad(split, args.epochs)
    sklearn = run_sklearn(split, args.epochs)
    print(render(glassgrad, sklearn, args.epochs, len(split[0]), args.markdown))


if __name__ == "__main__":
    main()
