"""viz.plots: every plot saves a valid PNG, and the numbers behind each plot are right.

The models here are tiny classifiers written straight from glassgrad.engine.Value, so each
expected class or derivative can be worked out by hand (plain float arithmetic).
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in tests

from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from glassgrad.engine import Value  # noqa: E402
from glassgrad.viz.plots import (  # noqa: E402
    decision_grid,
    gradient_descent_path,
    plot_activation,
    plot_decision_boundary,
    plot_history,
    plot_loss_surface,
    predicted_class,
)


def assert_valid_png(figure: Figure, path: Path) -> None:
    figure.savefig(path)
    assert path.stat().st_size > 0
    with Image.open(path) as image:
        image.verify()  # raises on a truncated or corrupt file
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 0 and image.height > 0


def line_above_diagonal(x: list) -> Value:
    """One score: class 1 exactly where x2 > x1 + 0.25."""
    return Value(0.0) + x[1] - x[0] - 0.25


def nearest_of_three_centres(x: list) -> list[Value]:
    """Three scores: minus the squared distance to each centre, so argmax = nearest centre."""
    centres = [(-1.0, 0.0), (1.0, 0.0), (0.0, 1.5)]
    return [-((Value(x[0]) - cx) ** 2 + (Value(x[1]) - cy) ** 2) for cx, cy in centres]


SQUARE = [[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [0.0, 0.5], [0.5, 0.0]]


class History:
    """What nn.fit returns, as far as plot_history cares."""

    def __init__(self, loss: list[float], accuracy: list[float]) -> None:
        self.loss, self.accuracy = loss, accuracy


# ---------------------------------------------------------------- history


def test_plot_history_draws_loss_and_accuracy_panels_and_saves_a_png(tmp_path):
    figure = plot_history(History([1.0, 0.6, 0.3], [0.5, 0.75, 1.0]))
    loss_ax, accuracy_ax = figure.axes
    assert list(loss_ax.lines[0].get_ydata()) == [1.0, 0.6, 0.3]
    assert list(accuracy_ax.lines[0].get_ydata()) == [0.5, 0.75, 1.0]
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert_valid_png(figure, tmp_path / "history.png")


def test_plot_history_accepts_a_dict_and_draws_into_a_given_ax_with_a_second_y_axis(tmp_path):
    figure = Figure()
    ax = figure.add_subplot()
    returned = plot_history({"loss": [2.0, 1.0], "accuracy": [0.4, 0.9]}, ax=ax)
    assert returned is figure
    assert len(figure.axes) == 2  # ax and its twin for accuracy
    assert figure.axes[1].get_ylabel() == "accuracy"
    assert_valid_png(figure, tmp_path / "history_one_ax.png")


def test_plot_history_without_accuracy_draws_only_the_loss():
    figure = plot_history({"loss": [2.0, 1.0]})
    assert len(figure.axes) == 1


def test_plot_history_of_a_regression_run_with_nan_accuracy_draws_only_the_loss():
    figure = plot_history({"loss": [2.0, 1.0], "accuracy": [math.nan, math.nan]})
    assert len(figure.axes) == 1


def test_plot_history_reads_the_history_that_nn_fit_returns():
    nn = pytest.importorskip("glassgrad.nn")
    X, y = nn.make_moons(n_samples=8, seed=0)
    history = nn.fit(nn.MLP(2, [3, 1], seed=0), X, y, lr=0.1, epochs=3, progress=False)
    loss_ax, accuracy_ax = plot_history(history).axes
    assert list(loss_ax.lines[0].get_ydata()) == history.loss
    assert list(accuracy_ax.lines[0].get_ydata()) == history.accuracy


def test_plot_history_rejects_a_history_whose_lists_disagree_in_length():
    with pytest.raises(ValueError, match="3 loss values but 2 accuracy"):
        plot_history({"loss": [3.0, 2.0, 1.0], "accuracy": [0.5, 0.6]})


def test_plot_history_rejects_something_that_is_not_a_history():
    with pytest.raises(TypeError, match="'loss'"):
        plot_history([1.0, 2.0])


# ------------------------------------------------------- decision boundary


def test_predicted_class_is_sign_for_one_score_and_argmax_for_several():
    assert predicted_class(Value(0.3)) == 1
    assert predicted_class(Value(-0.3)) == 0
    assert predicted_class(Value(0.0)) == 0  # class 1 needs a score strictly above 0
    assert predicted_class([Value(0.1), Value(2.0), Value(-1.0)]) == 1
    assert predicted_class([Value(0.5)]) == 1  # a list of one score is still one score


def test_decision_grid_holds_the_models_class_at_every_grid_point():
    grid = decision_grid(line_above_diagonal, SQUARE, resolution=15)
    assert len(grid.classes) == len(grid.ys) == 15
    assert all(len(row) == len(grid.xs) == 15 for row in grid.classes)
    for row, x2 in enumerate(grid.ys):
        for col, x1 in enumerate(grid.xs):
            assert grid.classes[row][col] == (1 if x2 - x1 - 0.25 > 0 else 0)
    assert {c for row in grid.classes for c in row} == {0, 1}


def test_decision_grid_spans_the_data_widened_by_the_padding():
    grid = decision_grid(line_above_diagonal, SQUARE, resolution=5, padding=0.25)
    # the data spans [-1, 1] on both axes: 0.25 * 2 = 0.5 more on each side
    assert grid.xs == pytest.approx([-1.5, -0.75, 0.0, 0.75, 1.5])
    assert grid.ys == pytest.approx([-1.5, -0.75, 0.0, 0.75, 1.5])


def test_decision_grid_of_a_multi_output_model_picks_the_largest_score():
    grid = decision_grid(nearest_of_three_centres, SQUARE, resolution=12)
    centres = [(-1.0, 0.0), (1.0, 0.0), (0.0, 1.5)]
    for row, x2 in enumerate(grid.ys):
        for col, x1 in enumerate(grid.xs):
            distances = [(x1 - cx) ** 2 + (x2 - cy) ** 2 for cx, cy in centres]
            assert grid.classes[row][col] == distances.index(min(distances))


def test_decision_grid_class_at_finds_the_nearest_grid_point():
    grid = decision_grid(line_above_diagonal, SQUARE, resolution=21)
    assert grid.class_at(-1.0, 1.0) == 1  # far above the line
    assert grid.class_at(1.0, -1.0) == 0  # far below it
    assert grid.class_at(50.0, -50.0) == 0  # outside the grid: its nearest edge


def test_decision_grid_rejects_data_that_is_not_two_dimensional():
    with pytest.raises(ValueError, match="sample 1 has 3 features"):
        decision_grid(line_above_diagonal, [[0.0, 1.0], [1.0, 2.0, 3.0]])


@pytest.mark.parametrize("model, classes", [(line_above_diagonal, 2), (nearest_of_three_centres, 3)])
def test_plot_decision_boundary_saves_a_png_with_one_point_colour_per_class(tmp_path, model, classes):
    labels = [predicted_class(model(point)) for point in SQUARE]
    figure = plot_decision_boundary(model, SQUARE, labels, resolution=20)
    (ax,) = figure.axes
    assert "accuracy 100.0%" in ax.get_title()
    assert len(ax.collections) >= len(set(labels))  # regions, boundary and one scatter per class
    assert_valid_png(figure, tmp_path / f"boundary_{classes}.png")


def test_plot_decision_boundary_reads_minus_one_labels_as_class_zero_for_one_score():
    labels = [1 if predicted_class(line_above_diagonal(p)) else -1 for p in SQUARE]
    figure = plot_decision_boundary(line_above_diagonal, SQUARE, labels, resolution=10)
    assert "accuracy 100.0%" in figure.axes[0].get_title()


def test_plot_decision_boundary_of_a_model_that_picks_one_class_everywhere_draws_no_boundary():
    figure = plot_decision_boundary(lambda x: Value(-1.0), SQUARE, [0, 0, 0, 1, 1, 1], resolution=8)
    assert "accuracy 50.0%" in figure.axes[0].get_title()


def test_plot_decision_boundary_rejects_labels_that_do_not_match_the_samples():
    with pytest.raises(ValueError, match="6 samples in X but 2 labels"):
        plot_decision_boundary(line_above_diagonal, SQUARE, [0, 1])


# ------------------------------------------------ loss surface and descent


def bowl(w1: Value, w2: Value) -> Value:
    """A convex bowl with its minimum 0 at (1, -0.5)."""
    return (w1 - 1.0) ** 2 + 2.0 * (w2 + 0.5) ** 2


def bowl_at(point: tuple[float, ...]) -> float:
    w1, w2 = point
    return (w1 - 1.0) ** 2 + 2.0 * (w2 + 0.5) ** 2


def test_gradient_descent_on_a_convex_bowl_moves_downhill_every_step():
    path = gradient_descent_path(bowl, (-2.0, 2.0), lr=0.1, steps=30)
    assert len(path) == 31 and path[0] == (-2.0, 2.0)
    losses = [bowl_at(point) for point in path]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert path[-1] == pytest.approx((1.0, -0.5), abs=1e-2)


def test_gradient_descent_path_matches_the_closed_form_iterates():
    # On (w1-1)^2 + 2(w2+0.5)^2, one step of size lr maps w1-1 to (1-2lr)(w1-1)
    # and w2+0.5 to (1-4lr)(w2+0.5).
    lr, start = 0.05, (3.0, 1.5)
    path = gradient_descent_path(bowl, start, lr=lr, steps=10)
    for k, (w1, w2) in enumerate(path):
        assert w1 == pytest.approx(1.0 + (1 - 2 * lr) ** k * (start[0] - 1.0), rel=1e-12)
        assert w2 == pytest.approx(-0.5 + (1 - 4 * lr) ** k * (start[1] + 0.5), rel=1e-12)


def test_gradient_descent_of_one_parameter_takes_a_number_and_returns_one_tuples():
    path = gradient_descent_path(lambda w: (w - 3.0) ** 2, 0.0, lr=0.25, steps=2)
    assert path == [(0.0,), (1.5,), (2.25,)]


def test_gradient_descent_leaves_the_grads_of_other_values_unchanged():
    scale = Value(2.0, label="scale")
    scale.grad = 0.5
    gradient_descent_path(lambda w: scale * w * w, 1.0, lr=0.1, steps=3)
    assert scale.grad == 0.5


def test_gradient_descent_that_diverges_says_which_step_and_suggests_a_smaller_lr():
    with pytest.raises(OverflowError, match=r"step 2 .*smaller lr than 10"):
        gradient_descent_path(lambda w: (w * w).exp(), 3.0, lr=10.0, steps=5)


def test_gradient_descent_rejects_a_function_that_does_not_return_a_value():
    with pytest.raises(TypeError, match="must return a Value"):
        gradient_descent_path(lambda w: 1.0, 0.0)


def test_plot_loss_surface_of_two_parameters_draws_the_descent_path_and_saves_a_png(tmp_path):
    figure = plot_loss_surface(bowl, start=(-2.0, 2.0), lr=0.1, steps=15, resolution=25)
    ax = figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w1", "w2")  # bowl's own argument names
    path_line = ax.lines[0]
    expected = gradient_descent_path(bowl, (-2.0, 2.0), lr=0.1, steps=15)
    assert list(path_line.get_xdata()) == [p[0] for p in expected]
    assert list(path_line.get_ydata()) == [p[1] for p in expected]
    assert_valid_png(figure, tmp_path / "surface_2d.png")


def test_plot_loss_surface_of_one_parameter_puts_the_path_on_the_curve(tmp_path):
    def loss(w: Value) -> Value:
        return (w - 2.0) ** 2 + w.tanh()

    path = [-1.0, 0.0, 1.0, 1.5]
    figure = plot_loss_surface(loss, path=path)
    curve, path_line = figure.axes[0].lines[:2]
    assert list(path_line.get_xdata()) == path
    assert list(path_line.get_ydata()) == pytest.approx([(w - 2.0) ** 2 + math.tanh(w) for w in path])
    assert min(curve.get_xdata()) < -1.0 and max(curve.get_xdata()) > 1.5  # the path is in view
    assert_valid_png(figure, tmp_path / "surface_1d.png")


def test_plot_loss_surface_without_a_path_draws_only_the_surface(tmp_path):
    figure = plot_loss_surface(lambda w: w * w, bounds=(-3.0, 3.0))
    assert len(figure.axes[0].lines) == 1
    assert_valid_png(figure, tmp_path / "surface_only.png")


def test_plot_loss_surface_refuses_both_a_path_and_a_start():
    with pytest.raises(ValueError, match="not both"):
        plot_loss_surface(bowl, path=[(0.0, 0.0)], start=(1.0, 1.0))


def test_plot_loss_surface_outside_the_functions_domain_says_to_choose_bounds():
    with pytest.raises(ValueError, match="Choose bounds="):
        plot_loss_surface(lambda w: w.log(), bounds=(-1.0, 1.0))


# ------------------------------------------------------------- activations


def test_plot_activation_draws_the_function_and_its_derivative_from_backward(tmp_path):
    figure = plot_activation(lambda v: v.tanh(), input_range=(-3.0, 3.0), resolution=31)
    ax = figure.axes[0]
    output, derivative = ax.lines[:2]
    xs = list(output.get_xdata())
    assert list(output.get_ydata()) == pytest.approx([math.tanh(x) for x in xs])
    assert list(derivative.get_ydata()) == pytest.approx([1.0 - math.tanh(x) ** 2 for x in xs])
    assert "tanh" in ax.get_title()
    assert_valid_png(figure, tmp_path / "tanh.png")


def test_plot_activation_without_derivative_draws_one_curve():
    figure = plot_activation(lambda v: v.relu(), derivative=False)
    labels = [line.get_label() for line in figure.axes[0].lines]
    assert [label for label in labels if not label.startswith("_")] == ["relu(x)"]  # "_": axis lines


class OneInputNeuron:
    """A stand-in for nn.Neuron(1, activation="tanh"): tanh(w0*x0 + b)."""

    def __init__(self, w: float, b: float) -> None:
        self.w, self.b = [Value(w, label="w0")], Value(b, label="b")

    def __call__(self, x: list) -> Value:
        return (self.w[0] * x[0] + self.b).tanh()

    def __repr__(self) -> str:
        return "Neuron(1, tanh)"


def test_plot_activation_of_a_neuron_shows_its_slope_and_leaves_its_grads_alone(tmp_path):
    neuron = OneInputNeuron(w=1.5, b=-0.5)
    neuron.w[0].grad, neuron.b.grad = 0.25, -0.75
    figure = plot_activation(neuron, input_range=(-2.0, 2.0), resolution=21)
    output, derivative = figure.axes[0].lines[:2]
    xs = list(output.get_xdata())
    assert list(output.get_ydata()) == pytest.approx([math.tanh(1.5 * x - 0.5) for x in xs])
    slopes = [1.5 * (1 - math.tanh(1.5 * x - 0.5) ** 2) for x in xs]  # w * tanh'(w x + b)
    assert list(derivative.get_ydata()) == pytest.approx(slopes)
    assert (neuron.w[0].grad, neuron.b.grad) == (0.25, -0.75)
    assert "Neuron(1, tanh)" in figure.axes[0].get_title()
    assert_valid_png(figure, tmp_path / "neuron.png")


def test_plot_activation_of_an_nn_neuron_shows_the_chain_rule_slope():
    nn = pytest.importorskip("glassgrad.nn")
    neuron = nn.Neuron(1, activation="sigmoid", seed=3)
    figure = plot_activation(neuron, resolution=11)
    output, derivative = figure.axes[0].lines[:2]
    w, b = neuron.w[0].data, neuron.b.data

    def sigmoid(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    xs = list(output.get_xdata())
    assert list(output.get_ydata()) == pytest.approx([sigmoid(w * x + b) for x in xs])
    slopes = [w * sigmoid(w * x + b) * (1.0 - sigmoid(w * x + b)) for x in xs]
    assert list(derivative.get_ydata()) == pytest.approx(slopes)


def test_plot_activation_rejects_a_neuron_with_more_than_one_input():
    neuron = OneInputNeuron(w=1.0, b=0.0)
    neuron.w.append(Value(2.0))
    with pytest.raises(ValueError, match="neuron with 1 input.*has 2"):
        plot_activation(neuron)


def test_every_plot_draws_into_a_given_ax_and_returns_its_figure():
    figure = Figure()
    axes = figure.subplots(2, 2).ravel()
    assert plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 1.0]}, ax=axes[0]) is figure
    labels = [0] * len(SQUARE)
    assert plot_decision_boundary(line_above_diagonal, SQUARE, labels, ax=axes[1], resolution=8) is figure
    assert plot_loss_surface(bowl, start=(0.0, 0.0), steps=3, resolution=8, ax=axes[2]) is figure
    assert plot_activation(lambda v: v.sigmoid(), resolution=9, ax=axes[3]) is figure


# ------------------------------------------------- a trained moons classifier


@pytest.fixture(scope="module")
def trained_moons():
    """MLP(2, [16, 16, 1]) trained on 50 moons points by nn.fit (hinge + L2, SGD), and its
    decision grid at the default resolution."""
    nn = pytest.importorskip("glassgrad.nn")
    X, y = nn.make_moons(n_samples=50, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], seed=1)
    nn.fit(model, X, y, loss="hinge", lr=1.0, epochs=40, l2=1e-4, progress=False,
           lr_schedule=lambda epoch: 1.0 - 0.9 * epoch / 40)
    return model, X, y, decision_grid(model, X)


def test_trained_moons_grid_agrees_with_the_model_at_each_training_point(trained_moons):
    model, X, y, grid = trained_moons
    predictions = [1 if model(x).data > 0 else 0 for x in X]  # a hinge model's rule
    # A point lies between grid points; near the boundary its nearest one may differ.
    agree = sum(grid.class_at(*x) == p for x, p in zip(X, predictions))
    assert agree / len(X) > 0.95


def test_trained_moons_grid_has_both_classes_and_each_class_lies_in_its_region(trained_moons):
    model, X, y, grid = trained_moons
    assert {c for row in grid.classes for c in row} == {0, 1}
    for label in (0, 1):
        members = [x for x, t in zip(X, y) if t == label]
        inside = sum(grid.class_at(*x) == label for x in members)
        assert inside / len(members) > 0.95, f"class {label}: {inside} of {len(members)} in its region"


def test_trained_moons_decision_boundary_saves_a_png(trained_moons, tmp_path):
    model, X, y, _ = trained_moons
    assert_valid_png(plot_decision_boundary(model, X, y, resolution=30), tmp_path / "moons.png")


def test_a_new_figure_shows_itself_as_png_in_jupyter_without_pyplot() -> None:
    # IPython's display machinery is what a notebook uses for a cell's last value.
    formatters = pytest.importorskip("IPython.core.formatters")
    figure = plot_activation(lambda x: x.tanh())
    data, _ = formatters.DisplayFormatter().format(figure)
    assert data["image/png"].startswith(b"\x89PNG\r\n\x1a\n")


# ------------------------------------------------ traced forwards for nn's modules


def test_a_traced_decision_grid_of_an_nn_model_has_the_eager_class_at_every_point():
    nn = pytest.importorskip("glassgrad.nn")
    model = nn.MLP(2, [8, 8, 3], seed=2, dropout=0.3)  # eval mode inside: no dropout
    grid = decision_grid(model, SQUARE, resolution=23)
    model.eval()
    eager = [[predicted_class(model([x1, x2])) for x1 in grid.xs] for x2 in grid.ys]
    assert grid.classes == eager and len({c for row in eager for c in row}) > 1
    assert model.training is False and model.train().training


def test_the_default_grid_is_200_points_a_side_for_nn_models_and_60_for_functions():
    nn = pytest.importorskip("glassgrad.nn")
    assert len(decision_grid(nn.MLP(2, [4, 1], seed=0), SQUARE).xs) == 200
    assert len(decision_grid(line_above_diagonal, SQUARE).xs) == 60


def test_the_loss_surface_of_a_function_that_cannot_be_traced_is_drawn_point_by_point():
    def kinked(w1: Value, w2: Value) -> Value:
        return w1 * w1 + (w2 if w2.data > 0 else -w2)  # a Python branch: refused by trace

    figure = plot_loss_surface(kinked, bounds=((-1.0, 1.0), (-1.0, 1.0)), resolution=9)
    assert figure.axes[0].collections  # the contour map is drawn
    from glassgrad.engine.tape import traced_map
    assert traced_map(kinked, [(0.5, -0.5), (-1.0, 0.25)]) == [0.75, 1.25]  # eager numbers


def test_the_loss_surface_outside_the_domain_names_the_point_as_eager_mode_does():
    with pytest.raises(ValueError, match=r"the loss fails at \(-1.0, -1.0\): log\(-1.0\)"):
        plot_loss_surface(lambda w1, w2: w1.log() + w2, bounds=((-1.0, 1.0), (-1.0, 1.0)), resolution=3)
