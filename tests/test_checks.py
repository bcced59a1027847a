"""The exercise checkers (nn.checks): reference solutions pass, and every common wrong
answer fails with a CheckFailure that names the right mistake and says what to do."""
import math
import re
from pathlib import Path

import pytest
import sympy

import exercise_solutions as solution
import glassgrad.nn as nn
import glassgrad.nn.checks as checks
import glassgrad.nn.checks_optim as checks_optim
from glassgrad.engine import Value, ops, run_backward, topological_order
from glassgrad.nn.checks import (CheckFailure, accuracy_exercise_data, backward_exercise_graph,
                                 check_accuracy, check_backward_by_hand, check_local_derivative,
                                 check_neuron_forward, check_sgd_step)


def failure_of(check, *args, **kwargs) -> CheckFailure:
    with pytest.raises(CheckFailure) as caught:
        check(*args, **kwargs)
    return caught.value


def test_check_failure_is_an_assertion_error_so_a_notebook_cell_fails():
    assert issubclass(CheckFailure, AssertionError)


# ------------------------------------------------------------ local derivatives

@pytest.mark.parametrize("op_name, local_grads", [
    ("mul", solution.mul_local_grads),
    ("div", solution.div_local_grads),
    ("tanh", solution.tanh_local_grads),
    ("sigmoid", solution.sigmoid_local_grads),
    ("exp", solution.exp_local_grads),
])
def test_local_derivative_reference_solutions_pass(op_name, local_grads, capsys):
    check_local_derivative(op_name, local_grads)
    assert capsys.readouterr().out.startswith(f"PASS check_local_derivative('{op_name}')")


def test_local_derivative_accepts_a_bare_number_for_one_input():
    check_local_derivative("tanh", lambda x, out: 1.0 - out * out)


def test_local_derivative_checks_a_parameterized_op():
    check_local_derivative(ops.power(3), lambda x, out: 3 * x * x)
    assert failure_of(check_local_derivative, ops.power(3),
                      lambda x, out: 3 * x * x * x).mistake == "wrong_value"


@pytest.mark.parametrize("op_name, wrong, mistake, words", [
    ("tanh", lambda x, out: (out * out - 1.0,), "sign_error", "sign"),
    ("tanh", lambda x, out: (1.0 - x * x,), "used_input_for_output", "uses x where it needs out"),
    ("tanh", lambda x, out: (math.tanh(x),), "returned_forward", "not its slope"),
    ("sigmoid", lambda x, out: (out * (1.0 - out) * 2,), "factor_of_two", "Twice"),
    ("sigmoid", lambda x, out: (out * (1.0 - out) / 2,), "factor_of_two", "Half"),
    ("sigmoid", lambda x, out: (1.0 - out,), "wrong_value", "finite-difference"),
    ("mul", lambda x, y, out: (x, y), "swapped_inputs", "swapped"),
    ("div", lambda x, y, out: (-x / y**2, 1.0 / y), "swapped_inputs", "swapped"),
    ("div", lambda x, y, out: (1.0 / y, x / y**2), "sign_error", "sign"),
])
def test_local_derivative_wrong_answer_gets_its_hint(op_name, wrong, mistake, words):
    failure = failure_of(check_local_derivative, op_name, wrong)
    assert failure.mistake == mistake
    assert words in failure.hint


def test_local_derivative_failure_names_the_input_expected_got_and_finite_difference():
    failure = failure_of(check_local_derivative, "div", lambda x, y, out: (1.0 / y, x / y**2))
    x, y = 1.5, -0.5  # the first test point
    message = str(failure)
    assert "with respect to y" in message and f"x = {x!r}, y = {y!r}" in message
    assert f"expected {-x / y**2:.6g}, got {x / y**2:.6g}" in message
    assert f"finite differences give {-x / y**2:.6g}" in message


@pytest.mark.parametrize("unfinished", [
    lambda x, out: None,
    lambda x, out: (None,),
    pytest.param("raise", id="raises NotImplementedError"),
])
def test_local_derivative_unfinished_todo_says_todo(unfinished):
    if unfinished == "raise":
        def unfinished(x, out):
            raise NotImplementedError
    failure = failure_of(check_local_derivative, "tanh", unfinished)
    assert failure.mistake == "todo" and "TODO" in failure.hint


