"""Loss functions: a model's outputs and the right answers in, one Value out.

Each loss accepts one sample or a batch and returns the *mean* over samples:

* one sample:  ``mse(model(x), 3.0)``, ``hinge(score, +1)``;
* a batch:     ``mse([model(x) for x in X], y)`` (a list of outputs, a list of targets).

The outputs may be Values or plain numbers; the result is always a Value, built from
engine ops, so ``loss.backward()`` fills in every parameter's gradient and a drawing
of the graph shows how the loss was computed.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from glassgrad.engine import Value
from glassgrad.engine.tape import detached_max

from .arguments import choose_one

Number = float | int
Output = Value | Number


def mse(preds: Output | Sequence, targets: Number | Sequence) -> Value:
    """Mean squared error:  (1/n) sum_i (p_i - t_i)^2.

    ``preds`` and ``targets`` have the same shape: one number each, a list of them
    (a batch of single outputs), or a list of lists (a batch of several outputs); the
    mean is over every number. d/dp_i = 2 (p_i - t_i) / n.
    """
    pairs = _flat_pairs(preds, targets, "mse")
    return _mean([_squared_error(pred, float(target)) for pred, target in pairs])


def hinge(scores: Output | Sequence[Output], labels: Number | Sequence[Number]) -> Value:
    """Max-margin (SVM) loss of the classic micrograd demo:  (1/n) sum_i relu(1 - y_i s_i).

    Labels must be -1 or +1 (map 0/1 labels with y*2 - 1; ``fit`` does that for you).
    A sample costs nothing once its score is on the right side by a margin of 1.
    """
    pairs = _pairs(scores, labels, "hinge")
    _check_hinge_labels([label for _, label in pairs])
    return _mean([_hinge_term(score, float(label)) for score, label in pairs])


def binary_cross_entropy_with_logits(logits: Output | Sequence[Output],
                                     labels: Number | Sequence[Number]) -> Value:
    """Binary cross-entropy on raw scores z (logits), labels y in {0, 1} (or in [0, 1]):

        loss = (1/n) sum_i  softplus(z_i) - y_i z_i,    softplus(z) = log(1 + e^z)

    This equals -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] but never takes the
    log of a sigmoid that has rounded to 0 or 1, so it is exact for any z (try
    z = +-1000). d/dz_i = (sigmoid(z_i) - y_i) / n.
    """
    pairs = _pairs(logits, labels, "binary_cross_entropy_with_logits")
    _check_bce_labels([label for _, label in pairs])
    return _mean([_bce_term(logit, float(label)) for logit, label in pairs])


def softmax_cross_entropy(logits_per_sample: Sequence[Output] | Sequence[Sequence[Output]],
                          class_index: int | Sequence[int]) -> Value:
    """Cross-entropy of a softmax over k classes, for one sample or a batch.

    One sample: a list of k logits z and the index c of the right class.
    A batch: a list of such lists and a list of indices. For each sample

        loss = log(sum_j e^{z_j}) - z_c = m + log(sum_j e^{z_j - m}) - z_c,   m = max_j z_j

    Subtracting m (as a plain number, so no node depends on it) keeps every e^{...}
    in (0, 1]: no overflow for any logits. d loss / d z_j = softmax(z)_j - [j == c].
    The result is the mean over samples.
    """
    if isinstance(class_index, numbers.Integral):
        logits_per_sample, class_index = [logits_per_sample], [class_index]  # type: ignore[list-item, assignment]
    samples = _pairs(logits_per_sample, class_index, "softmax_cross_entropy")
    losses = []
    for i, (logits, target) in enumerate(samples):
        logits = _logits_of(logits, i)
        if isinstance(target, bool) or not isinstance(target, numbers.Integral) \
                or not 0 <= int(target) < len(logits):
            raise ValueError(f"softmax_cross_entropy: sample {i} has {len(logits)} logits, so its "
                             f"class index must be a whole number in 0..{len(logits) - 1}, got {target!r}")
        losses.append(_log_sum_exp(logits) - logits[int(target)])
    return _mean(losses)


def l2(params: Iterable[Value], alpha: float) -> Value:
    """L2 regularisation (weight decay as a loss term):  alpha * sum_p p^2.

    d/dp = 2 alpha p: every step pulls each parameter a little towards 0.
    """
    squares = [p * p for p in params]
    return float(alpha) * _sum(squares) if squares else Value(0.0)


LOSSES: dict[str, Callable[..., Value]] = {
    "mse": mse,
    "hinge": hinge,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "bce": binary_cross_entropy_with_logits,
    "softmax_cross_entropy": softmax_cross_entropy,
    "cross_entropy": softmax_cross_entropy,
}


def get_loss(name: str | Callable[..., Value]) -> Callable[..., Value]:
    """The loss function called ``name`` (a function is returned as it is)."""
    if callable(name):
        return name
    return LOSSES[choose_one(name, LOSSES, "loss", ignore_case=True)]


# ---------------------------------------------------------------- helpers


def _pairs(outputs: object, targets: object, loss: str) -> list[tuple]:
    """(output, target) per sample; a lone output and target make a batch of one."""
    if not isinstance(targets, (list, tuple)) and not _is_array(targets):
        return [(outputs, _number(targets, loss))]
    return [(output, _number(target, loss) if not _is_sequence(target) else target)
            for output, target in _zip_samples(outputs, targets, loss)]


def _zip_samples(outputs: Any, targets: Any, loss: str) -> list[tuple]:
    """(output, target) per sample, the two lists checked to have one and the same length."""
    outputs, targets = list(outputs), list(targets)
    if len(outputs) != len(targets):
        raise ValueError(f"{loss}: {len(outputs)} outputs but {len(targets)} targets; "
                         "give one target per output")
    if not outputs:
        raise ValueError(f"{loss}: no samples (empty lists); the mean of nothing is undefined")
    return list(zip(outputs, targets))


def _logits_of(logits: Any, index: int) -> list:
    """One sample's logits as a list; a ValueError for one output (a model with one neuron)."""
    if not _is_sequence(logits):
        raise ValueError(f"softmax_cross_entropy: sample {index} is one output, {logits!r}, but softmax "
                         "needs one logit per class: give the model's last layer one output per class")
    return list(logits)


