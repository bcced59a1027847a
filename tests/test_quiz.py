"""Quiz mode of the stepper, the Python half: what the page asks before each step, the
mistakes it can name, the op formulas it shows, and the page and widget that carry them.
The browser half (typing answers) is in tests/test_stepper_browser.py."""
import html
import json
import math
import re

import pytest

from glassgrad.engine import Op, Value, topological_order
from glassgrad.engine.ops import BUILTIN_OPS
from glassgrad.viz import backprop_steps, index_graph, step_views, step_widget, stepper_html
from glassgrad.viz.stepper import QUIZ_TOLERANCE, quiz_answers


def labelled(value, label):
    value.label = label
    return value


def used_twice(a=2.0, b=-3.0, k=3.0):
    """L = k * (a*b + a) at a = 2, b = -3, k = 3: a is used twice, and the gradient
    flowing into a*b is 3, not 1, so every mistake gives its own number.

    By hand, in backward's order:
      L = k * d   d.grad = k = 3,          k.grad = d = -4
      d = c + a   c.grad = 3,              a.grad = 3 (so far)
      c = a * b   a.grad = 3 + 3*b = -6,   b.grad = 3*a = 6
    """
    a, b, k = Value(a, label="a"), Value(b, label="b"), Value(k, label="k")
    c = labelled(a * b, "c")
    d = labelled(c + a, "d")
    return labelled(k * d, "L"), (a, b, k)


def answers_by_step(root):
    index = index_graph(root)
    return [{answer.name: answer for answer in quiz_answers(frame, index)}
            for frame in backprop_steps(root, index=index)]


def mistakes_of(answer):
    return [(m.code, m.answer) for m in answer.mistakes]


def finite_difference(leaf, h=1e-6):
    """dL/d(leaf) of ``used_twice`` by central differences."""
    return (used_twice(**{leaf: LEAVES[leaf] + h})[0].data
            - used_twice(**{leaf: LEAVES[leaf] - h})[0].data) / (2 * h)


LEAVES = {"a": 2.0, "b": -3.0, "k": 3.0}


# ------------------------------------------------------------- the answers asked for


def test_each_answer_is_the_inputs_grad_after_the_step_as_backward_computes_it():
    L, _ = used_twice()
    index = index_graph(L)
    for frame in backprop_steps(L, index=index):
        answers = quiz_answers(frame, index)
        for answer in answers:
            last_update = [u for u in frame.inputs if u.index == answer.index][-1]
            assert answer.answer == last_update.grad_after
    assert [{name: a.answer for name, a in step.items()} for step in answers_by_step(L)] == [
        {"k": -4.0, "d": 3.0}, {"c": 3.0, "a": 3.0}, {"a": -6.0, "b": 6.0}]


def test_the_last_answer_for_each_leaf_is_its_gradient_by_finite_differences():
    L, leaves = used_twice()
    last_answer = {}
    for step in answers_by_step(L):
        last_answer.update({name: answer.answer for name, answer in step.items()})
    assert [leaf.label for leaf in leaves] == list(LEAVES)
    for leaf in LEAVES:
        assert math.isclose(last_answer[leaf], finite_difference(leaf), rel_tol=1e-6)


def test_an_input_used_twice_by_one_node_is_asked_once_with_both_shares_added():
    x, k = Value(2.0, label="x"), Value(3.0, label="k")
    L = labelled(k * labelled(x * x, "s"), "L")
    last = answers_by_step(L)[-1]
    assert list(last) == ["x"] and last["x"].answer == 12.0  # 3 * (2 + 2)
    assert ("overwrote_grad", 6.0) in mistakes_of(last["x"])   # one use's share only


def test_tolerance_is_one_percent_of_the_numbers_the_step_adds_up():
    L, _ = used_twice()
    a_in_last_step = answers_by_step(L)[-1]["a"]  # 3 + (-9): the larger is 9
    assert QUIZ_TOLERANCE == 0.01 and a_in_last_step.tolerance == pytest.approx(0.09)


def test_a_step_that_adds_nothing_to_nothing_wants_exactly_zero():
    x = Value(-1.0, label="x")
    L = labelled(labelled(x.relu(), "r") * 2.0, "L")
    r_step = [step for step in answers_by_step(L) if "x" in step][0]
    assert r_step["x"].answer == 0.0 and r_step["x"].tolerance == 0.0


# ------------------------------------------------------------- the mistakes named


def test_mistakes_in_a_step_give_the_numbers_worked_out_by_hand():
    L, _ = used_twice()
    step = answers_by_step(L)[-1]  # c = a * b passes c.grad = 3 back; a.grad was 3 already
    assert mistakes_of(step["a"]) == [
        ("overwrote_grad", -9.0),         # = instead of +=: only this step's 3 * b
        ("missing_chain_factor", 0.0),    # 3 + b: the local derivative without c.grad
        ("sign_error", 12.0),             # 3 - 3 * b
        ("swapped_inputs", 9.0),          # 3 + 3 * a: dc/db instead of dc/da
        ("returned_forward", -15.0),      # 3 + 3 * c: the op's value, not its slope
        ("factor_of_two", -15.0),         # 3 + 2 * (-9); named after returned_forward above
        ("factor_of_two", -1.5),          # 3 + (-9) / 2
        ("wrong_value", None),
    ]
    assert mistakes_of(step["b"]) == [   # b.grad was 0: no "=" mistake can be seen
        ("missing_chain_factor", 2.0), ("sign_error", -6.0), ("swapped_inputs", -9.0),
        ("returned_forward", -18.0), ("factor_of_two", 12.0), ("factor_of_two", 3.0),
        ("wrong_value", None)]


