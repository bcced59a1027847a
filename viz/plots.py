"""Plots of training runs and of the maths behind them, with matplotlib.

Every function returns a ``matplotlib.figure.Figure``. Pass ``ax=`` to draw into an
Axes of your own (the function then returns ``ax.figure``, a ``SubFigure`` if the Axes
is in one, hence the ``Figure | SubFigure`` return type); without it a new Figure is
made with ``matplotlib.figure.Figure`` itself, not pyplot, so nothing here touches
pyplot's global state or calls ``plt.show()``. A returned Figure shows itself in
Jupyter; in a script, save it: ``fig.savefig("loss.png")``.

* ``plot_history``: loss and accuracy per epoch, from ``nn.fit``'s History;
* ``decision_grid`` and ``plot_decision_boundary``: the class a 2-D classifier picks
  everywhere around its data;
* ``gradient_descent_path`` and ``plot_loss_surface``: a loss of one or two parameters
  and the path gradient descent takes down it;
* ``plot_activation``: a neuron's (or a function's) output over its input, with the
  derivative that ``backward()`` finds.

Gradients come from the engine's ``backward()``: nothing here differentiates anything.
"""
from __future__ import annotations

import inspect
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator

from glassgrad.engine import Value, kept_gradients, topological_order
from glassgrad.engine.tape import traced_map
from glassgrad.nn.predictions import (ClassRule, class_labels, class_rule, evaluation_mode,
                                      model_loss, prepare_labels)
from glassgrad.nn.train import made_of_nn_modules, outputs_of

# One colour per class (colour-blind friendly), for regions and points alike.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


class PlotFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter, without pyplot.

    Jupyter draws a bare Figure only once pyplot has set up its inline backend; this
    one carries its own picture, so the last line of a cell shows the plot either way.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def new_figure(figsize: tuple[float, float] = (6.0, 4.5)) -> PlotFigure:
    """A new, empty Figure (constrained layout) that shows itself as a picture in Jupyter,
    however the notebook started: ``fig = new_figure((13, 3.5)); axes = fig.subplots(1, 3)``."""
    return PlotFigure(figsize=figsize, layout="constrained")


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.5)
                     ) -> tuple[Figure | SubFigure, Axes]:
    """``ax`` and its figure, or a new Figure with one Axes."""
    if ax is not None:
        return ax.figure, ax
    figure = new_figure(figsize)
    return figure, figure.add_subplot()


# ---------------------------------------------------------------- training history


def plot_history(history: object, ax: Axes | None = None) -> Figure | SubFigure:
    """Loss (and accuracy, if recorded) per epoch.

    ``history`` is the History that ``nn.fit`` returns, or anything with ``loss`` and
    ``accuracy`` lists (attributes or dict keys), one number per epoch. Without ``ax``
    the two curves get a panel each; with ``ax`` they share it, accuracy on a second
    y-axis on the right.
    """
    loss = _series(history, "loss")
    accuracy = _series(history, "accuracy", required=False)
    if all(math.isnan(a) for a in accuracy):  # nn.fit records nan for regression targets
        accuracy = []
    if not loss:
        raise ValueError("plot_history: the history has no loss values (train for at least one epoch)")
    if accuracy and len(accuracy) != len(loss):
        raise ValueError(
            f"plot_history: {len(loss)} loss values but {len(accuracy)} accuracy values; "
            "a history has one of each per epoch"
        )
    epochs = range(1, len(loss) + 1)
    if ax is not None:
        figure, loss_ax = ax.figure, ax
        accuracy_ax = ax.twinx() if accuracy else None
    else:
        figure = PlotFigure(figsize=(10.0 if accuracy else 6.0, 4.0), layout="constrained")
        axes = figure.subplots(1, 2 if accuracy else 1, squeeze=False)[0]
        loss_ax, accuracy_ax = axes[0], (axes[1] if accuracy else None)
    loss_ax.plot(epochs, loss, color=CLASS_COLOURS[0], label="loss")
    loss_ax.set_ylabel("loss", color=CLASS_COLOURS[0])
    loss_ax.set_title("training loss and accuracy" if ax is not None and accuracy else "training loss")
    for epoch_ax in (loss_ax, accuracy_ax if ax is None else None):
        if epoch_ax is not None:
            epoch_ax.set_xlabel("epoch")
            epoch_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if accuracy_ax is not None:
        accuracy_ax.plot(epochs, accuracy, color=CLASS_COLOURS[1], label="accuracy")
        accuracy_ax.set_ylabel("accuracy", color=CLASS_COLOURS[1])
        if ax is None:
            accuracy_ax.set_title("training accuracy")
        if all(0.0 <= a <= 1.0 for a in accuracy):
            accuracy_ax.set_ylim(-0.02, 1.02)
    return figure


