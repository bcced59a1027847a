"""Losses without PyTorch: formulas by hand, finite differences, stability, errors."""
import math

import pytest

from glassgrad.engine import Value, gradcheck
from glassgrad.nn import (binary_cross_entropy_with_logits, get_loss, hinge, l2, mse,
                softmax_cross_entropy)


def test_mse_is_the_mean_of_squared_differences():
    preds, targets = [1.0, -2.0, 0.5], [0.0, 1.0, 0.5]
    expected = sum((p - t) ** 2 for p, t in zip(preds, targets)) / 3
    assert mse([Value(p) for p in preds], targets).data == pytest.approx(expected, rel=1e-15)


def test_hinge_is_the_mean_margin_violation():
    scores, labels = [2.0, 0.3, -0.5], [1, 1, 1]
    expected = sum(max(0.0, 1.0 - y * s) for s, y in zip(scores, labels)) / 3
    assert hinge([Value(s) for s in scores], labels).data == pytest.approx(expected, rel=1e-15)


def test_bce_with_logits_equals_the_textbook_formula_at_moderate_logits():
    logits, labels = [0.5, -1.5, 3.0], [1, 0, 0]

    def textbook(z, y):
        s = 1.0 / (1.0 + math.exp(-z))
        return -(y * math.log(s) + (1 - y) * math.log(1 - s))

    expected = sum(textbook(z, y) for z, y in zip(logits, labels)) / 3
    ours = binary_cross_entropy_with_logits([Value(z) for z in logits], labels)
    assert ours.data == pytest.approx(expected, rel=1e-12)


def test_softmax_cross_entropy_is_minus_log_of_the_right_class_probability():
    logits = [1.0, 2.0, -0.5]
    probability = math.exp(logits[1]) / sum(math.exp(z) for z in logits)
    assert softmax_cross_entropy([Value(z) for z in logits], 1).data == \
        pytest.approx(-math.log(probability), rel=1e-12)


CASES = {
    "mse": lambda a, b, c: mse([a, b, c], [0.5, -1.0, 2.0]),
    "mse several outputs": lambda a, b, c: mse([[a, b], [c, a]], [[0.5, -1.0], [2.0, 0.0]]),
    "hinge": lambda a, b, c: hinge([a, b, c], [1, -1, 1]),
    "bce": lambda a, b, c: binary_cross_entropy_with_logits([a, b, c], [1, 0, 0.25]),
    "softmax one sample": lambda a, b, c: softmax_cross_entropy([a, b, c], 2),
    "softmax batch": lambda a, b, c: softmax_cross_entropy([[a, b], [c, a], [b, c]], [0, 1, 1]),
    "l2": lambda a, b, c: l2([a, b, c], 0.3),
}


@pytest.mark.parametrize("case", CASES)
def test_loss_gradients_agree_with_finite_differences(case):
    gradcheck(CASES[case], [0.4, -1.3, 0.8])


@pytest.mark.parametrize("labels, loss", [([1, 0], 0.0), ([0, 1], 2000.0)])
def test_bce_is_exact_for_logits_of_plus_and_minus_a_thousand(labels, loss):
    logits = [Value(1000.0), Value(-1000.0)]
    result = binary_cross_entropy_with_logits(logits, labels)
    result.backward()
    assert result.data == pytest.approx(loss / 2, abs=1e-12)
    assert [v.grad for v in logits] == pytest.approx([(1 - labels[0]) / 2, -labels[1] / 2])


def test_softmax_cross_entropy_is_exact_for_huge_logits():
    logits = [Value(1000.0), Value(0.0), Value(-1000.0)]
    assert softmax_cross_entropy(logits, 0).data == pytest.approx(0.0, abs=1e-12)
    assert softmax_cross_entropy(logits, 2).data == pytest.approx(2000.0, rel=1e-15)


def test_one_sample_gives_the_same_loss_as_a_batch_of_one():
    v = Value(0.7)
    assert mse(v, 2.0).data == mse([v], [2.0]).data
    assert hinge(v, -1).data == hinge([v], [-1]).data
    assert binary_cross_entropy_with_logits(v, 1).data == binary_cross_entropy_with_logits([v], [1]).data
    assert softmax_cross_entropy([v, Value(0.1)], 1).data == \
        softmax_cross_entropy([[v, Value(0.1)]], [1]).data


def test_plain_number_outputs_still_give_a_value():
    assert isinstance(mse([1.0, 2.0], [0.0, 0.0]), Value)
    assert isinstance(l2([], 0.1), Value)


def test_l2_is_alpha_times_the_sum_of_squares_with_gradient_two_alpha_p():
    params = [Value(0.5), Value(-2.0)]
    penalty = l2(params, 0.1)
    penalty.backward()
    assert penalty.data == pytest.approx(0.1 * (0.25 + 4.0), rel=1e-15)
    assert [p.grad for p in params] == pytest.approx([2 * 0.1 * 0.5, 2 * 0.1 * -2.0], rel=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda: hinge([Value(1.0)], [0]), "hinge: labels must be -1 or \\+1, got 0 at index 0"),
    (lambda: binary_cross_entropy_with_logits([Value(1.0)], [2]), "labels must be 0 or 1"),
    (lambda: softmax_cross_entropy([Value(1.0), Value(2.0)], 2),
     "class index must be a whole number in 0..1"),
    (lambda: mse([Value(1.0), Value(2.0)], [1.0]), "mse: 2 outputs but 1 targets"),
    (lambda: mse([], []), "mse: no samples"),
    (lambda: mse([Value(1.0)], [math.nan]), "not a finite number"),
])
def test_bad_labels_and_shapes_are_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_target_that_is_a_value_is_refused():
    with pytest.raises(TypeError, match="targets are plain numbers"):
        mse(Value(1.0), Value(2.0))


def test_losses_are_found_by_name_and_an_unknown_name_lists_the_known_ones():
    assert get_loss("mse") is mse
    assert get_loss("BCE") is binary_cross_entropy_with_logits
    assert get_loss(hinge) is hinge
    with pytest.raises(ValueError, match="unknown loss 'huber'.*'mse'.*'hinge'"):
        get_loss("huber")


def test_mse_of_several_outputs_against_one_number_names_the_sample_and_the_loss_for_classes():
    outputs = [[Value(0.1), Value(0.2)], [Value(0.3), Value(0.4)]]
    with pytest.raises(ValueError, match="^mse: the model gives 2 outputs per sample but the target of "
                                         "sample 1 is one number, 1: for classes use "
                                         "loss='softmax_cross_entropy' \\(or give one-hot targets"):
        mse(outputs, [[0.0, 1.0], 1])
    assert mse(outputs, [[0.0, 1.0], [1.0, 0.0]]).data == pytest.approx((0.01 + 0.64 + 0.49 + 0.16) / 4)
