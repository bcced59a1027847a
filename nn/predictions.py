"""predictions: the one rule for which class a model's output means, and for its labels.

Everything that turns outputs into classes reads this module: ``nn.fit``'s accuracy,
``nn.predict``, ``nn.accuracy``, ``Sequential.evaluate``, ``nn.checks.check_accuracy``,
``viz.plots.plot_decision_boundary`` and the demo. So they always agree.

What a single output means depends on what the model ends with and on what the loss
trained it to be, so the rule reads both: the model's declared output activation
(``MLP(..., output_activation=...)``, a ``Sequential``'s last ``Dense``, a ``Neuron``'s or
``Layer``'s ``activation``) and the loss it was trained with (given as ``loss=``, else the
one ``Sequential.compile`` or the last ``nn.fit`` noted as ``model.loss_fn``). A loss
wrapped with ``functools.partial`` or ``functools.wraps`` counts as the loss it wraps.

    outputs   last activation   loss                 an output is    predicted class
    -------   ---------------   ------------------   -------------   ------------------------
    several   any               any                  one per class   the index of the largest
    one       sigmoid, step     any                  a probability   positive if p > 0.5
    one       other/unknown     mse                  a regression    positive if y > midpoint
                                                     value           of the two labels
    one       other/unknown     hinge, bce, custom   a score/logit   positive if s > 0

"positive" is the larger of the two labels: 1 for labels {0, 1}, +1 for {-1, +1}. The
midpoint for mse is (negative + positive) / 2: 0.5 for labels {0, 1}, 0 for {-1, +1}.
A sigmoid's p > 0.5 is the same boundary as its logit z > 0.

Labels: whole numbers (1.0 -> 1) are made ints, and for hinge, whose labels must be
-1 or +1, labels 0/1 become -1/+1 (y*2 - 1): ``prepare_labels``. The two-class losses
(hinge, bce) refuse other whole-number labels there, before any mapping, so the error
names the label the caller gave (a 2 of three classes, not the 3 that y*2 - 1 makes).
"""
from __future__ import annotations

import contextlib
import functools
import numbers
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from glassgrad.engine import Value

from .layers import Layer, Neuron
from .losses import binary_cross_entropy_with_logits, get_loss, hinge, mse
from .module import Module

PROBABILITY_OUTPUTS = ("sigmoid", "step")  # one output in [0, 1]: split at 0.5


@dataclass(frozen=True)
class ClassRule:
    """How one model's outputs become classes (made by ``class_rule``).

    threshold  a single output above it means the positive class;
    labels     (negative, positive) labels of a single output, or None when the labels
               have more than two classes (then only several outputs can be read);
    reads      what a single output is: "probability", "value" (mse) or "score".
    """

    threshold: float = 0.0
    labels: tuple[int, int] | None = (0, 1)
    reads: str = "score"

    def index(self, output: object) -> int:
        """0, 1, ...: the argmax of several outputs; for one, 1 if above the threshold else 0."""
        scores = [_score(o) for o in output] if isinstance(output, (list, tuple)) else [_score(output)]
        if not scores:
            raise ValueError("the model returned an empty list of outputs")
        if len(scores) == 1:
            return 1 if scores[0] > self.threshold else 0
        return max(range(len(scores)), key=scores.__getitem__)  # the first on a tie

    def label(self, output: object) -> int:
        """The predicted label: the argmax index, or the negative / positive label of one output."""
        index = self.index(output)
        if isinstance(output, (list, tuple)) and len(output) > 1:
            return index
        if self.labels is None:
            raise ValueError("the model has one output, which can only separate two classes, but "
                             "the labels have more; give the last layer one neuron per class and "
                             "use loss='softmax_cross_entropy'")
        return self.labels[index]


def class_rule(model: object, loss: str | Callable[..., Value] | None = None,
               classes: Sequence[int] = (0, 1)) -> ClassRule:
    """The rule of the module docstring for ``model`` trained with ``loss`` on ``classes``."""
    base = base_loss(model_loss(model, loss))
    pair = label_pair(classes)
    if output_activation(model) in PROBABILITY_OUTPUTS:
        return ClassRule(0.5, pair, "probability")
    if base is mse and pair is not None:
        return ClassRule((pair[0] + pair[1]) / 2, pair, "value")
    return ClassRule(0.0, pair, "score")


def model_loss(model: object, loss: str | Callable[..., Value] | None = None
               ) -> Callable[..., Value] | None:
    """``loss`` (a name or function), else the loss the model notes as ``loss_fn``, else None."""
    if loss is not None:
        return get_loss(loss)
    return getattr(model, "loss_fn", None)