def _check_hinge_labels(labels: list) -> None:
    for i, label in enumerate(labels):
        if label not in (-1, 1):
            raise ValueError(f"hinge: labels must be -1 or +1, got {label!r} at index {i}; "
                             "map 0/1 labels with y*2 - 1 (fit(..., loss='hinge') does this)")


def _check_bce_labels(labels: list) -> None:
    for i, label in enumerate(labels):
        if not 0.0 <= label <= 1.0:
            raise ValueError(f"binary_cross_entropy_with_logits: labels must be 0 or 1 "
                             f"(or a probability in [0, 1]), got {label!r} at index {i}")


# The loss of one sample, for a label that is a plain number (eager) or an input Value (traced).

def _squared_error(pred: Output, target: Output) -> Value:
    return (pred - target) ** 2  # type: ignore[return-value]


def _hinge_term(score: Output, label: Output) -> Value:
    return _relu(1.0 - label * score)


def _bce_term(logit: Output, label: Output) -> Value:
    return _as_value(logit).softplus() - label * logit


def _log_sum_exp(logits: list) -> Value:
    """log(sum_j e^{z_j}) = m + log(sum_j e^{z_j - m}), m = max_j z_j: no e^{...} overflows."""
    shift = detached_max(logits)  # a constant; a traced replay recomputes it
    return shift + _sum([_as_value(z - shift).exp() for z in logits]).log()


def _flat_pairs(outputs: object, targets: object, loss: str,
                pairs: Callable[[Any, Any, str], list[tuple]] = _pairs) -> list[tuple]:
    """Like ``pairs`` (``_pairs``; ``_zip_samples`` for targets that are a tape's inputs),
    with samples that have several outputs unpacked into their numbers."""
    flat = []
    for i, (output, target) in enumerate(pairs(outputs, targets, loss)):
        if _is_sequence(target):
            flat += pairs(output, target, loss)
        else:
            _check_one_output(output, target, i, loss)
            flat.append((output, target))
    return flat


def _check_one_output(output: Any, target: object, index: int, loss: str) -> None:
    """A target that is one number needs one output: a ValueError for a list of them."""
    if _is_sequence(output):
        number = target.data if isinstance(target, Value) else target  # a traced step's input
        raise ValueError(f"{loss}: the model gives {len(output)} outputs per sample but the target "
                         f"of sample {index} is one number, {number:g}: for classes use "
                         "loss='softmax_cross_entropy' (or give one-hot targets, one number per output)")


def _is_array(x: object) -> bool:
    return getattr(x, "ndim", 0) >= 1  # a NumPy array (a list in all but name)


def _is_sequence(x: object) -> bool:
    return isinstance(x, (list, tuple)) or _is_array(x)