def _series(history: object, key: str, required: bool = True) -> list[float]:
    """``history.key`` or ``history[key]`` as a list of floats."""
    if isinstance(history, Mapping):
        values = history.get(key)
    else:
        values = getattr(history, key, None)
    if values is None:
        if required:
            raise TypeError(
                f"plot_history needs a History from glassgrad.nn.fit or a dict with a {key!r} list, "
                f"got {type(history).__name__}"
            )
        return []
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError):
        raise TypeError(f"plot_history: {key!r} must be a list of numbers, got {values!r}") from None


# --------------------------------------------------------------- decision boundary


@dataclass(frozen=True)
class DecisionGrid:
    """A classifier's choice of class at every point of a grid.

    ``classes[row][col]`` is the class at the point ``(xs[col], ys[row])``: rows go up
    the x2 axis, columns along the x1 axis, as matplotlib's ``contourf(xs, ys, classes)``
    expects.
    """

    xs: list[float]
    ys: list[float]
    classes: list[list[int]]

    def class_at(self, x1: float, x2: float) -> int:
        """The class of the grid point nearest to ``(x1, x2)``."""
        return self.classes[_nearest_index(self.ys, x2)][_nearest_index(self.xs, x1)]


def _nearest_index(coordinates: list[float], x: float) -> int:
    step = (coordinates[-1] - coordinates[0]) / (len(coordinates) - 1)
    return min(max(round((x - coordinates[0]) / step), 0), len(coordinates) - 1)


def predicted_class(output: object, rule: ClassRule | None = None) -> int:
    """The class index (0, 1, ...) a model's output stands for, by ``rule``.

    ``rule`` comes from ``nn.class_rule`` (see ``nn.predictions``); without it one output
    is read as a score: class 1 if s > 0, else class 0 (the hinge and logistic losses'
    convention). A list of several outputs: the index of the largest (the first on a tie).
    """
    return (rule or ClassRule()).index(output)


def decision_grid(
    model: Callable[[list[float]], object],
    X: Sequence[Sequence[float]],
    *,
    resolution: int | None = None,
    padding: float = 0.15,
    rule: ClassRule | None = None,
) -> DecisionGrid:
    """Evaluate a 2-D classifier on a ``resolution`` x ``resolution`` grid around ``X``
    (default: 200 for a model made of nn's modules, else 60).

    The grid spans the data's bounding box widened by ``padding`` times its extent on
    each side. ``model`` is evaluated at every grid point on a list of two numbers (no
    gradients are involved), in eval mode (Dropout off), and its output read by ``rule``
    (default: ``nn.class_rule(model)``, labels 0/1). A model made of nn's modules runs
    as a traced forward (``engine.tape.traced_map``: one small tape, replayed in NumPy),
    so the 200 x 200 grid of an MLP(2, [16, 16, 1]) takes about a second, where a graph
    of Values per point would take a minute. Any other model (a function of your own)
    is called point by point on plain floats, as it expects, on a 60 x 60 grid.
    """
    points = _points_2d(X, "decision_grid")
    if resolution is None:
        resolution = 200 if made_of_nn_modules(model) else 60
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"decision_grid: resolution must be an int >= 2, got {resolution!r}")
    xs = _grid_axis([p[0] for p in points], padding, resolution)
    ys = _grid_axis([p[1] for p in points], padding, resolution)
    rule = rule or class_rule(model)
    outputs = _outputs_of(model, [(x1, x2) for x2 in ys for x1 in xs])
    classes = [[rule.index(output) for output in outputs[row * resolution:(row + 1) * resolution]]
               for row in range(resolution)]
    return DecisionGrid(xs, ys, classes)


