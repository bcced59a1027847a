"""The ex06 checkers (nn.checks_optim): the reference solutions pass, and each typical
wrong answer fails with a CheckFailure naming its mistake."""
import math

import pytest

import exercise_solutions as solution
from glassgrad.engine import Value
from glassgrad.nn.checks import CheckFailure
from glassgrad.nn.checks_optim import check_momentum_step, check_softmax_cross_entropy


def mistake_of(check, fn) -> CheckFailure:
    with pytest.raises(CheckFailure) as caught:
        check(fn)
    return caught.value


# ------------------------------------------------------------------ momentum step

def test_momentum_reference_solution_passes(capsys):
    check_momentum_step(solution.momentum_step)
    assert capsys.readouterr().out.startswith("PASS check_momentum_step")


def test_momentum_solution_agrees_with_an_independent_hand_computation():
    """Not only with nn.SGD: two steps by the formula, written out."""
    p = Value(1.0)
    velocity = [0.0]
    for grad in (2.0, -1.0):
        p.grad = grad
        solution.momentum_step([p], velocity, 0.1, 0.5)
    v1 = 2.0
    v2 = 0.5 * v1 - 1.0
    assert math.isclose(p.data, 1.0 - 0.1 * v1 - 0.1 * v2)


def test_momentum_unfinished_todo_says_todo():
    failure = mistake_of(check_momentum_step, lambda parameters, velocity, learning_rate, momentum: None)
    assert failure.mistake == "todo" and "TODO" in str(failure)


def test_momentum_forgetting_to_store_the_velocity_is_named():
    def no_memory(parameters, velocity, learning_rate, momentum):
        for i, p in enumerate(parameters):
            v = momentum * velocity[i] + p.grad      # a local, never written back
            p.data -= learning_rate * v
    failure = mistake_of(check_momentum_step, no_memory)
    assert failure.mistake == "velocity_forgotten" and "step 2" in str(failure)


def test_momentum_averaged_velocity_as_in_adam_is_named():
    def averaged(parameters, velocity, learning_rate, momentum):
        for i, p in enumerate(parameters):
            velocity[i] = momentum * velocity[i] + (1 - momentum) * p.grad
            p.data -= learning_rate * velocity[i]
    assert mistake_of(check_momentum_step, averaged).mistake == "averaged_velocity"


def test_momentum_plus_instead_of_minus_is_named():
    def uphill(parameters, velocity, learning_rate, momentum):
        for i, p in enumerate(parameters):
            velocity[i] = momentum * velocity[i] + p.grad
            p.data += learning_rate * velocity[i]
    assert mistake_of(check_momentum_step, uphill).mistake == "plus_instead_of_minus"


def test_momentum_missing_learning_rate_is_named():
    def no_rate(parameters, velocity, learning_rate, momentum):
        for i, p in enumerate(parameters):
            velocity[i] = momentum * velocity[i] + p.grad
            p.data -= velocity[i]
    assert mistake_of(check_momentum_step, no_rate).mistake == "missing_learning_rate"


def test_momentum_moving_with_the_old_velocity_is_named_not_called_a_todo():
    def stale(parameters, velocity, learning_rate, momentum):
        for i, p in enumerate(parameters):
            p.data -= learning_rate * velocity[i]     # still the previous velocity
            velocity[i] = momentum * velocity[i] + p.grad
    failure = mistake_of(check_momentum_step, stale)
    assert failure.mistake == "stale_velocity" and "TODO" not in str(failure)


def test_momentum_new_values_instead_of_changing_data_is_named():
    def returns_new(parameters, velocity, learning_rate, momentum):
        return [Value(p.data - learning_rate * p.grad) for p in parameters]
    assert mistake_of(check_momentum_step, returns_new).mistake == "not_in_place"


def test_momentum_wrong_parameters_are_named():
    assert mistake_of(check_momentum_step, lambda parameters, lr: None).mistake == "wrong_signature"


# ------------------------------------------------------ softmax cross-entropy

def test_softmax_reference_solution_passes(capsys):
    check_softmax_cross_entropy(solution.softmax_cross_entropy)
    assert capsys.readouterr().out.startswith("PASS check_softmax_cross_entropy")


def test_softmax_solution_agrees_with_finite_differences():
    scores, target, h = [0.3, 1.7, -0.4], 1, 1e-6
    _, grads = solution.softmax_cross_entropy(scores, target)
    for j in range(len(scores)):
        up = [z + h * (k == j) for k, z in enumerate(scores)]
        down = [z - h * (k == j) for k, z in enumerate(scores)]
        nudged = (solution.softmax_cross_entropy(up, target)[0]
                  - solution.softmax_cross_entropy(down, target)[0]) / (2 * h)
        assert math.isclose(grads[j], nudged, rel_tol=1e-6, abs_tol=1e-9)


def softmax(scores):
    largest = max(scores)
    exps = [math.exp(z - largest) for z in scores]
    return [e / sum(exps) for e in exps]


def right_grads(scores, target):
    return [p - (j == target) for j, p in enumerate(softmax(scores))]


def test_softmax_unfinished_todo_says_todo():
    failure = mistake_of(check_softmax_cross_entropy, lambda scores, target: None)
    assert failure.mistake == "todo" and "TODO" in str(failure)


def test_softmax_overflow_without_subtracting_the_max_is_named():
    def naive(scores, target):
        exps = [math.exp(z) for z in scores]
        p = [e / sum(exps) for e in exps]
        return -math.log(p[target]), [p_j - (j == target) for j, p_j in enumerate(p)]
    failure = mistake_of(check_softmax_cross_entropy, naive)
    assert failure.mistake == "overflow" and "largest score" in failure.hint


def test_softmax_loss_sign_error_is_named():
    def positive_log(scores, target):
        return math.log(softmax(scores)[target]), right_grads(scores, target)
    assert mistake_of(check_softmax_cross_entropy, positive_log).mistake == "sign_error"


def test_softmax_missing_log_is_named():
    def no_log(scores, target):
        return 1 - softmax(scores)[target], right_grads(scores, target)
    assert mistake_of(check_softmax_cross_entropy, no_log).mistake == "missing_log"


def test_softmax_without_normalising_is_named():
    def unnormalised(scores, target):
        return -scores[target], right_grads(scores, target)
    assert mistake_of(check_softmax_cross_entropy, unnormalised).mistake == "unnormalised"


def test_softmax_gradient_without_the_minus_one_is_named():
    def probabilities_only(scores, target):
        return -math.log(softmax(scores)[target]), softmax(scores)
    failure = mistake_of(check_softmax_cross_entropy, probabilities_only)
    assert failure.mistake == "forgot_minus_one" and f"z_{2}" in str(failure)


def test_softmax_gradient_sign_error_is_named():
    def flipped(scores, target):
        return -math.log(softmax(scores)[target]), [-g for g in right_grads(scores, target)]
    assert mistake_of(check_softmax_cross_entropy, flipped).mistake == "sign_error"


def test_softmax_wrong_shape_is_named():
    def loss_only(scores, target):
        return -math.log(softmax(scores)[target])
    assert mistake_of(check_softmax_cross_entropy, loss_only).mistake == "wrong_shape"


def test_softmax_values_instead_of_floats_are_named():
    def values(scores, target):
        return Value(1.0), [Value(0.0)] * len(scores)
    assert mistake_of(check_softmax_cross_entropy, values).mistake == "wrong_type"
