"""The grader's parts: the checkers' notebook display, and the Value graphs sent between processes."""
from __future__ import annotations

import json

import pytest

from glassgrad.engine import Value
from glassgrad.nn import checks
from glassgrad.nn.checks import CHECK_MIMETYPE, CheckFailure, check_sgd_step, failure_mode
from glassgrad.viz.sandbox import Wire


def todo_sgd_step(parameters, learning_rate):
    pass


def test_outside_jupyter_a_failing_check_raises(monkeypatch):
    monkeypatch.delenv("GLASSGRAD_CHECKS", raising=False)
    assert failure_mode() == "raise"
    with pytest.raises(CheckFailure, match="TODO"):
        check_sgd_step(todo_sgd_step)


def test_in_show_mode_a_failing_check_displays_a_styled_message_and_returns(monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw: shown.append(data))
    monkeypatch.setenv("GLASSGRAD_CHECKS", "show")
    assert check_sgd_step(todo_sgd_step) is None
    [data] = shown
    assert data["text/plain"].startswith("FAILED check_sgd_step: no parameter changed")
    assert "Hint:" in data["text/html"] and "Traceback" not in data["text/html"]
    assert data[CHECK_MIMETYPE]["mistake"] == "todo"


def test_the_displayed_message_escapes_html(monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw: shown.append(data))
    checks.show_failure(CheckFailure("check_x", "got <b>", "use <i>", "wrong_value"))
    assert "got &lt;b&gt;" in shown[0]["text/html"] and "<b>" not in shown[0]["text/html"].split("</div>")[1]


def test_off_mode_runs_no_check_at_all(monkeypatch):
    monkeypatch.setenv("GLASSGRAD_CHECKS", "off")
    assert check_sgd_step(todo_sgd_step) is None


def test_a_passing_check_still_prints_pass_in_every_mode(monkeypatch, capsys):
    def sgd_step(parameters, learning_rate):
        for p in parameters:
            p.data -= learning_rate * p.grad
    for mode in ("raise", "show"):
        monkeypatch.setenv("GLASSGRAD_CHECKS", mode)
        check_sgd_step(sgd_step)
        assert capsys.readouterr().out.startswith("PASS check_sgd_step")


def send(wire: Wire, obj: object) -> tuple[list, object]:
    """What one side puts on the pipe for ``obj``: its new graph rows and the encoded object."""
    encoded = wire.encode(obj)
    return json.loads(json.dumps(wire.new_rows())), json.loads(json.dumps(encoded))


def test_a_value_graph_arrives_whole_and_backward_runs_through_it():
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    L = (a * b + a).tanh()
    rows, encoded = send(Wire(None, None), [L, (a, {"b": b})])
    other = Wire(None, None)
    other.add_rows(rows)
    L2, (a2, named) = other.decode(encoded)
    assert isinstance(L2, Value) and named["b"].label == "b"
    L.backward()
    L2.backward()
    assert (L2.data, a2.grad, named["b"].grad) == (L.data, a.grad, b.grad)


def test_what_the_student_did_to_the_arguments_comes_back():
    grader = Wire(None, None)
    p = Value(2.0, label="p")
    rows, encoded = send(grader, [p])
    student = Wire(None, None)
    student.add_rows(rows)
    [p_there] = student.decode(encoded)
    p_there.data, p_there.grad = 1.5, 0.25
    grader.set_state(json.loads(json.dumps(student.state(1))))
    assert (p.data, p.grad) == (1.5, 0.25)


def test_other_objects_travel_as_handles():
    kept = []
    wire = Wire(lambda obj: kept.append(obj) or {"handle": len(kept) - 1}, lambda data: kept[data["handle"]])
    model = object()
    assert wire.decode(wire.encode(model)) is model