def _outputs_of(model: Callable[[list[float]], object], points: Sequence[Sequence[float]]) -> list:
    """``model(list(point))`` at every point, as numbers (a float or a list of floats per
    point), in eval mode; through a traced forward for nn's own modules."""
    with evaluation_mode(model):
        return outputs_of(model, points)


def _points_2d(X: Sequence[Sequence[float]], where: str) -> list[tuple[float, float]]:
    points = []
    for i, row in enumerate(X):
        if len(row) != 2:
            raise ValueError(f"{where}: sample {i} has {len(row)} features; these plots need exactly 2")
        points.append((float(row[0]), float(row[1])))
    if not points:
        raise ValueError(f"{where}: X is empty; give at least one [x1, x2] sample")
    return points


def _grid_axis(values: list[float], padding: float, resolution: int) -> list[float]:
    low, high = min(values), max(values)
    margin = padding * (high - low) if high > low else 1.0
    low, high = low - margin, high + margin
    return [low + (high - low) * i / (resolution - 1) for i in range(resolution)]


def plot_decision_boundary(
    model: Callable[[list[float]], object],
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    ax: Axes | None = None,
    *,
    resolution: int | None = None,
    padding: float = 0.15,
    loss: str | Callable[..., Value] | None = None,
) -> Figure | SubFigure:
    """The regions a 2-D classifier assigns to each class, with its data on top.

    ``model([x1, x2])`` returns one output or a list of scores (the class is the argmax),
    read by the rule of ``nn.predictions``, as ``nn.accuracy`` reads it: a sigmoid
    output is a probability (class 1 where p > 0.5), an mse-trained output is split
    halfway between the labels, any other one output is a score (class 1 where it is
    > 0). ``loss`` is the loss the model was trained with (default: the one it notes as
    ``model.loss_fn``). See ``decision_grid`` for the grid and its cost. Labels ``y`` are
    class indices 0..k-1, or two labels for a one-output model ({-1, +1} hinge labels
    work too: the larger is class 1). The model runs in eval mode; the title gives the
    accuracy on (X, y).
    """
    points = _points_2d(X, "plot_decision_boundary")
    if len(y) != len(points):
        raise ValueError(f"plot_decision_boundary: {len(points)} samples in X but {len(y)} labels in y")
    outputs = _outputs_of(model, points)
    one_score = not isinstance(outputs[0], Sequence) or len(outputs[0]) == 1
    given = prepare_labels(y, len(points), model_loss(model, loss), where="plot_decision_boundary")
    rule = class_rule(model, loss, class_labels(given) if one_score else (0, 1))
    if not one_score:
        labels = [int(label) for label in given]
    elif rule.labels is None:
        raise ValueError(f"plot_decision_boundary: a model with one output separates two classes, "
                         f"but y has {len(set(given))}")
    else:
        labels = [int(label == rule.labels[1]) for label in given]
    if min(labels) < 0:
        raise ValueError(
            f"plot_decision_boundary: labels of a model with several outputs are class indices "
            f"0, 1, 2...; got {min(labels)}"
        )
    grid = decision_grid(model, points, resolution=resolution, padding=padding, rule=rule)
    predictions = [rule.index(output) for output in outputs]
    n_classes = max(2, 1 + max(max(labels), max(max(row) for row in grid.classes)))
    if n_classes > len(CLASS_COLOURS):
        raise ValueError(
            f"plot_decision_boundary: {n_classes} classes; "
            f"at most {len(CLASS_COLOURS)} can be told apart"
        )

    figure, ax = _figure_and_axes(ax)
    present = sorted({c for row in grid.classes for c in row})
    for k in present:
        # One filled region per class, from its 0/1 indicator: contouring the class
        # index itself would paint a thin band of class 1 between classes 0 and 2.
        inside = [[1.0 if c == k else 0.0 for c in row] for row in grid.classes]
        ax.contourf(grid.xs, grid.ys, inside, levels=[0.5, 1.5], colors=[CLASS_COLOURS[k]], alpha=0.3)
        if len(present) > 1:
            ax.contour(grid.xs, grid.ys, inside, levels=[0.5], colors="black", linewidths=0.8)
    for k in range(n_classes):
        members = [point for point, label in zip(points, labels) if label == k]
        if members:
            ax.scatter([p[0] for p in members], [p[1] for p in members], s=24, color=CLASS_COLOURS[k],
                       edgecolors="black", linewidths=0.5, label=f"class {k}")
    accuracy = sum(p == t for p, t in zip(predictions, labels)) / len(labels)
    ax.set_title(f"decision boundary (accuracy {accuracy:.1%})")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="best", fontsize="small")
    return figure


