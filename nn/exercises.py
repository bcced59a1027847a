"""What the grader checks in each exercise notebook, and how many points each check is worth.

An exercise is a tuple of ``Check``s. A check names the functions the student must
define (``needs``) and runs one of the checkers of ``nn.checks`` on them: it passes when
the checker returns, and fails with the checker's ``CheckFailure`` (its message and hint
become the student's feedback). The grader (``glassgrad grade``, in ``viz/grade.py``)
looks an exercise up by the ``glassgrad.exercise`` entry of the notebook's metadata
(or, failing that, by the notebook's file name) and gives each check its points or 0:

    ex01_local_derivatives   mul 1, div 2, tanh 1, sigmoid 1, exp 1
    ex05_train_to_accuracy   accuracy_80 1, accuracy_90 2 (one trained model for both)
    ex06_momentum_and_softmax  momentum_step 2, softmax_cross_entropy 2

The arguments are the grader's own: a check never reads the student's data (a notebook
that edits ``X_test`` or ``target`` changes nothing here). ``student`` maps each name
in ``needs`` to the student's function; ``shared`` is a dict the checks of one
submission share (so that exercise 5 trains the student's model once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from .checks import (accuracy_exercise_data, check_accuracy, check_backward_by_hand,
                     check_local_derivative, check_neuron_forward, check_sgd_step)
from .checks_optim import check_momentum_step, check_softmax_cross_entropy


@dataclass(frozen=True)
class Check:
    """One graded check: ``run(student, shared)`` calls a checker; it passes if that returns."""
    name: str                 # the column in grades.csv
    points: float
    needs: tuple[str, ...]    # the functions the student's notebook must define
    run: Callable[[Mapping[str, Callable], dict], object]


def _local_derivative(op_name: str, function_name: str, points: float) -> Check:
    return Check(op_name, points, (function_name,),
                 lambda student, shared: check_local_derivative(op_name, student[function_name]))


def _trained_model(student: Mapping[str, Callable], shared: dict) -> Callable[[list[float]], object] | None:
    """The student's ``train_model`` run once on the exercise's own training set."""
    if "model" not in shared:
        X_train, y_train, _, _ = accuracy_exercise_data()
        shared["model"] = student["train_model"](X_train, y_train)
    return shared["model"]


def _accuracy(target: float, points: float) -> Check:
    def run(student: Mapping[str, Callable], shared: dict) -> object:
        _, _, X_test, y_test = accuracy_exercise_data()  # held out: never trained on
        return check_accuracy(_trained_model(student, shared), X_test, y_test, target=target)
    return Check(f"accuracy_{round(target * 100)}", points, ("train_model",), run)


EXERCISES: dict[str, tuple[Check, ...]] = {
    "ex01_local_derivatives": (
        _local_derivative("mul", "mul_local_grads", 1),
        _local_derivative("div", "div_local_grads", 2),
        _local_derivative("tanh", "tanh_local_grads", 1),
        _local_derivative("sigmoid", "sigmoid_local_grads", 1),
        _local_derivative("exp", "exp_local_grads", 1),
    ),
    "ex02_backward_by_hand": (
        Check("backward_by_hand", 3, ("backward_by_hand",),
              lambda student, shared: check_backward_by_hand(student["backward_by_hand"])),
    ),
    "ex03_neuron_forward": (
        Check("neuron_forward", 2, ("neuron_forward",),
              lambda student, shared: check_neuron_forward(student["neuron_forward"])),
    ),
    "ex04_sgd_step": (
        Check("sgd_step", 2, ("sgd_step",),
              lambda student, shared: check_sgd_step(student["sgd_step"])),
    ),
    "ex05_train_to_accuracy": (
        _accuracy(0.8, 1),
        _accuracy(0.9, 2),
    ),
    "ex06_momentum_and_softmax": (
        Check("momentum_step", 2, ("momentum_step",),
              lambda student, shared: check_momentum_step(student["momentum_step"])),
        Check("softmax_cross_entropy", 2, ("softmax_cross_entropy",),
              lambda student, shared: check_softmax_cross_entropy(student["softmax_cross_entropy"])),
    ),
}
