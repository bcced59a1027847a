"""Smoke test of the digits benchmark (tests/benchmarks/digits.py): a tiny run, no timing assertions."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

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
