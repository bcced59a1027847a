"""``glassgrad grade`` over a corpus of submissions generated from the exercise notebooks.

Each submission is an exercise notebook with some cells rewritten the way students do:
correct, each typical mistake, untouched TODOs, an exception, an infinite loop, a memory
hog, a file written outside the working folder, a redefined checker, a printed "PASS",
patched expected values, a syntax error, a deleted or reordered cell, os._exit, invalid
JSON, a huge notebook. Every row and the gist of every message is asserted.
"""
from __future__ import annotations

import csv
import hashlib
import inspect
import json
import socket
from pathlib import Path

import pytest

import exercise_solutions as solution
from glassgrad.viz import sandbox
from glassgrad.viz.cli import main as cli_main
from glassgrad.viz.grade import grade

EXERCISES = Path(__file__).resolve().parent.parent / "notebooks" / "exercises"


def exercise(name: str) -> Path:
    return next(EXERCISES.glob(f"{name}_*.ipynb"))


def notebook_of(name: str) -> dict:
    return json.loads(exercise(name).read_text())


def code(*lines: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": "\n".join(lines)}


def solved(name: str, **answers: str) -> dict:
    """Exercise ``name`` with every TODO cell solved, except the sources given in ``answers``
    (by function name; None deletes that cell)."""
    notebook = notebook_of(name)
    for cell in list(notebook["cells"]):
        for tag in cell["metadata"].get("tags", []):
            if tag.startswith("solution:"):
                function = tag.partition(":")[2]
                source = answers.get(function, inspect.getsource(getattr(solution, function)))
                if source is None:
                    notebook["cells"].remove(cell)
                else:
                    cell["source"] = source
    return notebook


def with_cells(notebook: dict, *cells: dict, at: int = 2) -> dict:
    notebook["cells"][at:at] = list(cells)
    return notebook


def write(folder: Path, student: str, notebook: dict | str | bytes) -> Path:
    path = folder / f"{student}.ipynb"
    if isinstance(notebook, dict):
        path.write_text(json.dumps(notebook, indent=1))
    elif isinstance(notebook, str):
        path.write_text(notebook)
    else:
        path.write_bytes(notebook)
    return path


def fingerprints(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def read_grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


def assert_graded(out: Path, expected: dict[str, tuple[dict[str, int], dict[str, list[str]]]]):
    """Every row's points, and the words each listed check's message must contain."""
    grades, results = read_grades(out), json.loads((out / "results.json").read_text())
    assert sorted(grades) == sorted(expected) == list(results)
    for student, (points, words) in expected.items():
        tests = {test["name"]: test for test in results[student]["tests"]}
        for check, value in points.items():
            assert grades[student][check] == str(value), (student, check, tests[check]["message"])
            assert tests[check]["points"] == value
        assert results[student]["score"] == sum(points.values()) == int(grades[student]["total"])
        for check, fragments in words.items():
            for fragment in fragments:
                assert fragment in tests[check]["message"], (student, check, tests[check]["message"])
        assert (out / "feedback" / f"{student}.html").is_file()


EX01_CHECKS = ("mul", "div", "tanh", "sigmoid", "exp")


def ex01_points(**zeros: int) -> dict[str, int]:
    full = {"mul": 1, "div": 2, "tanh": 1, "sigmoid": 1, "exp": 1}
    return {check: zeros.get(check, value) for check, value in full.items()}


@pytest.fixture(scope="module")
def ex01_run(tmp_path_factory):
    """The main corpus, exercise 1: built, graded twice, and the folders kept for the tests."""
    folder = tmp_path_factory.mktemp("ex01_submissions")
    forbidden = tmp_path_factory.mktemp("outside") / "written.txt"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0)
    port = listener.getsockname()[1]
    todo = notebook_of("ex01")
    write(folder, "correct", solved("ex01"))
    write(folder, "untouched", todo)
    write(folder, "sign_error", solved("ex01", tanh_local_grads=(
        "def tanh_local_grads(x, out):\n    return (out * out - 1.0,)")))
    write(folder, "swapped", solved("ex01", mul_local_grads=(
        "def mul_local_grads(x, y, out):\n    return (x, y)")))
    write(folder, "used_x", solved("ex01", tanh_local_grads=(
        "def tanh_local_grads(x, out):\n    return (1 - x * x,)")))
    write(folder, "exception", solved("ex01", div_local_grads=(
        "def div_local_grads(x, y, out):\n    scale = 0\n    return (1 / scale, -x / y**2)")))
    write(folder, "memory_hog", solved("ex01", sigmoid_local_grads=(
        "def sigmoid_local_grads(x, out):\n"
        "    hoard = [bytes(10**8) for _ in range(10**6)]\n"
        "    return (out * (1 - out),)")))
    write(folder, "writes_outside", with_cells(solved("ex01"), code(
        "from pathlib import Path",
        "Path.home().joinpath('in_home.txt').write_text('hi')",
        f"Path({str(forbidden)!r}).write_text('escaped')")))
    write(folder, "network", with_cells(solved("ex01"), code(
        "import socket",
        f"socket.create_connection(('127.0.0.1', {port}), timeout=1)")))
    write(folder, "redefined_checker", with_cells(todo, code(
        "def check_local_derivative(*args, **kwargs):",
        "    print('PASS check_local_derivative: perfect')"), at=len(todo["cells"])))
    write(folder, "prints_pass", with_cells(notebook_of("ex01"), code(
        "for op in ['mul', 'div', 'tanh', 'sigmoid', 'exp']:",
        "    print(f\"PASS check_local_derivative('{op}'): your local derivative matches\")")))
    write(folder, "patched_expected", with_cells(solved(
        "ex01", mul_local_grads="def mul_local_grads(x, y, out):\n    return (0.0, 0.0)"), code(
        "import math, glassgrad.nn.checks as checks",
        "from glassgrad.engine.ops import BUILTIN_OPS",
        "checks._close = lambda got, expected: True",
        "math.isclose = lambda *args, **kwargs: True",
        "BUILTIN_OPS['mul'].local_grads.__code__ = (lambda x, y, out: (0.0, 0.0)).__code__")))
    write(folder, "syntax_error", solved("ex01", mul_local_grads=(
        "def mul_local_grads(x, y, out):\n    return (y, x")))
    write(folder, "deleted_cell", solved("ex01", div_local_grads=None))
    reordered = solved("ex01")
    reordered["cells"] = reordered["cells"][::-1]  # every check before its answer, imports last
    write(folder, "reordered", reordered)
    write(folder, "exits", with_cells(solved("ex01"), code("import os", "os._exit(3)"), at=5))
    write(folder, "invalid_json", json.dumps(solved("ex01"))[:-40])
    huge = solved("ex01")
    huge["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": ["x" * 99 + "\n"] * 50_000}]  # 5 MB of output
    write(folder, "huge", huge)
    with open(folder / "too_big.ipynb", "wb") as file:
        file.truncate(40 * 2**20)  # 40 MB (sparse: no time to write it)
    before = fingerprints(folder)
    out = tmp_path_factory.mktemp("ex01_out")
    grade(exercise("ex01"), [folder], out, jobs=2, timeout=60, memory_mb=600, progress=False)
    again = tmp_path_factory.mktemp("ex01_again")
    grade(exercise("ex01"), sorted(folder.glob("[c-f]*.ipynb")), again, jobs=2, timeout=60,
          memory_mb=600, progress=False)
    try:
        connected = listener.accept()
    except BlockingIOError:
        connected = None
    listener.close()
    return {"folder": folder, "before": before, "out": out, "again": again,
            "forbidden": forbidden, "connected": connected}