def test_local_derivative_one_number_for_two_inputs_is_a_shape_error():
    failure = failure_of(check_local_derivative, "div", lambda x, y, out: 1.0 / y)
    assert failure.mistake == "wrong_shape" and "one local derivative per input" in failure.hint


def test_local_derivative_returning_a_value_is_a_type_error():
    failure = failure_of(check_local_derivative, "tanh", lambda x, out: (Value(1.0) - out * out,))
    assert failure.mistake == "wrong_type"


def test_wrong_parameters_are_named_not_crashed_on():
    failure = failure_of(check_local_derivative, "tanh", lambda x: 1.0 - math.tanh(x) ** 2)
    assert failure.mistake == "wrong_signature" and "parameters" in str(failure)
    failure = failure_of(check_backward_by_hand, lambda a, b, u, t: None)
    assert failure.mistake == "wrong_signature" and "'L'" in str(failure)


def test_local_derivative_unknown_op_name_is_a_value_error():
    with pytest.raises(ValueError, match="no built-in op named 'tan'"):
        check_local_derivative("tan", solution.tanh_local_grads)


# ------------------------------------------------------------- backward by hand

def test_backward_by_hand_reference_solution_passes(capsys):
    check_backward_by_hand(solution.backward_by_hand)
    assert capsys.readouterr().out.startswith("PASS check_backward_by_hand")


def test_backward_exercise_graph_is_not_notebook_3s_graph():
    # Notebook 3 steps through L = tanh(a*b + a) with a = 0.5, b = -1.5 and prints its gradients.
    nodes = backward_exercise_graph()
    L = nodes["L"]
    assert [node.op.name for node in (nodes["u"], nodes["t"], L)] == ["mul", "tanh", "mul"]
    assert (nodes["a"].data, nodes["b"].data) != (0.5, -1.5)
    assert L.inputs == (nodes["t"], nodes["u"]) and nodes["t"].inputs == (nodes["u"],)  # u used twice
    a, b = sympy.symbols("a b")
    expression = sympy.tanh(a * b) * a * b
    L.backward()
    at = {a: nodes["a"].data, b: nodes["b"].data}
    for name, symbol in (("a", a), ("b", b)):
        assert math.isclose(nodes[name].grad, float(sympy.diff(expression, symbol).subs(at)))


