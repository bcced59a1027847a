"""fit: the training loop, written once, with a progress bar and a History to plot.

Each step is the loop of the classic micrograd demo::

    outputs = [model(x) for x in batch]           # forward
    loss = loss_fn(outputs, labels) + l2 term
    model.zero_grad(); loss.backward()            # backward
    optimizer.step()                              # update

How an output becomes a predicted class (for the accuracy) is the one rule of
``nn.predictions``: the argmax of several outputs; for one output a threshold of 0.5
(a sigmoid's probability), halfway between the two labels (mse) or 0 (a score).
"""
from __future__ import annotations

import contextlib
import gc
import math
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from tqdm.auto import tqdm

from glassgrad.engine import Value
from glassgrad.engine.tape import (TracedMap, TraceError, flatten_results, numbers_of, trace as trace_fn,
                                   unflatten_numbers)

from .arguments import whole_number
from .losses import LABELS_AS_INPUTS, get_loss, l2 as l2_penalty, labels_as_inputs, mse
from .module import Module
from .optim import Optimizer, get_optimizer
from .predictions import ClassRule, base_loss, class_labels, class_rule, evaluation_mode, model_loss, prepare_labels
from .rng import make_rng


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch: ``loss``, ``accuracy`` and ``lr``, and
    with validation data ``val_loss`` and ``val_accuracy``.

    ``history.loss``, ``history["loss"]`` and ``history.history["loss"]`` (Keras's
    spelling) are the same list. ``loss`` is the mean
    training loss over the epoch's samples (each batch's loss weighted by its size, l2
    term included); ``accuracy`` the fraction
    of training samples classified right by the forward passes of that epoch, before
    each step's update, as the classic demo prints it (nan for regression targets).
    ``val_loss`` and ``val_accuracy`` are measured after the epoch, in eval mode.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> list[int]:
        """The epoch numbers, 1, 2, ...: the x axis of a training plot."""
        return list(range(1, len(self.loss) + 1))

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras's dict of per-epoch metrics: ``loss``, ``accuracy`` (for classification)
        and, when validation ran, ``val_loss`` and ``val_accuracy``."""
        metrics = {"loss": self.loss, "accuracy": self.accuracy,
                   "val_loss": self.val_loss, "val_accuracy": self.val_accuracy}
        return {name: values for name, values in metrics.items()
                if values and not all(math.isnan(v) for v in values)}

    def __getitem__(self, key: str) -> list:
        known = ("loss", "accuracy", "lr", "epochs", "val_loss", "val_accuracy")
        if key not in known:
            raise KeyError(f"History has {', '.join(map(repr, known))}, not {key!r}")
        return getattr(self, key)

    def __len__(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(0 epochs)"
        validation = f", val_accuracy {self.val_accuracy[-1]:.1%}" if self.val_accuracy else ""
        return (f"History({len(self)} epochs, loss {self.loss[0]:.4g} -> {self.loss[-1]:.4g}, "
                f"accuracy {self.accuracy[0]:.1%} -> {self.accuracy[-1]:.1%}{validation})")


def fit(model: Module, X: Sequence[Sequence[float]], y: Sequence, *,
        loss: str | Callable[..., Value] = "hinge", optimizer: str | Optimizer = "sgd",
        lr: float | None = None, epochs: int = 100, batch_size: int | None = None,
        l2: float = 0.0, seed: int | None = None, progress: bool = True,
        lr_schedule: Callable[[int], float] | None = None, trace: bool | None = None,
        validation_data: tuple[Sequence[Sequence[float]], Sequence] | None = None,
        on_epoch_end: Callable[[History], None] | None = None) -> History:
    """Train ``model`` on ``(X, y)`` and return the ``History``.

    loss         a name ("hinge", "mse", "bce", "softmax_cross_entropy", ...) or a
                 function (outputs, labels) -> Value. With "hinge", 0/1 labels are
                 mapped to -1/+1 (y*2 - 1) before training.
    optimizer    "sgd", "adam", "rmsprop" (made with ``lr`` if given, else the
                 optimizer's default), or an optimizer you made (then leave ``lr`` out).
    epochs       passes over the data; ``batch_size=None`` takes one step per epoch
                 on all samples, an int takes shuffled mini-batches of that size.
    l2           alpha of an alpha * sum(p^2) term added to the loss (0: none).
    seed         for the batch shuffling (None: the global ``random`` module).
    progress     show a tqdm bar (the notebook widget in Jupyter); False prints nothing.
    lr_schedule  epoch (0, 1, ...) -> learning rate, set before each epoch, e.g.
                 ``lambda k: 1.0 - 0.9 * k / 100`` as in the classic demo.
    trace        True: every step replays a compiled tape (``glassgrad.engine.trace``):
                 exactly the eager numbers (the same history, bit for bit), many
                 times faster, one tape per batch size. False: the eager engine, a graph
                 of Values per step. None (the default): True for nn's own modules
                 trained with one of nn's losses, False for anything else (your own
                 Module or loss could keep Python state a tape would not see). A model
                 that cannot be traced (a ``TraceError``, e.g. ``if v.data > 0``) is
                 trained eagerly, with a warning that says why.
    validation_data  (X_val, y_val): after each epoch, their loss (l2 term included, as
                 for ``loss``) and accuracy, in eval mode, go to ``val_loss`` and
                 ``val_accuracy``.
    on_epoch_end called with the History after each epoch (e.g. to print a line).

    ``fit`` notes the loss on the model as ``model.loss_fn``, so ``accuracy``, ``predict``,
    ``plot_decision_boundary`` and ``check_accuracy`` read its outputs the way it was trained.
    """
    loss_fn = get_loss(loss)
    inputs = [list(row) for row in X]
    labels = prepare_labels(y, len(inputs), loss_fn)
    epochs = whole_number(epochs, "fit: epochs")
    size = len(inputs) if batch_size is None else whole_number(batch_size, "fit: batch_size")
    classes = class_labels(labels)
    rule = class_rule(model, loss_fn, classes)
    if rule.labels is None and base_loss(loss_fn) is mse:
        classes = []  # many numeric targets for one output: regression, no accuracy
    if validation_data is not None:
        val_inputs = [list(row) for row in validation_data[0]]
        val_labels = prepare_labels(validation_data[1], len(val_inputs), loss_fn, where="fit: validation_data")
    opt = _make_optimizer(optimizer, model, lr)
    rng = make_rng(seed, where="fit")
    if trace is None:
        trace = made_of_nn_modules(model) and loss_fn in LABELS_AS_INPUTS
    forward = _TracedStep(model, inputs, labels, loss_fn, l2) if trace else _EagerStep(model, inputs, labels,
                                                                                      loss_fn, l2)
    history = History()
    parameters: list[Value] | None = None  # read after the first step: a Sequential may learn its size there
    was_training = model.training
    model.train()
    bar = tqdm(range(epochs), disable=not progress, desc="fit", unit="epoch")
    try:
        for epoch in bar:
            with cycle_collector_paused():
                if lr_schedule is not None:
                    opt.lr = float(lr_schedule(epoch))
                order = list(range(len(inputs)))
                if batch_size is not None:
                    rng.shuffle(order)
                loss_sum, correct = 0.0, 0
                for start in range(0, len(order), size):
                    batch = order[start:start + size]
                    total, outputs = forward(batch)
                    batch_labels = [labels[i] for i in batch]
                    if classes:  # before the step: a model that cannot classify fails unchanged
                        correct += _count_right(outputs, batch_labels, rule)
                    if parameters is None:  # once: walking the model on every step cost a fifth of a digits step
                        parameters = model.parameters()
                    for parameter in parameters:  # model.zero_grad()
                        parameter.grad = 0.0
                    total.backward()
                    opt.step()
                    loss_sum += total.data * len(batch)
                outputs = total = None  # free the last graph before the collector resumes
                history.loss.append(loss_sum / len(inputs))
                history.accuracy.append(correct / len(inputs) if classes else math.nan)
                history.lr.append(opt.lr)
                shown = {"loss": f"{history.loss[-1]:.4f}", "accuracy": f"{history.accuracy[-1]:.1%}"}
                if validation_data is not None:
                    with evaluation_mode(model):
                        penalty = l2_penalty(model.parameters(), l2).data if l2 else 0.0
                        val_outputs = outputs_of(model, val_inputs)  # one pass for the loss and the accuracy
                        history.val_loss.append(_mean_of_losses(val_outputs, val_labels, loss_fn) + penalty)
                        history.val_accuracy.append(_fraction_right(val_outputs, val_labels, rule)
                                                    if classes else math.nan)
                    shown.update(val_loss=f"{history.val_loss[-1]:.4f}",
                                 val_accuracy=f"{history.val_accuracy[-1]:.1%}")
            bar.set_postfix(shown)
            if on_epoch_end is not None:
                on_epoch_end(history)
    finally:
        bar.close()
        model.train(was_training)
    if isinstance(model, Module):
        model.loss_fn = loss_fn
    return history


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a ``with`` block.

    A glassgrad graph has no reference cycles (see engine/value.py), so reference
    counting frees each step's graph the moment it is dropped. The cyclic collector
    would only walk the live graph over and over looking for cycles that are not
    there: about 40% of a training step (measured by tests/benchmarks). ``fit`` pauses
    it for one epoch at a time, so cycles made by your own code are still collected
    between epochs; the collector's previous state is always restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def mean_loss(model: Module, X: Sequence[Sequence[float]], labels: Sequence,
              loss_fn: Callable[..., Value]) -> float:
    """The mean of ``loss_fn`` over the samples of ``X``, one sample's graph at a time.

    Every nn loss is a mean over samples, so this is ``loss_fn([model(x) for x in X],
    labels).data`` without keeping all the graphs alive at once (thousands of samples of
    a big model would not fit in memory). ``labels`` as ``prepare_labels`` makes them.
    """
    return _mean_of_losses(outputs_of(model, X), labels, loss_fn)


def _mean_of_losses(outputs: Sequence, labels: Sequence, loss_fn: Callable[..., Value]) -> float:
    with cycle_collector_paused():
        total = math.fsum(loss_fn([output], [label]).data for output, label in zip(outputs, labels))
    return total / len(labels)


def outputs_of(model: Callable[[list[float]], object], X: Sequence[Sequence[float]]) -> list:
    """The model's output numbers for each row of ``X`` (a float, or a list of floats).

    nn's own modules run through a compiled tape (``engine.tape.TracedMap``), which gives
    eager's numbers many times faster; the tape is kept for the model's next call (each
    epoch's validation), and made anew if the model's parameters are no longer the same
    Values. Any other model is called row by row.
    """
    if not (isinstance(model, Module) and made_of_nn_modules(model)):
        with cycle_collector_paused():
            return [numbers_of(model(list(row))) for row in X]
    if not X:
        return []
    try:
        parameters = tuple(id(p) for p in model.parameters())
    except RuntimeError:  # a Sequential learns its input size from the first sample it sees
        model(list(X[0]))
        parameters = tuple(id(p) for p in model.parameters())
    kept = _TRACED_FORWARDS.get(model)
    if kept is None or kept[0] != parameters:
        reference = weakref.ref(model)  # the tape must not keep the model alive

        def forward(*x: Value) -> object:
            alive = reference()
            assert alive is not None  # the WeakKeyDictionary entry goes with the model
            return alive(list(x))

        kept = _TRACED_FORWARDS[model] = (parameters, TracedMap(forward))
    with cycle_collector_paused():  # recording a tape makes many Values: see cycle_collector_paused
        return kept[1](X)


_TRACED_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> (its parameters, tape)


def predict(model: Callable[[list[float]], object], X: Sequence[Sequence[float]], *,
            loss: str | Callable[..., Value] | None = None,
            classes: Sequence[int] = (0, 1)) -> list[int]:
    """The predicted class of each row of ``X``, by the rule of ``nn.predictions``.

    ``loss`` is the loss the model was trained with (default: the one it notes as
    ``model.loss_fn``); ``classes`` are the two labels (negative, positive) a
    single-output model chooses between.
    """
    rule = class_rule(model, loss, classes)
    return [rule.label(output) for output in outputs_of(model, X)]


def accuracy(model: Callable[[list[float]], object], X: Sequence[Sequence[float]], y: Sequence[int], *,
             loss: str | Callable[..., Value] | None = None) -> float:
    """The fraction of samples whose predicted class equals the label (0/1 labels work
    with hinge). ``loss`` as for ``predict``. The model runs in its current mode: call
    ``model.eval()`` first if it has Dropout."""
    loss_fn = model_loss(model, loss)
    labels = prepare_labels(y, len(X), loss_fn, where="accuracy")
    classes = class_labels(labels)
    if not classes:
        raise ValueError("accuracy: the labels are not whole numbers (regression targets)")
    predicted = predict(model, X, loss=loss_fn, classes=classes)
    return sum(p == label for p, label in zip(predicted, labels)) / len(labels)


# ------------------------------------------------------ one step's forward pass


class _EagerStep:
    """``step(batch)`` -> (loss Value, the model's outputs): a new graph of Values per step."""

    def __init__(self, model: Module, inputs: list, labels: list, loss_fn: Callable[..., Value],
                 l2: float) -> None:
        self.model, self.inputs, self.labels, self.loss_fn, self.l2 = model, inputs, labels, loss_fn, l2

    def __call__(self, batch: list[int]) -> tuple:
        return self.loss_of([self.inputs[i] for i in batch], [self.labels[i] for i in batch])

    def loss_of(self, rows: list, labels: list) -> tuple[Value, list]:
        outputs = [self.model(x) for x in rows]
        total = self.loss_fn(outputs, labels)
        if self.l2:
            total = total + l2_penalty(self.model.parameters(), self.l2)
        return total, outputs


class _TracedStep:
    """The same step replayed from a tape. The labels go in as float inputs (one-hot rows
    for softmax cross-entropy, see ``nn.losses.labels_as_inputs``), so one tape serves
    every batch of a size; a loss of your own gets its labels as they are, which records
    a tape per batch of labels (correct, not fast). The outputs come back as numbers."""

    def __init__(self, model: Module, inputs: list, labels: list, loss_fn: Callable[..., Value],
                 l2: float) -> None:
        form = labels_as_inputs(loss_fn)
        self.inputs = [[float(x) for x in row] for row in inputs]
        self.labels = labels if form is None else form.encode(labels)
        self.eager = _EagerStep(model, inputs, labels, loss_fn, l2)
        self.recorded = _EagerStep(model, inputs, labels, loss_fn if form is None else form.loss, l2)
        self.shapes: dict[int, list[int | None]] = {}  # batch size -> the shape of each output
        self.traced = trace_fn(self._flat_step, static_argnums=() if form is not None else (1,))
        self.untraceable = False

    def _flat_step(self, rows: list, labels: list) -> list[Value]:
        total, outputs = self.recorded.loss_of(rows, labels)
        flat, self.shapes[len(rows)] = flatten_results(outputs)
        return [total, *flat]

    def __call__(self, batch: list[int]) -> tuple:
        if self.untraceable:
            return self.eager(batch)
        try:
            results = self.traced([self.inputs[i] for i in batch], [self.labels[i] for i in batch])
        except TraceError as error:
            warnings.warn(f"fit: training eagerly, this model cannot be traced: {error}", stacklevel=3)
            self.untraceable = True
            return self.eager(batch)
        assert isinstance(results, list)  # _flat_step returns a list of Values
        total, *flat = results
        return total, unflatten_numbers([o.data for o in flat], self.shapes[len(batch)])


def made_of_nn_modules(model: object) -> bool:
    """Is ``model`` made only of glassgrad.nn's own modules? Then tracing it is safe: they
    make no Python decision on a number and keep no state a tape would not see."""
    return isinstance(model, Module) and all(type(m).__module__.startswith("glassgrad.nn.")
                                             for m in model.modules())


# ---------------------------------------------------------------- helpers


def _count_right(outputs: Sequence, labels: Sequence, rule: ClassRule) -> int:
    return sum(rule.label(output) == label for output, label in zip(outputs, labels))


def _fraction_right(outputs: Sequence, labels: Sequence, rule: ClassRule) -> float:
    return _count_right(outputs, labels, rule) / len(labels)


def _make_optimizer(optimizer: str | Optimizer, model: Module, lr: float | None) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("fit: lr= is for an optimizer given by name; set the lr of the "
                             "optimizer you made instead")
        return optimizer
    options = {} if lr is None else {"lr": lr}
    return get_optimizer(optimizer, model.parameters(), **options)