def test_every_row_and_message_of_the_exercise_1_corpus(ex01_run):
    todo = ["still a TODO", "Hint: Replace the TODO"]
    passed = ["PASS check_local_derivative", "finite differences at 4 points"]
    assert_graded(ex01_run["out"], {
        "correct": (ex01_points(), {check: passed for check in EX01_CHECKS}),
        "untouched": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0),
                      {check: todo for check in EX01_CHECKS}),
        "sign_error": (ex01_points(tanh=0), {"tanh": ["expected", "got", "sign error"]}),
        "swapped": (ex01_points(mul=0), {"mul": ["derivative with respect to x is wrong",
                                                 "swapped"]}),
        "used_x": (ex01_points(tanh=0), {"tanh": ["uses x where it needs out"]}),
        "exception": (ex01_points(div=0), {"div": [
            "div_local_grads raised ZeroDivisionError: division by zero (cell 7, line 3)"]}),
        "memory_hog": (ex01_points(sigmoid=0), {"sigmoid": [
            "sigmoid_local_grads raised MemoryError (cell 13, line 2)"]}),
        "writes_outside": (ex01_points(), {}),
        "network": (ex01_points(), {}),
        "redefined_checker": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0),
                              {check: todo for check in EX01_CHECKS}),
        "prints_pass": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0),
                        {check: todo for check in EX01_CHECKS}),
        "patched_expected": (ex01_points(mul=0), {"mul": ["expected -0.5, got 0"]}),
        "syntax_error": (ex01_points(mul=0), {"mul": [
            "mul_local_grads is not defined: cell 4, which defines it, failed: SyntaxError"]}),
        "deleted_cell": (ex01_points(div=0), {"div": [
            "div_local_grads is not defined: no cell defines it (deleted, or renamed?)"]}),
        "reordered": (ex01_points(), {"mul": passed}),
        "exits": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0), {check: [
            "not run: the notebook's process exited with status 3 while cell 6 was running"]
            for check in EX01_CHECKS}),
        "invalid_json": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0), {check: [
            "not graded: the file is not valid JSON (line 1, column"] for check in EX01_CHECKS}),
        "huge": (ex01_points(), {"exp": passed}),
        "too_big": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0), {"mul": [
            "not graded: the file is 40 MB, over the grader's limit of 32 MB"]}),
    })