def _number(x: object, loss: str) -> float:
    if isinstance(x, Value):
        raise TypeError(f"{loss}: targets are plain numbers, got a Value {x!r}; use x.data")
    try:
        number = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{loss}: targets must be numbers, got {type(x).__name__} {x!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{loss}: target {number!r} is not a finite number")
    return number if not float(number).is_integer() else int(number)


def _as_value(x: Output) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _relu(x: Output) -> Value:
    return _as_value(x).relu()


def _sum(terms: Sequence[Output]) -> Value:
    """t0 + t1 + ...: one add node per term (no extra 0 at the start, unlike sum())."""
    total = _as_value(terms[0])
    for term in terms[1:]:
        total = total + term
    return total


def _mean(terms: Sequence[Output]) -> Value:
    return _sum(terms) / len(terms)


# ------------------------------------------------ labels as numbers, for a traced step
#
# A traced training step (nn.fit with trace=True) replays one tape for every batch. A
# whole-number label cannot be an input of a tape: softmax cross-entropy uses it to pick
# a node (z_c), the other losses turn it into a constant. So fit passes every label as
# floats, a one-hot row for softmax cross-entropy, and computes the loss from those:
#
#     - z_c  =  - sum_j t_j z_j      with t the one-hot row of c (t_c = 1, else 0)
#
# The same numbers as the loss of the labels, the same gradients (d/dz_j = -t_j).


@dataclass(frozen=True)
class LabelsAsInputs:
    """How one loss takes its labels as the float inputs of a traced step."""

    encode: Callable[[list], list]                  # labels -> floats, checked as the loss checks them
    loss: Callable[[Sequence, Sequence], Value]     # (outputs, encoded labels, maybe Values) -> loss


def labels_as_inputs(loss_fn: Callable[..., Value]) -> LabelsAsInputs | None:
    """The ``LabelsAsInputs`` of one of the losses above, or None for any other function."""
    return LABELS_AS_INPUTS.get(loss_fn)


def _encode_numbers(labels: list, loss: str) -> list:
    """Each label (a number, or a list of numbers for several outputs) as float(s)."""
    return [[float(_number(t, loss)) for t in label] if _is_sequence(label) else float(_number(label, loss))
            for label in labels]


def _encode_one_hot(labels: list) -> list[list[float]]:
    for i, label in enumerate(labels):
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or label < 0:
            raise ValueError(f"softmax_cross_entropy: class indices must be whole numbers 0, 1, 2, ...; "
                             f"got {label!r} at index {i}")
    classes = max(labels) + 1
    return [[1.0 if j == label else 0.0 for j in range(classes)] for label in labels]


def _softmax_cross_entropy_of_one_hot(logits_per_sample: Sequence, one_hots: Sequence) -> Value:
    losses = []
    for i, (logits, one_hot) in enumerate(_zip_samples(logits_per_sample, one_hots, "softmax_cross_entropy")):
        logits = _logits_of(logits, i)
        if len(one_hot) > len(logits):
            raise ValueError(f"softmax_cross_entropy: sample {i} has {len(logits)} logits but the labels "
                             f"name {len(one_hot)} classes; give the model one output per class")
        picked = _sum([t * z for t, z in zip(one_hot, logits)])  # = z_c: the other terms are 0
        losses.append(_log_sum_exp(logits) - picked)
    return _mean(losses)


def _mse_of_inputs(preds: Sequence, targets: Sequence) -> Value:
    flat = _flat_pairs(preds, targets, "mse", _zip_samples)  # targets stay the tape's input Values
    return _mean([_squared_error(pred, target) for pred, target in flat])


def _encode_checked(check: Callable[[list], None], loss: str) -> Callable[[list], list]:
    def encode(labels: list) -> list:
        check(labels)
        return _encode_numbers(labels, loss)
    return encode


LABELS_AS_INPUTS: dict[Callable[..., Value], LabelsAsInputs] = {
    mse: LabelsAsInputs(lambda labels: _encode_numbers(labels, "mse"), _mse_of_inputs),
    hinge: LabelsAsInputs(
        _encode_checked(_check_hinge_labels, "hinge"),
        lambda scores, labels: _mean([_hinge_term(s, t) for s, t in _zip_samples(scores, labels, "hinge")])),
    binary_cross_entropy_with_logits: LabelsAsInputs(
        _encode_checked(_check_bce_labels, "binary_cross_entropy_with_logits"),
        lambda logits, labels: _mean([_bce_term(z, t) for z, t in
                                      _zip_samples(logits, labels, "binary_cross_entropy_with_logits")])),
    softmax_cross_entropy: LabelsAsInputs(_encode_one_hot, _softmax_cross_entropy_of_one_hot),
}