def base_loss(loss_fn: Callable | None) -> Callable | None:
    """The loss under any ``functools.partial`` and ``functools.wraps`` wrappers."""
    seen = set()
    while loss_fn is not None and id(loss_fn) not in seen:
        seen.add(id(loss_fn))  # a wrapper that names itself would loop forever
        if isinstance(loss_fn, functools.partial):
            loss_fn = loss_fn.func
        elif (wrapped := getattr(loss_fn, "__wrapped__", None)) is not None:
            loss_fn = wrapped
        else:
            break
    return loss_fn


def output_activation(model: object) -> str | None:
    """The activation the model declares for its output, or None if it declares none."""
    declared = getattr(model, "output_activation", None)
    if declared is None and isinstance(model, (Neuron, Layer)):
        declared = model.activation  # its only activation is the output's
    return declared


def label_pair(classes: Sequence[int]) -> tuple[int, int] | None:
    """(negative, positive) labels for a single output, or None if there are more than two."""
    distinct = sorted(set(classes))
    if set(distinct) <= {0, 1}:
        return (0, 1)
    if set(distinct) <= {-1, 1}:
        return (-1, 1)
    return (distinct[0], distinct[1]) if len(distinct) == 2 else None


def class_labels(labels: Sequence) -> list[int]:
    """The sorted distinct labels, or [] if they are not all whole numbers (regression)."""
    if all(isinstance(label, numbers.Integral) for label in labels):
        return sorted(set(labels))
    return []


def prepare_labels(y: Sequence, count: int, loss: str | Callable[..., Value] | None,
                   where: str = "fit") -> list:
    """Labels as Python ints where they are whole numbers; 0/1 -> -1/+1 for hinge.

    ``count`` is the number of samples in X; ``where`` names the caller in errors.
    """
    if count == 0:
        raise ValueError(f"{where}: X is empty; give at least one sample")
    labels = list(y)
    if len(labels) != count:
        raise ValueError(f"{where}: X has {count} samples but y has {len(labels)} labels")
    # int() takes int, float, Fraction and NumPy numbers alike; typeshed's numbers.Real declares no __int__.
    labels = [int(label) if isinstance(label, numbers.Real) and float(label).is_integer() else label  # type: ignore[call-overload]
              for label in labels]
    base = None if loss is None else base_loss(get_loss(loss))
    if base in TWO_CLASS_LOSSES:
        _check_two_class_labels(labels, base, where)
    if base is hinge and 0 in labels:
        labels = [2 * label - 1 for label in labels]
    return labels


TWO_CLASS_LOSSES = (hinge, binary_cross_entropy_with_logits)  # one output: two classes, labels 0/1


def _check_two_class_labels(labels: list, loss: Callable, where: str) -> None:
    """A ValueError naming the first whole-number label that is not 0 or 1 (hinge: nor -1
    with +1). bce's probabilities in [0, 1] pass; the loss itself checks them."""
    allowed = {0, 1} if loss is not hinge or 0 in labels else {-1, 1}
    wrong = next(((i, label) for i, label in enumerate(labels)
                  if isinstance(label, numbers.Integral) and label not in allowed), None)
    if wrong is None:
        return
    index, label = wrong
    classes = sorted({label for label in labels if isinstance(label, numbers.Integral)})
    shown = ", ".join(map(str, classes[:6])) + (", ..." if len(classes) > 6 else "")
    advice = (f"{len(classes)} classes need one output per class and loss='softmax_cross_entropy'"
              if len(classes) > 2 else "map the two classes to 0 and 1")
    pairs = "0 or 1 (or -1 and +1)" if loss is hinge else "0 or 1"
    raise ValueError(f"{where}: {loss.__name__} labels must be {pairs}, got {label!r} at index "
                     f"{index} (the labels are {shown}): {advice}")


@contextlib.contextmanager
def evaluation_mode(model: object) -> Iterator[None]:
    """Eval mode (Dropout off) inside the block, then each sub-Module's own mode again.

    A model that is not a Module (a plain function) is left alone.
    """
    modules = model.modules() if isinstance(model, Module) else []
    before = [module.training for module in modules]
    for module in modules:
        module.training = False
    try:
        yield
    finally:
        for module, training in zip(modules, before):
            module.training = training


def _score(output: object) -> float:
    if isinstance(output, Value):
        return output.data
    if isinstance(output, numbers.Real) and not isinstance(output, bool):
        return float(output)
    raise TypeError(f"a classifier must return a Value (one output) or a list of Values "
                    f"(one per class), got {type(output).__name__} {output!r}")