def test_every_submission_file_gets_a_row_even_those_that_are_not_notebooks(ex01_run):
    assert sorted(read_grades(ex01_run["out"])) == sorted(p.stem for p in ex01_run["folder"].iterdir())


def test_grades_csv_has_student_then_each_check_then_totals(ex01_run):
    lines = (ex01_run["out"] / "grades.csv").read_text().splitlines()
    assert lines[0] == "student,mul,div,tanh,sigmoid,exp,total,max_total"
    assert "correct,1,2,1,1,1,6,6" in lines and "swapped,0,2,1,1,1,5,6" in lines


def test_the_submissions_are_never_modified(ex01_run):
    assert fingerprints(ex01_run["folder"]) == ex01_run["before"]


def test_the_same_inputs_give_byte_identical_files(ex01_run):
    first, again = ex01_run["out"], ex01_run["again"]
    some = json.loads((first / "results.json").read_text())
    kept = {student: some[student] for student in json.loads((again / "results.json").read_text())}
    assert json.loads((again / "results.json").read_text()) == kept
    for page in (again / "feedback").iterdir():
        assert page.read_bytes() == (first / "feedback" / page.name).read_bytes()


def test_the_notebook_cells_that_failed_are_listed_on_the_feedback_page(ex01_run):
    page = (ex01_run["out"] / "feedback" / "syntax_error.html").read_text()
    assert "Cell 4 failed: SyntaxError" in page and "Score: 5 / 6" in page
    assert "Some of the exercise&#x27;s cells were moved" in (
        ex01_run["out"] / "feedback" / "reordered.html").read_text()
    assert "1 of the exercise" in (ex01_run["out"] / "feedback" / "deleted_cell.html").read_text()