# ------------------------------------------------------ loss surface and descent


def _value_and_gradient(
    fn: Callable[..., Value], point: Sequence[float], names: Sequence[str]
) -> tuple[Value, list[float]]:
    """The Value fn(*point) and its gradient, by ``backward()`` on fresh leaf Values.

    ``fn`` may use Values of its own (data, other parameters): backward adds to their
    grads too, so those are put back as they were; a plot must not change a model.
    """
    inputs = [Value(x, label=name) for x, name in zip(point, names)]
    out = fn(*inputs)
    if not isinstance(out, Value):
        raise TypeError(
            f"the function must return a Value computed from its inputs, got "
            f"{type(out).__name__} {out!r}"
        )
    own_inputs = set(inputs)
    other_leaves = [node for node in topological_order(out)
                    if not node.inputs and node not in own_inputs]
    with kept_gradients(other_leaves):
        out.backward()
    return out, [x.grad for x in inputs]


def _positional_names(fn: Callable[..., object]) -> list[str]:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return []
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _parameter_names(fn: Callable[..., object], count: int) -> list[str]:
    """fn's own argument names when it has ``count`` of them (``lambda w, b: ...``), else w0, w1..."""
    names = _positional_names(fn)
    return names if len(names) == count else [f"w{i}" for i in range(count)]


def _as_point(point: float | Sequence[float], where: str) -> tuple[float, ...]:
    coordinates = (point,) if isinstance(point, (int, float)) else tuple(point)
    if not 1 <= len(coordinates) <= 2:
        raise ValueError(f"{where}: points have 1 or 2 coordinates (one per parameter), got {point!r}")
    return tuple(float(x) for x in coordinates)


def gradient_descent_path(
    fn: Callable[..., Value],
    start: float | Sequence[float],
    lr: float = 0.1,
    steps: int = 20,
) -> list[tuple[float, ...]]:
    """The points gradient descent visits on ``fn`` from ``start``: steps + 1 of them.

    ``fn`` takes one Value per parameter and returns the loss as a Value. Each step
    computes the gradient with ``backward()`` and moves against it:
    ``w <- w - lr * dL/dw``. Points are tuples, ``(w,)`` for one parameter.
    """
    point = _as_point(start, "gradient_descent_path")
    names = _parameter_names(fn, len(point))
    path = [point]
    for step in range(steps):
        try:
            _, gradient = _value_and_gradient(fn, point, names)
        except (OverflowError, ValueError, ZeroDivisionError) as error:
            raise type(error)(
                f"gradient descent step {step + 1} at {point}: {error}. If the path diverged, "
                f"try a smaller lr than {lr}"
            ) from error
        point = tuple(w - lr * g for w, g in zip(point, gradient))
        path.append(point)
    return path


