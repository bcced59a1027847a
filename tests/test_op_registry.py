"""engine.ops is the one registry of op names: every list that names ops is read from it.

Each built-in declares its Value methods, its name in expressions and whether it is an
activation; these tests walk ``ops.BUILTINS`` so that an op whose wiring is forgotten (no
Value method, not callable in ``glassgrad graph``, undocumented) fails here.
"""
import inspect

import pytest

from glassgrad.engine import Op, Value, ops
from glassgrad.nn import ACTIVATIONS
from glassgrad.nn.checks import CheckFailure, check_neuron_forward
from glassgrad.viz.cli import main
from glassgrad.viz.expr import FUNCTIONS, parse_expression

UNARY = [op for op in ops.BUILTINS if op.arity == 1]
IDS = [op.name for op in UNARY]
# The unary built-ins written with an operator rather than called by name.
OPERATOR_FORMS = {"neg": ("-a", ()), "pow": ("a**3", (3.0,))}
CONSTANT = 0.3  # a constant for the op families (leaky_relu's slope)


def applies(node: Value, op, constant: float | None = None) -> bool:
    """``node`` was made by ``op`` (by the family's op for ``constant``, for a family)."""
    if isinstance(op, ops.OpFamily):
        return node.op is op.make(op.default if constant is None else constant)
    return node.op is op


def cli_help(capsys) -> str:
    with pytest.raises(SystemExit):
        main(["graph", "--help"])
    return capsys.readouterr().out


def test_every_op_declared_in_engine_ops_is_in_the_registry():
    declared = [value for value in vars(ops).values() if isinstance(value, (Op, ops.OpFamily))]
    assert declared and all(any(op is entry for entry in ops.BUILTINS) for op in declared)


@pytest.mark.parametrize("op", UNARY, ids=IDS)
def test_every_builtin_unary_op_is_a_value_method_that_applies_it(op):
    assert op.methods, f"{op.name}: declare the Value method that applies it (methods=...)"
    x = Value(0.7)
    for method_name in op.methods:
        method = getattr(x, method_name)
        if isinstance(op, ops.OpFamily):
            assert applies(method(CONSTANT), op, CONSTANT)
            if op.default is not None:
                assert applies(method(), op)
        else:
            assert applies(method(), op)


@pytest.mark.parametrize("op", UNARY, ids=IDS)
def test_every_builtin_unary_op_is_an_expression_function_of_the_cli(op, capsys):
    if not op.function:
        assert op.name in OPERATOR_FORMS, f"{op.name}: give it a function name (function=...)"
        text, constants = OPERATOR_FORMS[op.name]
        assert applies(parse_expression(text).evaluate({"a": 0.7}), op, *constants)
        return
    assert op.function in FUNCTIONS
    assert op.function in cli_help(capsys).split("functions:")[1]
    assert applies(parse_expression(f"{op.function}(a)").evaluate({"a": 0.7}), op)
    if isinstance(op, ops.OpFamily):
        node = parse_expression(f"{op.function}(a, {CONSTANT})").evaluate({"a": 0.7})
        assert applies(node, op, CONSTANT)


def test_expression_functions_are_exactly_the_named_builtins():
    assert set(FUNCTIONS) == {op.function for op in ops.BUILTINS if op.function}


@pytest.mark.parametrize("op", ops.BUILTINS, ids=[f"{op.name}/{op.arity}" for op in ops.BUILTINS])
def test_every_builtin_method_docstring_states_the_declared_formula_and_derivatives(op):
    for method_name in op.methods:
        doc = getattr(Value, method_name).__doc__
        assert op.formula in doc and all(d in doc for d in op.derivatives), (method_name, doc)


def test_leaky_relu_docstring_names_its_slope_and_default_from_the_table():
    doc = Value.leaky_relu.__doc__
    assert "Max(x, 0) + slope*Min(x, 0)" in doc and "default 0.01" in doc
    assert "Heaviside(x, 0) + slope*(1 - Heaviside(x, 0))" in doc


def test_value_leaky_relu_default_slope_is_the_declared_default():
    default = inspect.signature(Value.leaky_relu).parameters["slope"].default
    assert default == ops.LEAKY_RELU.default == ops.DEFAULT_SLOPE
    assert Value(-2.0).leaky_relu().data == -2.0 * ops.DEFAULT_SLOPE


def test_family_op_keeps_the_exact_constant_in_its_formula_and_a_short_one_in_its_symbol():
    op = ops.leaky_relu(0.123456789)
    assert op.formula == "Max(x, 0) + 0.123456789*Min(x, 0)"
    assert op.symbol == "leaky_relu(0.123457)" and op.params == (0.123456789,)
    assert ops.power(2).formula == "x**2.0" and ops.power(2).symbol == "**2"
    assert ops.power(2).derivatives == ("2.0*x**(2.0 - 1)",)


def test_nn_activations_are_the_table_activations_and_linear():
    declared = {op.function: op for op in ops.BUILTINS if op.activation}
    assert set(ACTIVATIONS) == set(declared) | {"linear"} and ACTIVATIONS["linear"] is None
    for name, op in declared.items():
        assert applies(ACTIVATIONS[name](Value(-0.4)), op)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_check_neuron_forward_accepts_a_right_neuron_for_every_activation(activation, capsys):
    apply = ACTIVATIONS[activation]

    def neuron_forward(weights, bias, inputs):
        total = bias
        for w, x in zip(weights, inputs):
            total = total + w * x
        return total if apply is None else apply(total)

    check_neuron_forward(neuron_forward, activation)
    assert capsys.readouterr().out.startswith("PASS")


def test_check_neuron_forward_names_relu_given_for_leaky_relu():
    def relu_neuron(weights, bias, inputs):
        total = bias
        for w, x in zip(weights, inputs):
            total = total + w * x
        return total.relu()

    with pytest.raises(CheckFailure) as failure:
        check_neuron_forward(relu_neuron, "leaky_relu")
    assert failure.value.mistake == "wrong_activation" and "That is relu" in str(failure.value)
