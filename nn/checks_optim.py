"""Checkers for the losses-and-optimizers exercise (ex06): a momentum step, softmax cross-entropy.

They work like those of ``nn.checks`` (same ``CheckFailure``, same ``PASS`` line) and
compare with references the student did not write: ``nn.SGD(momentum=...)`` for the
step, ``nn.softmax_cross_entropy`` and ``Value.backward`` for the loss:

    check_momentum_step(momentum_step)
    check_softmax_cross_entropy(softmax_cross_entropy)
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

from glassgrad.engine import Value

from .checks import (TODO_HINT, CheckFailure, Guess, _call_student, _close, _diagnose, _is_number, _name,
                     reported)
from .losses import softmax_cross_entropy as reference_softmax_cross_entropy
from .optim import SGD

# ------------------------------------------------------------------ momentum step

_START = (0.5, -1.2, 2.0)
_GRADS = ((0.3, -0.8, 1.5), (0.1, 0.4, -0.6))   # the gradients of step 1, then of step 2


def check_momentum_step(momentum_step: Callable[..., object]) -> None:
    """Check ``momentum_step(parameters, velocity, learning_rate, momentum)``:

        v_i = momentum * v_i + p_i.grad          (velocity: a list of floats, changed in place)
        p_i.data = p_i.data - learning_rate * v_i

    Two steps in a row are taken (the second must remember the first's velocity), and the
    parameters are compared with ``nn.SGD(..., momentum=...)`` after each.
    """
    check = "check_momentum_step"
    learning_rate, momentum = 0.1, 0.9
    parameters = [Value(d, label=f"p{i}") for i, d in enumerate(_START)]
    velocity = [0.0] * len(parameters)
    reference = [Value(d) for d in _START]
    optimizer = SGD(reference, lr=learning_rate, momentum=momentum)
    for step, grads in enumerate(_GRADS, start=1):
        before = [p.data for p in parameters]
        for p, r, g in zip(parameters, reference, grads):
            p.grad = r.grad = g
        returned = _call_student(check, momentum_step, parameters, velocity, learning_rate, momentum)
        optimizer.step()
        got, expected = [p.data for p in parameters], [r.data for r in reference]
        if got == before:
            if step == 1 and any(v != 0.0 for v in velocity):
                raise CheckFailure(check, "the velocity changed, but no parameter moved in step 1",
                                   "Update the velocity first, then move p.data by "
                                   "-learning_rate * the NEW velocity.", "stale_velocity")
            if returned is None and step == 1:
                raise CheckFailure(check, "no parameter changed", TODO_HINT, "todo")
            raise CheckFailure(check, f"no parameter changed in step {step}",
                               "Change each p.data in place (p.data -= ...).", "not_in_place")
        if all(_close(g, e) for g, e in zip(got, expected)):
            continue
        k = next(k for k, (g, e) in enumerate(zip(got, expected)) if not _close(g, e))
        code, hint = _diagnose(got, _momentum_guesses(before, grads, step, learning_rate, momentum),
                               "v = momentum * v + grad, then p.data -= learning_rate * v.")
        raise CheckFailure(check, (
            f"after step {step} (learning_rate = {learning_rate}, momentum = {momentum}), "
            f"p{k}.data should be {expected[k]:.6g}, got {got[k]:.6g}"), hint, code)
    print(f"PASS {check}: two steps in a row match nn.SGD(momentum={momentum})")


def _momentum_guesses(before: list[float], grads: Sequence[float], step: int,
                      learning_rate: float, momentum: float) -> list[Guess]:
    """What the common mistakes give for the parameters after ``step``."""
    previous = _GRADS[0] if step == 2 else (0.0,) * len(grads)  # the velocity after step 1 is g1

    def moved(velocities: Sequence[float], sign: float = -1.0) -> list[float]:
        return [d + sign * learning_rate * v for d, v in zip(before, velocities)]
    right = [momentum * v + g for v, g in zip(previous, grads)]
    guesses: list[Guess] = [
        ("plus_instead_of_minus", "The parameters moved uphill: subtract learning_rate * v.",
         moved(right, +1.0)),
        ("missing_learning_rate", "The step is the whole velocity: multiply it by the "
         "learning rate.", [d - v for d, v in zip(before, right)]),
        ("averaged_velocity", "That is v = momentum * v + (1 - momentum) * grad, an average "
         "(as in Adam). SGD's momentum adds the whole gradient: v = momentum * v + grad.",
         moved([momentum * v + (1 - momentum) * g for v, g in zip(previous, grads)])),
    ]
    if step == 2:
        guesses.insert(0, ("velocity_forgotten",
                           "Step 2 ignored step 1: store the new velocity back in the list, "
                           "velocity[i] = momentum * velocity[i] + p.grad, so the next step "
                           "remembers it.", moved(grads)))
    return guesses


# ------------------------------------------------------ softmax cross-entropy

_SCORE_CASES = (  # (scores, right class)
    ((2.0, -1.0, 0.5), 2),
    ((0.3, 1.7, -0.4, 0.0), 1),
    ((1000.0, 998.0, 0.0), 0),   # e^1000 overflows: subtract the largest score first
)


def check_softmax_cross_entropy(softmax_cross_entropy: Callable[..., object]) -> None:
    """Check ``softmax_cross_entropy(scores, target) -> (loss, grads)`` with plain floats:

        p_j = e^{z_j} / sum_k e^{z_k},   loss = -log p_target,   d loss/d z_j = p_j - [j = target]

    The reference is ``nn.softmax_cross_entropy`` and ``backward()``. One case has scores
    near 1000, where ``math.exp`` overflows unless the largest score is subtracted first.
    """
    check = "check_softmax_cross_entropy"
    for scores, target in _SCORE_CASES:
        logits = [Value(z) for z in scores]
        reference = reference_softmax_cross_entropy(logits, target)
        reference.backward()
        expected_grads = [z.grad for z in logits]
        where = f"for scores {list(scores)} and target {target}"
        try:
            answer = _call_student(check, softmax_cross_entropy, list(scores), target)
        except OverflowError:
            raise CheckFailure(check, f"math.exp overflowed {where}",
                               "e^1000 is too big for a float. Subtract the largest score from "
                               "every score first: softmax does not change, and no exp is above 1.",
                               "overflow") from None
        loss, grads = _loss_and_grads(check, softmax_cross_entropy, answer, len(scores))
        probabilities = [g + (j == target) for j, g in enumerate(expected_grads)]
        if not _close(loss, reference.data):
            code, hint = _diagnose([loss], _loss_guesses(scores, target, probabilities),
                                   "loss = -log p_target, with p = softmax(scores).")
            raise CheckFailure(check, f"the loss is wrong {where}: expected {reference.data:.6g}, "
                               f"got {loss:.6g}", hint, code)
        if not all(_close(g, e) for g, e in zip(grads, expected_grads)):
            j = next(j for j, (g, e) in enumerate(zip(grads, expected_grads)) if not _close(g, e))
            code, hint = _diagnose(grads, _grad_guesses(target, probabilities, expected_grads),
                                   "d loss/d z_j = p_j - 1 for the target class, p_j for the others.")
            raise CheckFailure(check, f"d loss/d z_{j} is wrong {where}: expected "
                               f"{expected_grads[j]:.6g}, got {grads[j]:.6g}", hint, code)
    print(f"PASS {check}: loss and gradients match nn.softmax_cross_entropy and backward() "
          f"({len(_SCORE_CASES)} cases, one with scores near 1000)")


def _loss_and_grads(check: str, fn: Callable, answer: object, n_classes: int) -> tuple[float, list[float]]:
    if answer is None:
        raise CheckFailure(check, f"{_name(fn)} returned None: is it still a TODO?", TODO_HINT, "todo")
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2
            and isinstance(answer[1], (tuple, list)) and len(answer[1]) == n_classes):
        raise CheckFailure(check, f"expected (loss, grads) with one gradient per class "
                           f"({n_classes}), got {answer!r}",
                           "Return a pair: the loss, and a list of d loss/d z_j.", "wrong_shape")
    loss, grads = answer
    if not (_is_number(loss) and all(_is_number(g) for g in grads)):
        raise CheckFailure(check, f"expected finite numbers, got {answer!r}",
                           "Compute with plain floats (math.exp, math.log), not Values; "
                           "a nan or inf usually means an exp overflowed.", "wrong_type")
    return float(loss), [float(g) for g in grads]


def _loss_guesses(scores: Sequence[float], target: int, probabilities: list[float]) -> list[Guess]:
    return [
        ("sign_error", "Same size, opposite sign: the loss is MINUS log p_target.",
         [math.log(probabilities[target])]),
        ("missing_log", "That is 1 - p_target: the loss is -log p_target.",
         [1 - probabilities[target]]),
        ("missing_log", "That is p_target: the loss is -log p_target.", [probabilities[target]]),
        ("unnormalised", "That is -z_target alone: divide e^{z_target} by the sum over all "
         "classes (softmax) before the log.", [-scores[target]]),
    ]


def _grad_guesses(target: int, probabilities: list[float], expected: list[float]) -> list[Guess]:
    return [
        ("sign_error", "Same size, opposite sign: d loss/d z_j = p_j - [j = target].",
         [-e for e in expected]),
        ("forgot_minus_one", "Those are the probabilities p_j: subtract 1 for the target class.",
         probabilities),
    ]


# Wrapped here, at the end, as in nn.checks: in Jupyter a failure is shown, not raised.
check_momentum_step = reported(check_momentum_step)
check_softmax_cross_entropy = reported(check_softmax_cross_entropy)
