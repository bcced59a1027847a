"""Smoke test of the digits benchmark (tests/benchmarks/digits.py): a tiny run, no timing assertions."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

import glassgrad.nn as nn  # noqa: E402
from tests.benchmarks import digits  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_both_libraries_train_the_same_split_and_the_table_shows_both():
    split = digits.digits_split(samples=40)
    ours, theirs = digits.run_glassgrad(split, epochs=1), digits.run_sklearn(split, epochs=1)
    assert 0.0 <= ours.accuracy <= 1.0 and 0.0 <= theirs.accuracy <= 1.0
    text = digits.render(ours, theirs, epochs=1, n_train=len(split[0]), markdown=True)
    assert "| glassgrad |" in text and "| scikit-learn MLPClassifier |" in text
    assert "accuracy within 1.5 points" in text and "training time within 30x" in text


def test_the_benchmark_command_prints_the_table():
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.digits", "--epochs", "1", "--samples", "30"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "64-128-64-10 on 24 digits, adam, 1 epochs, batch 32" in done.stdout


def test_both_libraries_build_the_same_network_with_the_same_adam_and_no_l2():
    X_train, _, y_train, _ = digits.digits_split(samples=60)
    ours, theirs = digits.glassgrad_model(), digits.sklearn_classifier(epochs=1)
    ours.fit(X_train[:2], y_train[:2], epochs=1, batch_size=None, verbose=0)  # fit makes the optimizer
    with pytest.warns(Warning):  # ConvergenceWarning: it stopped after max_iter=1 epoch, as asked
        theirs.fit(X_train, y_train)
    dense = ours.layers[1:]
    assert [(layer.input_dim, layer.units) for layer in dense] == [w.shape for w in theirs.coefs_] \
        == [(64, 128), (128, 64), (64, 10)]
    assert [layer.activation for layer in dense] == ["relu", "relu", "softmax"]
    assert (theirs.activation, theirs.out_activation_) == ("relu", "softmax")
    assert len(ours.parameters()) == sum(w.size for w in theirs.coefs_ + theirs.intercepts_) == 17_226
    adam = ours.optimizer
    assert isinstance(adam, nn.Adam) and theirs.solver == "adam"
    assert adam.lr == theirs.learning_rate_init == 0.001
    assert adam.betas == (theirs.beta_1, theirs.beta_2) and adam.eps == theirs.epsilon
    assert adam.weight_decay == 0.0 and theirs.alpha == 0.0  # no L2 on either side


def test_scikit_learn_trains_exactly_the_asked_epochs_without_stopping_early():
    X_train, _, y_train, _ = digits.digits_split(samples=40)
    asked, default = digits.sklearn_classifier(epochs=300), digits.sklearn_classifier(epochs=300)
    default.n_iter_no_change = 10  # scikit-learn's default: stop after 10 epochs without progress
    with pytest.warns(Warning):  # ConvergenceWarning: it stopped at max_iter, as asked
        asked.fit(X_train, y_train)
    default.fit(X_train, y_train)
    assert asked.n_iter_ == 300 and not asked.early_stopping and asked.shuffle
    assert default.n_iter_ < 300  # on 32 digits the loss stalls: the default would have stopped
