"""Optimizers without PyTorch: the update rules by hand, lr changes, errors, safety."""
import pytest

from glassgrad.engine import Value
from glassgrad.nn import SGD, Adam, RMSprop, get_optimizer


def parameters_with_grads(grads, start=(1.0, -2.0, 0.5)):
    params = [Value(x) for x in start[:len(grads)]]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def test_sgd_moves_each_parameter_by_minus_lr_times_grad():
    grads = [0.5, -1.0, 2.0]
    params = parameters_with_grads(grads)
    before = [p.data for p in params]
    SGD(params, lr=0.1).step()
    assert [p.data for p in params] == [x - 0.1 * g for x, g in zip(before, grads)]


def test_sgd_uses_the_learning_rate_set_between_steps():
    params = parameters_with_grads([1.0, 1.0, 1.0])
    optimizer = SGD(params, lr=0.1)
    optimizer.step()
    middle = [p.data for p in params]
    optimizer.lr = 0.5
    optimizer.step()
    assert [p.data for p in params] == [x - 0.5 for x in middle]


def test_sgd_momentum_adds_up_repeated_gradients():
    params = parameters_with_grads([1.0])
    optimizer = SGD(params, lr=1.0, momentum=0.5)
    start = params[0].data
    optimizer.step()   # velocity 1
    optimizer.step()   # velocity 0.5 * 1 + 1 = 1.5
    assert params[0].data == start - 1.0 - 1.5


@pytest.mark.parametrize("grad", [3.0, -0.02, 500.0])
def test_adams_first_step_is_lr_in_the_direction_against_the_gradient(grad):
    # After bias correction m_hat = g and v_hat = g^2, so the step is lr * g / |g|.
    params = parameters_with_grads([grad])
    start = params[0].data
    Adam(params, lr=0.01, eps=1e-300).step()  # eps too small to matter
    assert params[0].data == pytest.approx(start - 0.01 * (1 if grad > 0 else -1), rel=1e-12)


def test_rmsprop_first_step_divides_by_the_root_of_the_weighted_square():
    params = parameters_with_grads([2.0])
    start = params[0].data
    RMSprop(params, lr=0.01, alpha=0.75, eps=1e-300).step()
    assert params[0].data == pytest.approx(start - 0.01 * 2.0 / (0.25 * 4.0) ** 0.5, rel=1e-12)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: Adam(p), lambda p: RMSprop(p)])
def test_zero_grad_clears_the_gradients_of_the_optimizers_parameters(make):
    params = parameters_with_grads([1.0, 2.0, 3.0])
    make(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0, 0.0]


def test_a_step_that_would_overflow_changes_no_parameter():
    params = parameters_with_grads([1.0, 1e300, 1.0])
    optimizer = SGD(params, lr=1e10)
    with pytest.raises(OverflowError, match="would become -inf.*no parameter was changed"):
        optimizer.step()
    assert [p.data for p in params] == [1.0, -2.0, 0.5]
    assert optimizer.velocity == [0.0, 0.0, 0.0]


def test_optimizers_are_found_by_name():
    params = [Value(1.0)]
    assert isinstance(get_optimizer("Adam", params, lr=0.1), Adam)
    assert get_optimizer("sgd", params, lr=0.2).lr == 0.2
    assert isinstance(get_optimizer("rmsprop", params), RMSprop)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'.*'sgd'.*'adam'.*'rmsprop'"):
        get_optimizer("lbfgs", params)


@pytest.mark.parametrize("make, message", [
    (lambda: SGD([], lr=0.1), "parameter list is empty"),
    (lambda: SGD([1.0], lr=0.1), "parameter 0 is a float, not a Value"),
    (lambda: SGD([Value(1.0)], lr=-1.0), "lr must be a finite number >= 0"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), "must be in \\[0, 1\\)"),
    (lambda: RMSprop([Value(1.0)], momentum=float("nan")), "momentum must be"),
    (lambda: Adam([Value(1.0)], eps=0.0), "eps must be > 0"),
])
def test_bad_settings_are_refused_with_a_reason(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
