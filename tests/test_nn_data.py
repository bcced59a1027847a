"""Toy data sets: shapes, labels, seeded determinism, geometry and the effect of noise."""
import math
import random
import statistics
import sys

import pytest

import glassgrad.nn as nn
from glassgrad.nn import make_blobs, make_circles, make_moons, make_spirals, make_xor

MAKERS = {
    "moons": (make_moons, {}, {0, 1}),
    "circles": (make_circles, {}, {0, 1}),
    "spirals": (make_spirals, {"n_classes": 4}, {0, 1, 2, 3}),
    "xor": (make_xor, {}, {0, 1}),
    "blobs": (make_blobs, {"centers": 3}, {0, 1, 2}),
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("n", [1, 7, 100])
def test_data_sets_have_n_points_of_two_floats_and_int_labels(name, n):
    maker, options, labels = MAKERS[name]
    X, y = maker(n, seed=0, **options)
    assert len(X) == len(y) == n
    assert all(len(row) == 2 and all(isinstance(v, float) for v in row) for row in X)
    assert all(type(label) is int for label in y)
    assert set(y) <= labels
    if n == 100:
        assert set(y) == labels


@pytest.mark.parametrize("name", [name for name in MAKERS if name != "xor"])  # xor: uniform points
def test_classes_are_balanced(name):
    maker, options, labels = MAKERS[name]
    _, y = maker(101, seed=0, **options)
    counts = [y.count(label) for label in sorted(labels)]
    assert max(counts) - min(counts) <= 1


@pytest.mark.parametrize("name", MAKERS)
def test_the_same_seed_gives_the_same_data_and_another_seed_does_not(name):
    maker, options, _ = MAKERS[name]
    assert maker(50, seed=3, **options) == maker(50, seed=3, **options)
    assert maker(50, seed=3, **options) != maker(50, seed=4, **options)


@pytest.mark.parametrize("name", MAKERS)
def test_without_a_seed_the_global_random_controls_the_data(name):
    maker, options, _ = MAKERS[name]
    random.seed(42)
    first = maker(30, **options)
    random.seed(42)
    assert maker(30, **options) == first


def test_noise_free_moons_lie_on_their_two_half_circles():
    X, y = make_moons(60, noise=0.0, seed=0)
    for (x1, x2), label in zip(X, y):
        if label == 0:   # upper moon: the unit circle, centre (0, 0), above the axis
            assert math.hypot(x1, x2) == pytest.approx(1.0) and x2 >= -1e-12
        else:            # lower moon: the unit circle, centre (1, 0.5), below y = 0.5
            assert math.hypot(x1 - 1.0, x2 - 0.5) == pytest.approx(1.0) and x2 <= 0.5 + 1e-12


def test_noise_free_circles_have_radius_one_and_factor():
    X, y = make_circles(40, noise=0.0, factor=0.3, seed=0)
    radii = {label: {round(math.hypot(*row), 12) for row, row_label in zip(X, y) if row_label == label}
             for label in (0, 1)}
    assert radii == {0: {1.0}, 1: {0.3}}


def test_noise_free_xor_labels_are_the_xor_of_the_signs():
    X, y = make_xor(200, noise=0.0, seed=0)
    assert all(label == int((x1 > 0) != (x2 > 0)) for (x1, x2), label in zip(X, y))


def test_noise_moves_points_by_about_its_standard_deviation():
    clean, _ = make_circles(2000, noise=0.0, seed=5)
    for noise in (0.05, 0.2):
        noisy, _ = make_circles(2000, noise=noise, seed=5)
        # the same seed gives the same shuffle, so the points correspond one to one
        offsets = [a[0] - b[0] for a, b in zip(noisy, clean)] + [a[1] - b[1] for a, b in zip(noisy, clean)]
        assert statistics.mean(offsets) == pytest.approx(0.0, abs=noise / 10)
        assert statistics.stdev(offsets) == pytest.approx(noise, rel=0.1)


def test_blobs_scatter_around_the_given_centers():
    centers = [(-3.0, 0.0), (3.0, 1.0)]
    X, y = make_blobs(1000, centers=centers, std=0.2, seed=1)
    for label, (c1, c2) in enumerate(centers):
        points = [row for row, row_label in zip(X, y) if row_label == label]
        assert statistics.mean(p[0] for p in points) == pytest.approx(c1, abs=0.05)
        assert statistics.mean(p[1] for p in points) == pytest.approx(c2, abs=0.05)


@pytest.mark.parametrize("call, message", [
    (lambda: make_moons(0), "make_moons: the count must be a whole number >= 1"),
    (lambda: make_moons(10, noise=-0.1), "noise must be a finite number >= 0"),
    (lambda: make_circles(10, factor=1.5), "factor"),
    (lambda: make_spirals(10, n_classes=0), "n_classes"),
    (lambda: make_blobs(10, centers=[]), "centers"),
    (lambda: make_xor(10, seed="one"), "seed must be an int"),
])
def test_bad_arguments_are_explained(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ------------------------------------------------ real digits and splitting helpers


def test_load_digits_gives_the_1797_real_digits_scaled_to_0_1():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X, y = nn.load_digits()
    reference = sklearn_datasets.load_digits()
    assert len(X) == len(y) == 1797 and all(len(row) == 64 for row in X)
    assert all(0.0 <= pixel <= 1.0 for row in X for pixel in row) and max(max(row) for row in X) == 1.0
    assert sorted(set(y)) == list(range(10)) and all(type(label) is int for label in y)
    assert X[5] == [float(pixel) / 16.0 for pixel in reference.data[5]] and y[5] == reference.target[5]


def test_load_digits_without_scikit_learn_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import now fails, as if not installed
    with pytest.raises(ImportError, match=r"scikit-learn, which is not installed; .*pip install 'glassgrad\[data\]'"):
        nn.load_digits()


def test_train_test_split_returns_sklearns_order_and_keeps_each_pair_together():
    X = [[float(i), float(-i)] for i in range(10)]
    y = list(range(10))
    X_train, X_test, y_train, y_test = nn.train_test_split(X, y, test_size=0.3, seed=1)
    assert len(X_test) == len(y_test) == 3 and len(X_train) == len(y_train) == 7
    assert sorted(y_train + y_test) == y
    assert all(row == [float(label), float(-label)] for row, label in zip(X_train + X_test, y_train + y_test))
    assert nn.train_test_split(X, y, test_size=0.3, seed=1) == (X_train, X_test, y_train, y_test)
    assert len(nn.train_test_split(X, y, test_size=4, seed=1)[3]) == 4


def test_train_test_split_rounds_the_test_count_up_like_scikit_learn():
    assert len(nn.train_test_split(list(range(10)), list(range(10)), test_size=0.25, seed=0)[1]) == 3


@pytest.mark.parametrize("test_size, message", [
    (0.0, r"test_size is a fraction in \(0, 1\) or a count of samples, got 0.0"),
    (1.5, r"got 1.5"), (True, r"got True"),
    (10, r"test_size=10 of 10 samples leaves 0 to train on and 10 to test on"),
])
def test_train_test_split_refuses_a_split_that_leaves_a_side_empty(test_size, message):
    with pytest.raises(ValueError, match=message):
        nn.train_test_split(list(range(10)), list(range(10)), test_size=test_size)


def test_train_test_split_refuses_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2 labels"):
        nn.train_test_split([[0.0]] * 3, [0, 1])


def test_one_hot_puts_a_single_one_at_each_class_index():
    assert nn.one_hot([2, 0, 1], 3) == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


@pytest.mark.parametrize("labels", [[3], [-1], [1.5], [True]])
def test_one_hot_refuses_a_label_that_is_not_a_class_index(labels):
    with pytest.raises(ValueError, match=rf"one_hot: label 0 is {labels[0]!r}, but a class index for 3 classes"):
        nn.one_hot(labels, 3)