def plot_loss_surface(
    fn: Callable[..., Value],
    *,
    path: Sequence[float | Sequence[float]] | None = None,
    start: float | Sequence[float] | None = None,
    lr: float = 0.1,
    steps: int = 20,
    bounds: Sequence[float] | Sequence[Sequence[float]] | None = None,
    resolution: int | None = None,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """A loss of one parameter (a curve) or two (a contour map), with a descent path.

    ``fn`` takes one Value per parameter and returns a Value. Give the path as a list of
    points (``path=``), or give ``start=`` (and ``lr``, ``steps``) to run
    ``gradient_descent_path``; with neither, only the surface is drawn. ``bounds`` is
    ``(low, high)`` for one parameter or ``((low1, high1), (low2, high2))`` for two;
    the default frames the path. ``resolution`` defaults to 200 points for a curve and a
    200 x 200 grid for a contour map, evaluated through a traced ``fn``
    (``engine.tape.traced_map``), or point by point if ``fn`` cannot be traced.
    """
    if path is not None and start is not None:
        raise ValueError("plot_loss_surface: give path= or start=, not both")
    if start is not None:
        path = gradient_descent_path(fn, start, lr=lr, steps=steps)
    points = [_as_point(p, "plot_loss_surface") for p in path] if path else []
    n_params = len(points[0]) if points else len(_positional_names(fn))
    if n_params not in (1, 2):
        raise ValueError(
            "plot_loss_surface: cannot tell whether fn takes 1 or 2 parameters; give path= or start="
        )
    if any(len(p) != n_params for p in points):
        raise ValueError(
            "plot_loss_surface: every point of the path needs the same number of coordinates"
        )
    names = _parameter_names(fn, n_params)
    ranges = _surface_bounds(bounds, points, n_params)

    def loss_at(*coordinates: float) -> float:
        try:
            return fn(*(Value(x) for x in coordinates)).data
        except (OverflowError, ValueError, ZeroDivisionError) as error:
            raise type(error)(
                f"plot_loss_surface: the loss fails at {coordinates}: {error}. "
                "Choose bounds= inside the function's domain"
            ) from error

    def losses_at(points: list[tuple[float, ...]]) -> list[float]:
        try:
            return traced_map(fn, points)
        except (OverflowError, ValueError, ZeroDivisionError):
            return [loss_at(*point) for point in points]  # eager: names the point where it fails

    figure, ax = _figure_and_axes(ax)
    count = resolution or 200
    if n_params == 1:
        (low, high), = ranges
        ws = [low + (high - low) * i / (count - 1) for i in range(count)]
        ax.plot(ws, losses_at([(w,) for w in ws]), color=CLASS_COLOURS[0], label="loss")
        ax.set_xlabel(names[0])
        ax.set_ylabel("loss")
        path_xs, path_ys = [p[0] for p in points], [loss_at(p[0]) for p in points]
    else:
        (low1, high1), (low2, high2) = ranges
        w1s = [low1 + (high1 - low1) * i / (count - 1) for i in range(count)]
        w2s = [low2 + (high2 - low2) * i / (count - 1) for i in range(count)]
        flat = losses_at([(w1, w2) for w2 in w2s for w1 in w1s])
        losses = [flat[row * count:(row + 1) * count] for row in range(count)]
        filled = ax.contourf(w1s, w2s, losses, levels=20, cmap="viridis")
        ax.contour(w1s, w2s, losses, levels=20, colors="white", linewidths=0.4, alpha=0.6)
        figure.colorbar(filled, ax=ax, label="loss")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        path_xs, path_ys = [p[0] for p in points], [p[1] for p in points]
    if points:
        ax.plot(path_xs, path_ys, "o-", color=CLASS_COLOURS[3], markersize=3, linewidth=1.2,
                label=f"gradient descent ({len(points) - 1} steps)")
        ax.plot(path_xs[:1], path_ys[:1], "s", color=CLASS_COLOURS[3], markersize=7, label="start")
        ax.plot(path_xs[-1:], path_ys[-1:], "*", color="gold", markeredgecolor="black", markersize=12,
                label="end")
        ax.legend(loc="best", fontsize="small")
    ax.set_title("loss surface" + (" and the gradient descent path" if points else ""))
    return figure


def _surface_bounds(
    bounds: Sequence[float] | Sequence[Sequence[float]] | None, points: list[tuple[float, ...]], n_params: int
) -> list[tuple[float, float]]:
    """(low, high) for each parameter: from ``bounds``, or around the path."""
    if bounds is not None:
        pairs: list[Any] = [bounds] if n_params == 1 else list(bounds)  # each unpacked as (low, high) below
        ranges = [(float(low), float(high)) for low, high in pairs]
        if len(ranges) != n_params or any(low >= high for low, high in ranges):
            raise ValueError(
                f"plot_loss_surface: bounds must be {n_params} (low, high) pair(s) "
                f"with low < high, got {bounds!r}"
            )
        return ranges
    if not points:
        return [(-2.0, 2.0)] * n_params
    ranges = []
    for axis in range(n_params):
        low, high = min(p[axis] for p in points), max(p[axis] for p in points)
        margin = max(0.5 * (high - low), 1.0)
        ranges.append((low - margin, high + margin))
    return ranges


# -------------------------------------------------------------------- activations


def plot_activation(
    neuron_or_fn: Callable[..., Value],
    *,
    input_range: tuple[float, float] = (-4.0, 4.0),
    resolution: int = 201,
    derivative: bool = True,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """A neuron's output over its input, and (``derivative=True``) d output / d input.

    ``neuron_or_fn`` is a one-input neuron (anything with ``w``, ``b`` and a call on a
    list, like ``nn.Neuron(1, activation="tanh")``), or a function of one Value such as
    ``lambda x: x.tanh()``. The derivative at each point comes from ``backward()``;
    the neuron's own gradients are left as they were.
    """
    if hasattr(neuron_or_fn, "w") and hasattr(neuron_or_fn, "b"):
        inputs = len(neuron_or_fn.w)
        if inputs != 1:
            raise ValueError(
                f"plot_activation needs a neuron with 1 input; {neuron_or_fn!r} has {inputs}. "
                "Plot a 1-input neuron, or a function of one Value"
            )
        neuron = neuron_or_fn

        def fn(x: Value) -> Value:
            return neuron([x])

        name = repr(neuron)
    else:
        fn = neuron_or_fn
        name = ""
    low, high = (float(x) for x in input_range)
    if not (low < high and resolution >= 2):
        raise ValueError(
            f"plot_activation: need input_range low < high and resolution >= 2, "
            f"got {input_range!r} and {resolution!r}"
        )
    xs = [low + (high - low) * i / (resolution - 1) for i in range(resolution)]
    outputs, slopes = [], []
    for x in xs:
        output, (slope,) = _value_and_gradient(fn, (x,), ("x",))
        outputs.append(output.data)
        slopes.append(slope)
    if not name:  # name a plain function after its last op: "tanh"
        name = f"{output.op.name}(x)" if output.op is not None else "f(x)"

    figure, ax = _figure_and_axes(ax)
    ax.plot(xs, outputs, color=CLASS_COLOURS[0], label=name)
    if derivative:
        ax.plot(xs, slopes, color=CLASS_COLOURS[1], linestyle="--", label="d output / dx (backward)")
    ax.axhline(0.0, color="grey", linewidth=0.5)
    ax.axvline(0.0, color="grey", linewidth=0.5)
    ax.set_xlabel("x (input)")
    ax.set_ylabel("output")
    ax.set_title(f"{name}" + (" and its derivative" if derivative else ""))
    ax.legend(loc="best", fontsize="small")
    return figure