def backward_overwriting_u(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad
    u.grad = t.data * L.grad
    u.grad = (1.0 - t.data ** 2) * t.grad
    a.grad = b.data * u.grad
    b.grad = a.data * u.grad


def backward_missing_chain_factor_for_b(a, b, u, t, L):
    solution.backward_by_hand(a, b, u, t, L)
    b.grad = a.data


def backward_with_sign_error_at_t(a, b, u, t, L):
    L.grad = 1.0
    t.grad = -u.data * L.grad
    u.grad += t.data * L.grad + (1.0 - t.data ** 2) * t.grad
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad


def backward_without_seed(a, b, u, t, L):
    t.grad = u.data
    u.grad += t.data + (1.0 - t.data ** 2) * t.grad
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad


def backward_with_tanh_input_for_output(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad
    u.grad += t.data * L.grad
    u.grad += (1.0 - u.data ** 2) * t.grad      # 1 - u**2: tanh's input, not its output t
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad


def backward_with_a_own_value_for_du_da(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad
    u.grad += t.data * L.grad
    u.grad += (1.0 - t.data ** 2) * t.grad
    a.grad += a.data * u.grad                   # du/da is b, the other input
    b.grad += a.data * u.grad


def backward_passing_u_on_before_its_term_through_L(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad
    u.grad += (1.0 - t.data ** 2) * t.grad      # only the term through t, so far
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad
    u.grad += t.data * L.grad                   # too late for a and b


def backward_passing_u_on_before_its_term_through_t(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad
    u.grad += t.data * L.grad                   # only the term through L, so far
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad
    u.grad += (1.0 - t.data ** 2) * t.grad      # too late for a and b


def backward_with_tanh_applied_twice(a, b, u, t, L):
    L.grad = 1.0
    t.grad = u.data * L.grad
    u.grad += t.data * L.grad
    u.grad += (1.0 - math.tanh(t.data) ** 2) * t.grad   # t is tanh(u) already
    a.grad += b.data * u.grad
    b.grad += a.data * u.grad


@pytest.mark.parametrize("wrong, mistake, node", [
    (backward_with_a_own_value_for_du_da, "swapped_inputs", "a"),
    (backward_passing_u_on_before_its_term_through_L, "used_unfinished_grad", "b"),
    (backward_passing_u_on_before_its_term_through_t, "used_unfinished_grad", "b"),
    (backward_with_tanh_applied_twice, "applied_twice", "u"),
    (backward_overwriting_u, "overwrote_grad", "u"),
    (backward_missing_chain_factor_for_b, "missing_chain_factor", "b"),
    (backward_with_sign_error_at_t, "sign_error", "t"),
    (backward_without_seed, "root_not_seeded", "L"),
    (backward_with_tanh_input_for_output, "used_input_for_output", "u"),
])
def test_backward_by_hand_wrong_answer_gets_its_hint(wrong, mistake, node):
    failure = failure_of(check_backward_by_hand, wrong)
    assert failure.mistake == mistake
    assert str(failure).startswith(f"check_backward_by_hand: {node}.grad is wrong: expected ")


def test_backward_by_hand_overwrite_hint_says_accumulate_with_plus_equals():
    assert "+= instead of overwriting with =" in failure_of(check_backward_by_hand,
                                                            backward_overwriting_u).hint


def test_backward_by_hand_tanh_derivative_from_its_input_names_the_output_with_the_numbers():
    failure = failure_of(check_backward_by_hand, backward_with_tanh_input_for_output)
    nodes = backward_exercise_graph()
    u, t = nodes["u"].data, nodes["t"].data
    assert f"dt/du = 1 - t**2 = {1 - t * t:.4g}, with the OUTPUT t = {t:.4g}" in failure.hint
    assert f"what 1 - u**2 = {1 - u * u:.4g} gives, with the input u = {u:.4g}" in failure.hint
    assert "d tanh(x)/dx = 1 - tanh(x)**2 is written in tanh's output" in failure.hint


def test_backward_by_hand_with_a_own_value_for_du_da_says_du_da_is_b():
    failure = failure_of(check_backward_by_hand, backward_with_a_own_value_for_du_da)
    a, b = backward_exercise_graph()["a"].data, backward_exercise_graph()["b"].data
    assert failure.hint == (f"u = a*b, so du/da = b = {b:.4g}. Your a.grad is what a = {a:.4g} gives: "
                            "the derivative with respect to the other input, b.")


def test_backward_by_hand_swapped_inputs_names_a_constant_input_by_its_value():
    def build():
        x = Value(1.5, label="x")
        y = x * 3.0
        y.label = "y"
        return {"x": x, "y": y}

    def own_value_for_dy_dx(x, y):
        y.grad = 1.0
        x.grad += x.data * y.grad
    failure = failure_of(check_backward_by_hand, own_value_for_dy_dx, build=build)
    assert failure.mistake == "swapped_inputs"
    assert failure.hint == ("y = x*3, so dy/dx = 3 = 3. Your x.grad is what x = 1.5 gives: the "
                            "derivative with respect to the other input, 3.")


@pytest.mark.parametrize("wrong, through", [
    (backward_passing_u_on_before_its_term_through_L, "t"),
    (backward_passing_u_on_before_its_term_through_t, "L"),
])
def test_backward_by_hand_that_passes_u_on_unfinished_says_finish_u_grad_first(wrong, through):
    failure = failure_of(check_backward_by_hand, wrong)
    reference = backward_exercise_graph()
    reference["L"].backward()
    u, t = reference["u"], reference["t"]
    partial = t.data * 1.0 if through == "L" else (1.0 - t.data ** 2) * t.grad
    assert failure.hint.startswith(f"Your b.grad used u.grad = {partial:.4g}, only its gradient through "
                                   f"{through}; u is used 2 times, so u.grad = {u.grad:.4g} once every "
                                   "term is added. Finish u.grad (all of its += lines) before using it "
                                   "for b")


def test_backward_by_hand_with_tanh_applied_twice_says_t_is_tanh_u_already():
    failure = failure_of(check_backward_by_hand, backward_with_tanh_applied_twice)
    t = backward_exercise_graph()["t"].data
    assert failure.hint == (f"t = tanh(u), so dt/du = 1 - t**2 = {1 - t * t:.4g}. Your u.grad is what "
                            f"1 - tanh(t)**2 = {1 - math.tanh(t) ** 2:.4g} gives: that applies tanh "
                            "twice (t is tanh(u) already).")


def sigmoid_graph():
    x = Value(0.8, label="x")
    s = x.sigmoid()
    s.label = "s"
    return {"x": x, "s": s}


def test_backward_by_hand_sigmoid_from_its_input_gets_no_hint_whose_two_formulas_read_the_same():
    # sigmoid's declared derivative, exp(-x)/(1 + exp(-x))**2, does not contain its formula, so
    # "from the output" and "from the input" would print the same text: that guess is left out.
    def sigmoid_derivative_from_its_input(x, s):
        s.grad = 1.0
        x.grad += x.data * (1.0 - x.data) * s.grad
    failure = failure_of(check_backward_by_hand, sigmoid_derivative_from_its_input, build=sigmoid_graph)
    assert failure.mistake == "wrong_value" and "Apply the chain rule" in failure.hint


def test_backward_by_hand_sigmoid_applied_twice_is_named():
    def sigmoid_of_its_output(x, s):
        s.grad = 1.0
        twice = 1.0 / (1.0 + math.exp(-s.data))
        x.grad += twice * (1.0 - twice) * s.grad
    failure = failure_of(check_backward_by_hand, sigmoid_of_its_output, build=sigmoid_graph)
    assert failure.mistake == "applied_twice"
    assert "exp(-s)/(1 + exp(-s))**2" in failure.hint and "applies sigmoid twice" in failure.hint


def test_backward_by_hand_that_forgets_the_seed_so_every_grad_is_zero_names_the_seed():
    def backward_times_an_unseeded_root(a, b, u, t, L):   # right, except that L.grad stays 0
        t.grad = u.data * L.grad
        u.grad += t.data * L.grad
        u.grad += (1.0 - t.data ** 2) * t.grad
        a.grad += b.data * u.grad
        b.grad += a.data * u.grad
    failure = failure_of(check_backward_by_hand, backward_times_an_unseeded_root)
    assert failure.mistake == "root_not_seeded"
    assert "every gradient is 0, L.grad included" in failure.problem
    assert "set L.grad = 1.0 first (dL/dL = 1)" in failure.hint and "TODO" not in failure.hint


def test_backward_by_hand_that_sets_nothing_says_todo_and_how_to_start():
    failure = failure_of(check_backward_by_hand, lambda a, b, u, t, L: None)
    assert failure.mistake == "todo" and "L.grad = 1.0" in failure.hint


@pytest.mark.parametrize("engine_does_it", [
    lambda a, b, u, t, L: L.backward(),
    lambda a, b, u, t, L: run_backward(L),
    pytest.param("propagate", id="propagate() node by node"),
])
def test_backward_by_hand_that_calls_backward_fails_saying_do_it_by_hand(engine_does_it):
    if engine_does_it == "propagate":
        def engine_does_it(a, b, u, t, L):
            L.grad = 1.0
            for node in (L, t, u):
                node.propagate()
    failure = failure_of(check_backward_by_hand, engine_does_it)
    assert failure.mistake == "called_backward"
    assert "do it by hand: don't call L.backward()" in failure.hint


def test_backward_by_hand_that_reads_only_data_is_not_taken_for_backward():
    def by_hand_then_draws(a, b, u, t, L):
        solution.backward_by_hand(a, b, u, t, L)
        assert topological_order(L)[-1] is L  # looking at the graph is fine
    check_backward_by_hand(by_hand_then_draws)


def test_backward_by_hand_works_on_a_teachers_own_graph():
    def build():
        x = Value(1.5, label="x")
        y = x * x
        return {"x": x, "y": y}

    def by_hand(x, y):
        y.grad = 1.0
        x.grad += 2 * x.data * y.grad

    check_backward_by_hand(by_hand, build=build)
    failure = failure_of(check_backward_by_hand, lambda x, y: setattr(y, "grad", 1.0), build=build)
    assert "x.grad is wrong" in str(failure)


# ---------------------------------------------------------------- neuron forward

def test_neuron_forward_reference_solution_passes(capsys):
    check_neuron_forward(solution.neuron_forward)
    assert capsys.readouterr().out.startswith("PASS check_neuron_forward")


def test_neuron_forward_checks_other_activations():
    def relu_neuron(weights, bias, inputs):
        return (sum((w * x for w, x in zip(weights, inputs)), bias)).relu()
    check_neuron_forward(relu_neuron, activation="relu")
    assert failure_of(check_neuron_forward, relu_neuron).mistake == "wrong_activation"


def weighted_sum(weights, inputs):
    return sum((w * x for w, x in zip(weights, inputs)), Value(0.0))


@pytest.mark.parametrize("wrong, mistake, words", [
    (lambda w, b, x: weighted_sum(w, x).tanh(), "missing_bias", "forget to add the bias"),
    (lambda w, b, x: weighted_sum(w, x) + b, "missing_activation", ".tanh()"),
    (lambda w, b, x: weighted_sum(w, x).tanh() + b, "bias_after_activation", "inside"),
    (lambda w, b, x: (weighted_sum(w, x) + b).sigmoid(), "wrong_activation", "sigmoid"),
    (lambda w, b, x: math.tanh(weighted_sum(w, x).data + b.data), "not_a_value", "Value ops"),
    (lambda w, b, x: Value((weighted_sum(w, x) + b).data).tanh(), "graph_cut", ".data"),
    (lambda w, b, x: (w[0] * x[0] + b).tanh(), "wrong_value", "w0*x0 + w1*x1"),
    (lambda w, b, x: None, "todo", "TODO"),
])
def test_neuron_forward_wrong_answer_gets_its_hint(wrong, mistake, words):
    failure = failure_of(check_neuron_forward, wrong)
    assert failure.mistake == mistake
    assert words in failure.hint


def neuron_adding_the_bias_per_input(weights, bias, inputs, activation="tanh"):
    out = Value(0.0)
    for w, x in zip(weights, inputs):
        out = out + w * x + bias                # n times b
    return getattr(out, activation)()


def neuron_activating_each_term(weights, bias, inputs, activation="tanh"):
    out = bias
    for w, x in zip(weights, inputs):
        out = out + getattr(w * x, activation)()
    return out


def neuron_activating_each_term_and_the_sum(weights, bias, inputs, activation="tanh"):
    return getattr(neuron_activating_each_term(weights, bias, inputs, activation), activation)()


def neuron_activating_the_running_sum(weights, bias, inputs, activation="tanh"):
    out = bias
    for w, x in zip(weights, inputs):
        out = getattr(out + w * x, activation)()
    return out


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("wrong, mistake, words", [
    (neuron_adding_the_bias_per_input, "bias_added_per_input", "the bias once per input"),
    (neuron_activating_each_term, "activation_per_term", "once, after the loop"),
    (neuron_activating_each_term_and_the_sum, "activation_per_term", "not to each term"),
    (neuron_activating_the_running_sum, "activation_per_term", "to the whole sum"),
])
def test_neuron_forward_bias_or_activation_inside_the_loop_gets_its_hint(wrong, mistake, words, activation):
    failure = failure_of(check_neuron_forward,
                         lambda w, b, x: wrong(w, b, x, activation), activation=activation)
    assert failure.mistake == mistake
    assert words in failure.hint
    if mistake == "activation_per_term":
        assert f"Apply .{activation}() once" in failure.hint


def test_neuron_forward_with_two_hard_coded_inputs_says_it_used_only_the_first_2_of_3():
    failure = failure_of(check_neuron_forward, lambda w, b, x: (w[0] * x[0] + w[1] * x[1] + b).tanh())
    assert failure.mistake == "hard_coded_inputs"
    assert failure.hint.startswith("Your neuron used only the first 2 of 3 inputs")
    assert "inputs=[1.0, 2.0, -0.5]" in failure.problem  # the neuron with 3 inputs


def test_neuron_forward_with_three_hard_coded_inputs_is_named_at_the_neuron_with_two():
    failure = failure_of(check_neuron_forward,
                         lambda w, b, x: (w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + b).tanh())
    assert failure.mistake == "hard_coded_inputs"
    assert "IndexError" in failure.problem and "a neuron with 2 inputs" in failure.problem
    assert "reads more inputs than it was given" in failure.hint


def test_neuron_forward_failure_shows_the_case_expected_and_got():
    message = str(failure_of(check_neuron_forward, lambda w, b, x: weighted_sum(w, x).tanh()))
    expected = math.tanh(0.5 * 1.0 - 1.2 * 2.0 + 0.8 * -0.5 + 0.3)
    assert "weights=[0.5, -1.2, 0.8], bias=0.3, inputs=[1.0, 2.0, -0.5]" in message
    assert f"expected {expected:.6g}" in message


# ------------------------------------------------------------------- SGD step

def test_sgd_step_reference_solution_passes(capsys):
    check_sgd_step(solution.sgd_step)
    assert capsys.readouterr().out.startswith("PASS check_sgd_step")


def sgd_plus(parameters, learning_rate):
    for p in parameters:
        p.data += learning_rate * p.grad


def sgd_without_learning_rate(parameters, learning_rate):
    for p in parameters:
        p.data -= p.grad


def sgd_on_grad(parameters, learning_rate):
    for p in parameters:
        p.grad -= learning_rate * p.grad


def sgd_that_zeroes_grads(parameters, learning_rate):
    solution.sgd_step(parameters, learning_rate)
    for p in parameters:
        p.grad = 0.0


def sgd_returning_new_values(parameters, learning_rate):
    return [Value(p.data - learning_rate * p.grad) for p in parameters]


def sgd_with_fixed_rate(parameters, learning_rate):
    solution.sgd_step(parameters, 0.1)


@pytest.mark.parametrize("wrong, mistake, words", [
    (sgd_plus, "plus_instead_of_minus", "uphill"),
    (sgd_without_learning_rate, "missing_learning_rate", "learning rate"),
    (sgd_on_grad, "updated_grad", "not p.grad"),
    (sgd_that_zeroes_grads, "changed_grad", "Leave the gradients alone"),
    (sgd_returning_new_values, "not_in_place", "in place"),
    (sgd_with_fixed_rate, "wrong_value", "-learning_rate * p.grad"),
    (lambda parameters, learning_rate: None, "todo", "TODO"),
])
def test_sgd_step_wrong_answer_gets_its_hint(wrong, mistake, words):
    failure = failure_of(check_sgd_step, wrong)
    assert failure.mistake == mistake
    assert words in failure.hint


def test_sgd_step_failure_names_data_grad_rate_expected_and_got():
    message = str(failure_of(check_sgd_step, sgd_plus))
    assert "data = 0.5, grad = 0.3 and learning_rate = 0.1" in message
    assert f"expected p.data = {0.5 - 0.1 * 0.3:.6g}, got {0.5 + 0.1 * 0.3:.6g}" in message


# ------------------------------------------------------------------- accuracy

POINTS = [[x / 10, 1.0] for x in range(-10, 10)]
LABELS = [1 if x >= 0 else 0 for x, _ in POINTS]


def perfect(x):
    return Value(x[0] + 0.05)


def test_accuracy_passes_and_returns_the_accuracy(capsys):
    assert check_accuracy(perfect, POINTS, LABELS, target=0.9) == 1.0
    assert capsys.readouterr().out == "PASS check_accuracy(target=90%): accuracy 100.0% on 20 points\n"


def test_accuracy_reads_minus_one_and_one_labels_by_sign():
    assert check_accuracy(perfect, POINTS, [2 * label - 1 for label in LABELS]) == 1.0


def test_accuracy_of_several_outputs_is_the_argmax():
    def two_outputs(x):
        return [Value(-x[0]), Value(x[0] + 0.05)]
    assert check_accuracy(two_outputs, POINTS, LABELS) == 1.0


@pytest.mark.parametrize("model, mistake", [
    (None, "todo"),
    (lambda x: -perfect(x), "inverted"),
    (lambda x: Value(1.0), "no_learning"),
    (lambda x: Value(x[0] + 0.55), "not_enough"),
    (lambda x: "cat", "wrong_type"),
    (lambda x: x[0] + 0.05, "wrong_type"),
])
def test_accuracy_below_target_gets_its_hint(model, mistake):
    assert failure_of(check_accuracy, model, POINTS, LABELS, target=0.9).mistake == mistake


def test_accuracy_with_mismatched_data_is_a_value_error():
    with pytest.raises(ValueError, match="same non-zero length"):
        check_accuracy(perfect, POINTS, LABELS[:-1])


def test_accuracy_of_one_output_for_three_classes_says_one_output_per_class():
    three_classes = [0, 1, 2] * 5
    failure = failure_of(check_accuracy, lambda x: Value(x[0]), POINTS[:15], three_classes)
    assert failure.mistake == "wrong_output_count"
    assert "1 output(s) for 3 classes" in failure.problem
    assert "one neuron per class" in failure.hint and "softmax_cross_entropy" in failure.hint
    two_outputs = failure_of(check_accuracy, lambda x: [Value(x[0]), Value(-x[0])],
                             POINTS[:15], three_classes)
    assert two_outputs.mistake == "wrong_output_count"


# ----------------------------------------------- exercise 5: three spirals, held out

def test_exercise_5_data_is_three_spirals_with_held_out_points_never_trained_on():
    X_train, y_train, X_test, y_test = accuracy_exercise_data()
    assert (len(X_train), len(X_test)) == (180, 120)
    assert set(y_train) == set(y_test) == {0, 1, 2}
    assert not {tuple(x) for x in X_train} & {tuple(x) for x in X_test}
    assert accuracy_exercise_data() == (X_train, y_train, X_test, y_test)  # fixed seeds


def test_exercise_5_reference_model_passes_with_a_margin_and_an_untrained_one_misses():
    X_train, y_train, X_test, y_test = accuracy_exercise_data()
    target = 0.9
    reference = check_accuracy(solution.train_model(X_train, y_train), X_test, y_test, target=target)
    assert reference >= target + 0.05
    untrained = failure_of(check_accuracy, nn.MLP(2, [16, 16, 3], seed=0), X_test, y_test,
                           target=target)
    assert untrained.mistake == "no_learning"


def test_exercise_5_model_trained_on_misaligned_labels_misses_the_target():
    X_train, y_train, X_test, y_test = accuracy_exercise_data()
    model = nn.MLP(2, [16, 16, 3], seed=0)
    nn.fit(model, X_train, sorted(y_train), loss="softmax_cross_entropy", optimizer="adam",
           lr=0.05, epochs=100, progress=False)      # the bug: labels sorted, points not
    assert failure_of(check_accuracy, model, X_test, y_test, target=0.9).mistake == "no_learning"


def test_exercise_5_returning_fits_history_says_return_the_model():
    X_train, y_train, X_test, y_test = accuracy_exercise_data()
    history = nn.fit(nn.MLP(2, [4, 3], seed=0), X_train, y_train, loss="softmax_cross_entropy",
                     epochs=1, progress=False)
    failure = failure_of(check_accuracy, history, X_test, y_test)
    assert failure.mistake == "returned_history"
    assert "the model is a History" in failure.problem
    assert failure.hint.startswith("You returned fit's History; return the model (fit trains it in place)")


@pytest.mark.parametrize("straight", [
    lambda: nn.MLP(2, [3], seed=0),
    lambda: nn.Sequential([nn.Dense(3, input_dim=2)], seed=0),
], ids=["MLP", "Sequential"])
def test_exercise_5_model_without_a_hidden_layer_is_told_to_add_one(straight):
    X_train, y_train, X_test, y_test = accuracy_exercise_data()
    model = straight()
    nn.fit(model, X_train, y_train, loss="softmax_cross_entropy", optimizer="adam", lr=0.05,
           epochs=60, progress=False)
    failure = failure_of(check_accuracy, model, X_test, y_test, target=0.9)
    assert failure.mistake == "no_hidden_layer"
    assert failure.hint.startswith("No hidden layer: a straight-line model cannot follow curves such "
                                   "as spirals; add a hidden layer (e.g. nn.MLP(2, [16, 16, 3]))")


def test_exercise_5_model_with_a_hidden_layer_below_target_is_not_told_to_add_one():
    X_train, y_train, X_test, y_test = accuracy_exercise_data()
    model = nn.MLP(2, [4, 3], seed=0)
    nn.fit(model, X_train, y_train, loss="softmax_cross_entropy", optimizer="adam", lr=0.05,
           epochs=10, progress=False)
    failure = failure_of(check_accuracy, model, X_test, y_test, target=0.99)
    assert failure.mistake == "not_enough" and "hidden layer" not in failure.hint


# ------------------------------------------------- the teacher's guide names real codes

def test_every_code_in_the_teachers_misconceptions_table_is_one_a_checker_gives():
    guide = (Path(__file__).resolve().parent.parent / "notebooks" / "TEACHERS.md").read_text()
    table = guide.split("## Common misconceptions")[1].split("\n## ")[0]
    codes = {code for row in table.splitlines() if row.startswith('| "')
             for code in re.findall(r"`([a-z_]+)`", row.rsplit(" | ", 1)[-1])}
    source = Path(checks.__file__).read_text() + Path(checks_optim.__file__).read_text()
    assert {"returned_history", "no_hidden_layer", "applied_twice", "used_unfinished_grad",
            "bias_added_per_input", "activation_per_term"} <= codes
    assert [code for code in sorted(codes) if f'"{code}"' not in source] == []
