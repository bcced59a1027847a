"""nn.arguments: the one vocabulary of range checks and name lookups, and the CLI's number type."""
import argparse
import math

import pytest

from glassgrad.engine import Value
from glassgrad.nn import SGD, Adam, Dense, RMSprop, Sequential, get_loss, get_optimizer
from glassgrad.nn.arguments import below_one, choose_one, non_negative, positive, whole_number
from glassgrad.viz.cli import positive as positive_argument


def test_choose_one_returns_the_key_and_lists_every_known_name_otherwise():
    assert choose_one("adam", ("sgd", "adam"), "optimizer") == "adam"
    with pytest.raises(ValueError) as error:
        choose_one("adamw", ("sgd", "adam"), "optimizer")
    assert str(error.value) == "unknown optimizer 'adamw'; choose one of 'sgd', 'adam'"


def test_choose_one_ignores_case_only_when_asked_and_adds_where_and_otherwise():
    assert choose_one("ADAM", {"adam": 1}, "optimizer", ignore_case=True) == "adam"
    with pytest.raises(ValueError, match="unknown optimizer 'ADAM'"):
        choose_one("ADAM", {"adam": 1}, "optimizer")
    with pytest.raises(ValueError) as error:
        choose_one("x", ["a"], "activation", where="Dense: ", otherwise=" (or None)")
    assert str(error.value) == "Dense: unknown activation 'x'; choose one of 'a' (or None)"


@pytest.mark.parametrize("call, message", [
    (lambda: get_loss("nope"), "unknown loss 'nope'; choose one of 'mse', 'hinge'"),
    (lambda: get_optimizer("nope", [Value(1.0)]), "unknown optimizer 'nope'; choose one of 'sgd', "),
    (lambda: Dense(2, activation="nope"), "Dense: unknown activation 'nope'; choose one of 'tanh'"),
    (lambda: Sequential([Dense(1)]).compile(loss="nope"), "unknown loss 'nope'; choose one of 'mse', "
                                                          "'mean_squared_error'"),
    (lambda: Sequential([Dense(1)]).compile(optimizer="nope"), ", 'momentum', or pass an nn optimizer"),
])
def test_every_name_lookup_of_nn_says_unknown_and_lists_the_choices(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_lookups_still_ignore_case():
    assert get_loss("MSE") is get_loss("mse")
    assert isinstance(get_optimizer("Adam", [Value(1.0)]), Adam)


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "3", None])
def test_whole_number_refuses_anything_but_an_int_of_at_least_one(bad):
    with pytest.raises(ValueError, match=r"^Dense: units must be a whole number >= 1, got "):
        whole_number(bad, "Dense: units")


def test_sequential_dense_uses_the_shared_whole_number_check():
    with pytest.raises(ValueError) as error:
        Dense(0)
    assert str(error.value) == "Dense: units (the number of neurons) must be a whole number >= 1, got 0"
    assert Dense(3).units == 3


@pytest.mark.parametrize("bad", [-0.1, math.inf, math.nan, True, "1", None])
def test_non_negative_refuses_negative_infinite_and_non_numbers(bad):
    with pytest.raises(ValueError, match=r"^SGD: lr must be a finite number >= 0, got "):
        non_negative(bad, "SGD: lr")
    with pytest.raises(ValueError, match=r"^SGD: lr must be a finite number >= 0"):
        SGD([Value(1.0)], lr=bad)
    assert non_negative(0, "lr") == 0.0 and isinstance(non_negative(2, "lr"), float)


def test_positive_refuses_zero_with_its_reason():
    assert positive(1e-8, "eps") == 1e-8
    with pytest.raises(ValueError) as error:
        RMSprop([Value(1.0)], eps=0.0)
    assert str(error.value) == ("RMSprop: eps must be > 0; it keeps the division safe where a "
                                "gradient is 0")
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        positive(-1.0, "eps")


@pytest.mark.parametrize("bad", [1.0, -0.01, math.nan, True, "0.5"])
def test_below_one_refuses_values_outside_zero_to_one(bad):
    with pytest.raises(ValueError, match=r"^Adam: averaging factors must be in \[0, 1\), got "):
        Adam([Value(1.0)], betas=(bad, 0.9))
    assert below_one(0.0, "p") == 0.0 and below_one(0.999, "p") == 0.999


@pytest.mark.parametrize("kind, text, expected", [(int, "3", 3), (float, "0.5", 0.5),
                                                  (float, "1e-3", 1e-3)])
def test_cli_positive_number_type_parses_positive_numbers(kind, text, expected):
    assert positive_argument(kind)(text) == expected
    assert positive_argument(kind).__name__ == kind.__name__


@pytest.mark.parametrize("kind, text", [(int, "0"), (int, "-1"), (int, "2.5"), (int, "x"),
                                        (float, "0"), (float, "nan"), (float, "inf"), (float, "x")])
def test_cli_positive_number_type_refuses_the_rest_in_one_wording(kind, text):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        positive_argument(kind)(text)
    assert str(error.value).startswith(f"must be a positive {kind.__name__} (")
    assert str(error.value).endswith(f"got {text!r}")
    if kind is int:
        assert "must be at least 1" in str(error.value)