def test_mistakes_use_the_codes_of_the_checkers():
    from glassgrad.nn import checks
    source = open(checks.__file__, encoding="utf-8").read()
    L, _ = used_twice()
    codes = {m.code for step in answers_by_step(L) for answer in step.values() for m in answer.mistakes}
    codes |= {m.code for step in answers_by_step(labelled(Value(1.5, label="x").tanh(), "L"))
              for answer in step.values() for m in answer.mistakes}
    assert "used_input_for_output" in codes and "overwrote_grad" in codes
    for code in codes:
        assert f'"{code}"' in source, f"{code} is not a mistake code of nn.checks"


def test_a_mistake_that_gives_the_right_answer_is_left_out():
    L, _ = used_twice()
    first = answers_by_step(L)[0]  # the root passes dL/dL = 1: leaving it out changes nothing
    for answer in first.values():
        codes = [code for code, _ in mistakes_of(answer)]
        assert "missing_chain_factor" not in codes and "overwrote_grad" not in codes
        for _, wrong in mistakes_of(answer):
            assert wrong is None or abs(wrong - answer.answer) > answer.tolerance


def test_used_input_for_output_is_the_ops_derivative_with_x_in_place_of_out():
    x = Value(0.5, label="x")
    L = labelled(x.tanh(), "L")
    (step,) = answers_by_step(L)
    assert ("used_input_for_output", 1.0 - 0.5 ** 2) in mistakes_of(step["x"])


def test_an_op_whose_derivative_fails_with_x_for_out_gets_no_such_guess():
    # d/dx exp(x) written as exp(log(out)): with x = -1 in place of out, log(-1) fails
    odd_exp = Op("odd_exp", math.exp, lambda x, out: (math.exp(math.log(out)),))
    L = labelled(odd_exp(Value(-1.0, label="x")), "L")
    (step,) = answers_by_step(L)
    assert "used_input_for_output" not in [code for code, _ in mistakes_of(step["x"])]


# ------------------------------------------------------------- the page


def quiz_page(root):
    return stepper_html(root, quiz=True)


def test_without_quiz_the_page_asks_nothing():
    page = stepper_html(used_twice()[0])
    assert 'data-quiz="false"' in page and "<form" not in page and 'id="feedback"' not in page


def test_quiz_page_asks_before_every_step_with_one_box_per_updated_input():
    L, _ = used_twice()
    page = quiz_page(L)
    assert 'data-quiz="true"' in page
    forms = re.findall(r'<form class="question" data-frame="(\d+)" hidden>(.*?)</form>', page, re.S)
    expected = answers_by_step(L)
    assert [int(k) for k, _ in forms] == list(range(1, len(step_views(L))))
    for (_, form), answers in zip(forms, expected):
        boxes = re.findall(r'data-input="([^"]+)" data-answer="([^"]+)" data-tolerance="([^"]+)" '
                           r'data-mistakes="([^"]+)"', form)
        assert [name for name, *_ in boxes] == list(answers)
        for name, answer, tolerance, mistakes in boxes:
            assert float(answer) == answers[name].answer
            assert float(tolerance) == answers[name].tolerance
            assert json.loads(html.unescape(mistakes)) == [
                {"code": m.code, "hint": m.hint, "answer": m.answer} for m in answers[name].mistakes]


def test_quiz_page_is_self_contained_with_unique_ids():
    page = quiz_page(used_twice()[0])
    assert "<link" not in page and " src=" not in page and "@import" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_quiz_page_leaves_the_graphs_gradients_alone():
    L, _ = used_twice()
    L.backward()
    grads = [node.grad for node in topological_order(L)]
    quiz_page(L)
    assert [node.grad for node in topological_order(L)] == grads


@pytest.mark.parametrize("quiz", [False, True])
def test_every_op_node_is_focusable_and_carries_its_formula_from_the_op_table(quiz):
    x, y = Value(0.7, label="x"), Value(1.5, label="y")
    L = labelled((x / y).exp() + x.sigmoid() * y ** 2, "L")
    page = stepper_html(L, quiz=quiz)
    index = index_graph(L)
    op_positions = [i for i, node in enumerate(index.order) if node.op is not None]
    first_frame = page[page.index('<section class="frame" data-frame="0"'):
                       page.index('<section class="frame" data-frame="1"')]
    found = dict(re.findall(r'class="node" tabindex="0" data-op="op(\d+)" data-formula="([^"]*)"',
                            first_frame))
    assert sorted(map(int, found)) == op_positions
    for position in op_positions:
        op, text = index.order[position].op, html.unescape(found[str(position)])
        assert op.formula in text and all(d in text for d in op.derivatives)
    assert BUILTIN_OPS["div"].derivatives[1] in html.unescape(page)  # -x/y**2


def test_an_op_without_formulas_says_so_and_points_to_the_edges():
    plain = Op("plain", lambda x: 2.0 * x, lambda x, out: (2.0,))
    page = html.unescape(stepper_html(labelled(plain(Value(1.0, label="x")), "L"), quiz=True))
    assert "Op plain (no formula in the op table). Local derivative: the number on the edge" in page


def test_widget_in_quiz_mode_shows_the_quiz_page_inline():
    pytest.importorskip("IPython")
    L, _ = used_twice()
    shown = step_widget(L, quiz=True)
    assert type(shown).__name__ == "HTML" and "<iframe " in shown.data and " srcdoc=" in shown.data
    assert html.unescape(shown.data).count('<form class="question"') == len(step_views(L)) - 1