@pytest.mark.skipif(not sandbox.runs_as_nobody(), reason="outside the working folder is only "
                    "guarded when the notebook runs as nobody (root, and a Python everyone can read)")
def test_a_file_written_outside_the_working_folder_is_refused(ex01_run):
    assert not ex01_run["forbidden"].exists()
    page = (ex01_run["out"] / "feedback" / "writes_outside.html").read_text()
    assert "Cell 3 failed: PermissionError" in page


def test_the_home_folder_of_a_notebook_is_its_working_folder(ex01_run):
    assert not (Path.home() / "in_home.txt").exists()


@pytest.mark.skipif(not sandbox.network_isolation(), reason="no network namespaces on this OS")
def test_a_notebook_has_no_network(ex01_run):
    assert ex01_run["connected"] is None
    page = (ex01_run["out"] / "feedback" / "network.html").read_text()
    assert "Cell 3 failed: OSError: [Errno 101] Network is unreachable" in page


def test_an_infinite_loop_uses_up_the_time_limit_and_blocks_only_the_checks_after_it(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    write(folder, "loop_in_a_function", solved("ex01", sigmoid_local_grads=(
        "def sigmoid_local_grads(x, out):\n    while True:\n        pass")))
    write(folder, "loop_at_the_top", with_cells(solved("ex01"), code("while True:", "    pass")))
    grade(exercise("ex01"), [folder], tmp_path / "out", jobs=2, timeout=3, progress=False)
    limit = "the notebook used up its time limit of 3 s"
    assert_graded(tmp_path / "out", {
        "loop_in_a_function": (ex01_points(sigmoid=0, exp=0), {
            "sigmoid": [limit], "exp": ["not run: " + limit]}),
        "loop_at_the_top": (ex01_points(mul=0, div=0, tanh=0, sigmoid=0, exp=0), {
            check: [f"not run: {limit} (cell 3 was still running: an infinite loop?)"]
            for check in EX01_CHECKS}),
    })


def test_exercise_2_names_the_accumulation_and_chain_rule_mistakes(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSGRAD_CHECKS", "off")  # the teacher's setting cannot switch checks off
    write(tmp_path, "correct", solved("ex02"))
    write(tmp_path, "overwrote", solved("ex02", backward_by_hand=(
        "def backward_by_hand(a, b, u, t, L):\n    L.grad = 1.0\n    t.grad = u.data\n"
        "    u.grad = t.data\n    u.grad = (1 - t.data**2) * t.grad\n"
        "    a.grad = b.data * u.grad\n    b.grad = a.data * u.grad")))
    write(tmp_path, "calls_backward", solved("ex02", backward_by_hand=(
        "def backward_by_hand(a, b, u, t, L):\n    L.backward()")))
    write(tmp_path, "no_seed", solved("ex02", backward_by_hand=(
        "def backward_by_hand(a, b, u, t, L):\n    t.grad = u.data * L.grad\n"
        "    u.grad = t.data * L.grad + (1 - t.data**2) * t.grad\n"
        "    a.grad = b.data * u.grad\n    b.grad = a.data * u.grad")))
    grade(exercise("ex02"), [tmp_path], tmp_path / "out", jobs=2, timeout=60, progress=False)
    assert_graded(tmp_path / "out", {
        "correct": ({"backward_by_hand": 3}, {"backward_by_hand": ["PASS", "match backward()"]}),
        "overwrote": ({"backward_by_hand": 0}, {"backward_by_hand": [
            "u.grad is wrong", "accumulate with += instead of overwriting with ="]}),
        # L.backward() runs in the student's process, yet the checker sees it: the gradients
        # follow the graph's stored local derivatives, which travel with the graph.
        "calls_backward": ({"backward_by_hand": 0}, {"backward_by_hand": [
            "let the engine do the work", "do it by hand"]}),
        "no_seed": ({"backward_by_hand": 0}, {"backward_by_hand": [
            "every gradient is 0, L.grad included", "set L.grad = 1.0 first"]}),
    })


def test_exercise_3_follows_the_students_graph_back_through_gradcheck(tmp_path):
    write(tmp_path, "correct", solved("ex03"))
    write(tmp_path, "missing_bias", solved("ex03", neuron_forward=(
        "def neuron_forward(weights, bias, inputs):\n"
        "    return sum((w * x for w, x in zip(weights, inputs)), Value(0.0)).tanh()")))
    write(tmp_path, "graph_cut", solved("ex03", neuron_forward=(
        "def neuron_forward(weights, bias, inputs):\n"
        "    total = sum(w.data * x for w, x in zip(weights, inputs)) + bias.data\n"
        "    return Value(total).tanh()")))
    grade(exercise("ex03"), [tmp_path], tmp_path / "out", jobs=2, timeout=60, progress=False)
    assert_graded(tmp_path / "out", {
        "correct": ({"neuron_forward": 2}, {"neuron_forward": ["PASS", "gradients reach every weight"]}),
        "missing_bias": ({"neuron_forward": 0}, {"neuron_forward": ["forget to add the bias"]}),
        "graph_cut": ({"neuron_forward": 0}, {"neuron_forward": ["gradients do not flow back",
                                                                  "That cuts the graph"]}),
    })


def test_exercise_4_sees_the_students_changes_to_the_parameters(tmp_path):
    write(tmp_path, "correct", solved("ex04"))
    write(tmp_path, "plus", solved("ex04", sgd_step=(
        "def sgd_step(parameters, learning_rate):\n    for p in parameters:\n"
        "        p.data += learning_rate * p.grad")))
    write(tmp_path, "new_values", solved("ex04", sgd_step=(
        "def sgd_step(parameters, learning_rate):\n"
        "    return [Value(p.data - learning_rate * p.grad) for p in parameters]")))
    grade(exercise("ex04"), [tmp_path], tmp_path / "out", jobs=2, timeout=60, progress=False)
    assert_graded(tmp_path / "out", {
        "correct": ({"sgd_step": 2}, {"sgd_step": ["PASS"]}),
        "plus": ({"sgd_step": 0}, {"sgd_step": ["moved uphill"]}),
        "new_values": ({"sgd_step": 0}, {"sgd_step": ["no parameter changed", "in place"]}),
    })


def test_exercise_5_gives_partial_credit_for_a_model_between_the_targets(tmp_path):
    # (the reference solution's pass is in test_notebooks; its training is too slow to repeat)
    write(tmp_path, "untouched", notebook_of("ex05"))
    write(tmp_path, "small_model", with_cells(solved("ex05", train_model=(
        "def train_model(X, y):\n    model = nn.MLP(2, [8, 3], seed=0)\n"
        "    nn.fit(model, X, y, loss='softmax_cross_entropy', optimizer='adam', lr=0.05,\n"
        "           epochs=40, progress=False)\n"
        "    return model")), code("X_test, y_test = X_train, y_train  # 'edit the expected values'"),
        at=3))
    grade(exercise("ex05"), [tmp_path], tmp_path / "out", jobs=2, timeout=60, progress=False)
    assert_graded(tmp_path / "out", {
        "untouched": ({"accuracy_80": 0, "accuracy_90": 0}, {"accuracy_90": ["still a TODO"]}),
        "small_model": ({"accuracy_80": 1, "accuracy_90": 0}, {"accuracy_80": ["PASS"], "accuracy_90": [
            "accuracy 85.8% on 120 points, below the target", "train for more steps"]}),
    })


def test_exercise_5_explains_a_returned_history_and_notebook_5s_hinge_model(tmp_path):
    write(tmp_path, "history", solved("ex05", train_model=(
        "def train_model(X, y):\n"
        "    return nn.fit(nn.MLP(2, [4, 3], seed=0), X, y, loss='softmax_cross_entropy',\n"
        "                  epochs=1, progress=False)")))
    write(tmp_path, "hinge", solved("ex05", train_model=(
        "def train_model(X, y):\n    model = nn.MLP(2, [16, 16, 1], seed=0)\n"
        "    nn.fit(model, X, y, loss='hinge', lr=0.5, epochs=1, progress=False)\n"
        "    return model")))
    grade(exercise("ex05"), [tmp_path], tmp_path / "out", jobs=2, timeout=60, progress=False)
    assert_graded(tmp_path / "out", {
        "history": ({"accuracy_80": 0, "accuracy_90": 0}, {"accuracy_90": [
            "the model is a History", "You returned fit's History; return the model"]}),
        "hinge": ({"accuracy_80": 0, "accuracy_90": 0}, {"accuracy_90": [
            "train_model raised ValueError: fit: hinge labels must be 0 or 1 (or -1 and +1), got 2",
            "3 classes need one output per class and loss='softmax_cross_entropy'"]}),
    })


def test_the_feedback_page_escapes_what_the_notebook_wrote(tmp_path):
    write(tmp_path, "script", solved("ex01", mul_local_grads=(
        "def mul_local_grads(x, y, out):\n    raise ValueError('<script>alert(1)</script>')")))
    grade(exercise("ex01"), [tmp_path], tmp_path / "out", timeout=60, progress=False)
    page = (tmp_path / "out" / "feedback" / "script.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_command_grades_a_folder_and_refuses_an_unknown_exercise(tmp_path, capsys):
    write(tmp_path, "correct", solved("ex04"))
    assert cli_main(["grade", str(exercise("ex04")), str(tmp_path), "-o", str(tmp_path / "out"),
                     "--jobs", "2", "--timeout", "60", "--no-progress"]) == 0
    assert (tmp_path / "out" / "grades.csv").read_text() == (
        "student,sgd_step,total,max_total\ncorrect,2,2,2\n")
    unknown = write(tmp_path, "not_an_exercise", {"cells": [], "metadata": {}, "nbformat": 4})
    assert cli_main(["grade", str(unknown), str(tmp_path), "-o", str(tmp_path / "x")]) == 2
    assert "no checks are declared for the exercise 'not_an_exercise'" in capsys.readouterr().err


def test_exercise_6_grades_the_momentum_step_and_softmax_cross_entropy_separately(tmp_path):
    write(tmp_path, "correct", solved("ex06"))
    write(tmp_path, "uphill", solved("ex06", momentum_step=(
        "def momentum_step(parameters, velocity, learning_rate, momentum):\n"
        "    for i, p in enumerate(parameters):\n"
        "        velocity[i] = momentum * velocity[i] + p.grad\n"
        "        p.data += learning_rate * velocity[i]")))
    write(tmp_path, "probabilities", solved("ex06", softmax_cross_entropy=(
        "def softmax_cross_entropy(scores, target):\n"
        "    exps = [math.exp(z - max(scores)) for z in scores]\n"
        "    probabilities = [e / sum(exps) for e in exps]\n"
        "    return -math.log(probabilities[target]), probabilities")))
    grade(exercise("ex06"), [tmp_path], tmp_path / "out", jobs=2, timeout=60, progress=False)
    assert_graded(tmp_path / "out", {
        "correct": ({"momentum_step": 2, "softmax_cross_entropy": 2},
                    {"momentum_step": ["PASS"], "softmax_cross_entropy": ["PASS"]}),
        "uphill": ({"momentum_step": 0, "softmax_cross_entropy": 2},
                   {"momentum_step": ["moved uphill"]}),
        "probabilities": ({"momentum_step": 2, "softmax_cross_entropy": 0},
                          {"softmax_cross_entropy": ["subtract 1 for the target class"]}),
    })
