"""``glassgrad grade``: grade a whole class's exercise notebooks, and say why.

    glassgrad grade EXERCISE.ipynb SUBMISSION.ipynb... -o OUT [--jobs N] [--timeout S] [--memory MB]

writes ``OUT/grades.csv`` (student, one column per check, total, max_total),
``OUT/results.json`` ({student: {score, tests: [{name, points, max_points, message}]}})
and ``OUT/feedback/<student>.html``. The same inputs give byte-identical files.

How a submission is graded (one *judge* process per submission, ``judge()``):

1. The judge starts the submission's own process (``viz.sandbox.StudentProcess``): a
   fresh interpreter in an empty temporary folder, with a time limit for the whole
   notebook, a memory limit and, where the OS allows, no network. It runs the code
   cells top to bottom, as "Run All" does, but goes on after a failing cell; the
   notebook's own check calls do nothing there.
2. The judge then runs the exercise's checks (``nn.exercises``) itself, with its own
   arguments, calling the student's functions through proxies. The student's code never
   runs in the judge: a notebook that redefines a checker, prints "PASS", or patches
   the expected values changes only its own process, and gets no credit for it.
3. Each check gets its points or 0 and a message: the PASS line, or the checker's
   problem and hint. A check that cannot run (the function is missing, the notebook
   timed out or died) gets 0 and the reason in words. The batch never stops.

The submissions are read, never written. See notebooks/TEACHERS.md for what this
isolates and what it does not (it is not a container).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import html
import io
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

MAX_NOTEBOOK_BYTES = 32 * 2**20
_JUDGE = "from glassgrad.viz.grade import judge; judge()"


class GradeUsageError(ValueError):
    """A mistake in the command (exit status 2): an unknown exercise, no submissions..."""


@dataclass
class TestResult:
    name: str
    points: float
    max_points: float
    message: str
    hint: str = ""   # shown on the feedback page; results.json has the message only


@dataclass
class Graded:
    """One submission's grade: a result per check, and notes about how its notebook ran."""
    student: str
    tests: list[TestResult]
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(test.points for test in self.tests)

    @property
    def max_score(self) -> float:
        return sum(test.max_points for test in self.tests)


# ------------------------------------------------------------------ the session


def grade(exercise: str | Path, submissions: Sequence[str | Path], out: str | Path, *,
          jobs: int = 1, timeout: float = 60.0, memory_mb: int = 1024,
          progress: bool = True) -> list[Graded]:
    """Grade ``submissions`` (notebooks or folders of them) against ``exercise``; write the
    three outputs to ``out`` and return the grades, sorted by student."""
    from tqdm import tqdm

    exercise = Path(exercise)
    try:
        teacher = read_notebook(exercise)
    except NotebookError as error:
        raise GradeUsageError(f"the exercise {exercise}: {error}") from None
    name = exercise_name(teacher, exercise)
    paths = _submission_paths(submissions, exercise)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_one, name, teacher, path, timeout=timeout,
                               memory_mb=memory_mb) for path in paths]
        with tqdm(total=len(futures), desc=f"grading {name}", unit="notebook",
                  disable=not progress, file=sys.stderr) as bar:
            for _ in as_completed(futures):
                bar.update()
    grades = sorted((future.result() for future in futures), key=lambda g: g.student)
    write_outputs(grades, Path(out), title=_title(teacher, name))
    return grades


def exercise_name(notebook: dict, path: Path) -> str:
    """The notebook's ``metadata.glassgrad.exercise``, else its file name; it must be declared."""
    from glassgrad.nn.exercises import EXERCISES
    declared = notebook.get("metadata", {}).get("glassgrad", {}).get("exercise", path.stem)
    if declared not in EXERCISES:
        raise GradeUsageError(f"{path}: no checks are declared for the exercise {declared!r}; "
                              f"known exercises: {', '.join(EXERCISES)} (see nn/exercises.py)")
    return declared


def _submission_paths(submissions: Sequence[str | Path], exercise: Path) -> list[Path]:
    paths: list[Path] = []
    for given in map(Path, submissions):
        if given.is_dir():
            paths += sorted(p for p in given.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif given.exists():
            paths.append(given)
        else:
            raise GradeUsageError(f"{given}: no such file or folder")
    paths = [p for p in paths if p.resolve() != exercise.resolve()]
    if not paths:
        raise GradeUsageError("no submissions: give notebooks, or folders that hold them")
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise GradeUsageError(f"two submissions for the student {path.stem!r}: {seen[path.stem]} "
                                  f"and {path}; rename one (the file name is the student's name)")
        seen[path.stem] = path
    return paths


# ---------------------------------------------------------- one submission


class NotebookError(ValueError):
    """The file is not a notebook the grader can read; the message says why."""


def read_notebook(path: Path) -> dict:
    """The notebook as a dict with a list of cells, or NotebookError saying why not."""
    error = NotebookError
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise error(f"the file is {size / 2**20:.0f} MB, over the grader's limit of "
                        f"{MAX_NOTEBOOK_BYTES // 2**20} MB (clear the outputs: Edit > Clear All Outputs)")
        notebook = json.loads(path.read_bytes())
    except json.JSONDecodeError as problem:
        raise error(f"the file is not valid JSON (line {problem.lineno}, column {problem.colno}: "
                    f"{problem.msg}); was it edited outside Jupyter?") from None
    except UnicodeDecodeError:
        raise error("the file is not text (UTF-8): is it a notebook?") from None
    except OSError as problem:
        raise error(f"the file cannot be read: {problem.strerror}") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise error("the file is JSON but not a notebook (it has no list of cells)")
    if notebook.get("nbformat") != 4:
        raise error(f"notebook format {notebook.get('nbformat')!r} is not supported: "
                    "open and save it with Jupyter (format 4)")
    return notebook


def grade_one(exercise: str, teacher: dict, path: Path, *, timeout: float,
              memory_mb: int) -> Graded:
    """Grade one submission; whatever goes wrong becomes its row, never an exception."""
    from glassgrad.nn.exercises import EXERCISES
    checks = EXERCISES[exercise]
    try:
        notebook = read_notebook(path)
    except NotebookError as error:
        return Graded(path.stem, [TestResult(c.name, 0, c.points, f"not graded: {error}")
                                  for c in checks], [f"Not graded: {error}"])
    cells, notes = code_cells(notebook, teacher)
    job = {"exercise": exercise, "cells": cells, "timeout": timeout, "memory_mb": memory_mb,
           "defined_in": _defining_cells(notebook, teacher, checks)}
    try:
        judged = subprocess.run([sys.executable, "-I", "-c", _JUDGE], input=json.dumps(job),
                                capture_output=True, text=True, timeout=timeout + 120,
                                env={**os.environ, "GLASSGRAD_CHECKS": "raise"})
        result = json.loads(judged.stdout)
    except (subprocess.TimeoutExpired, ValueError) as error:
        reason = f"not graded: the grader itself failed on this notebook ({type(error).__name__})"
        return Graded(path.stem, [TestResult(c.name, 0, c.points, reason) for c in checks], notes)
    tests = [TestResult(**test) for test in result["tests"]]
    notes += [f"Cell {number} failed: {error}" for number, error in result["cell_errors"]]
    return Graded(path.stem, tests, notes)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _tags(cell: dict) -> list:
    tags = cell.get("metadata", {}).get("tags", [])
    return tags if isinstance(tags, list) else []


def code_cells(notebook: dict, teacher: dict) -> tuple[list[list], list[str]]:
    """[[cell number, source], ...] to run (numbers count every cell from 1, as a reader
    does), and notes for the feedback: skipped IPython magics, moved or deleted cells."""
    cells, notes = [], []
    for number, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        if source.lstrip().startswith("%%"):
            notes.append(f"Cell {number} is a %%{source.split()[0][2:]} cell: the grader does not run it.")
            continue
        lines = source.split("\n")
        for i, line in enumerate(lines):
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):  # IPython syntax: not Python
                lines[i] = line[:len(line) - len(stripped)] + "pass  # " + stripped
                notes.append(f"Cell {number}, line {i + 1}: the grader skips {stripped.split()[0]!r} "
                             "(IPython magics and shell commands do not run).")
        cells.append([number, "\n".join(lines)])
    teacher_ids = [c.get("id") for c in teacher["cells"] if c.get("id")]
    their_ids = [c.get("id") for c in notebook["cells"] if isinstance(c, dict) and c.get("id") in teacher_ids]
    missing = len(set(teacher_ids) - set(their_ids))
    if missing:
        notes.append(f"{missing} of the exercise's {len(teacher_ids)} cells are not in this notebook "
                     "(deleted, or copied into a new notebook).")
    if their_ids != [i for i in teacher_ids if i in their_ids]:
        notes.append("Some of the exercise's cells were moved; the grader runs them in this "
                     "notebook's order, top to bottom, as Run All does.")
    return cells, notes


def _defining_cells(notebook: dict, teacher: dict, checks: Sequence) -> dict[str, int]:
    """{function name: the submission's cell that should define it}, to explain a missing one:
    the cell with the id of the exercise's ``solution:NAME`` cell, else one with ``def NAME(``."""
    solution_ids = {tag.partition(":")[2]: cell.get("id") for cell in teacher["cells"]
                    for tag in _tags(cell) if str(tag).startswith("solution:")}
    found = {}
    for name in {name for check in checks for name in check.needs}:
        for number, cell in enumerate(notebook["cells"], start=1):
            if isinstance(cell, dict) and cell.get("cell_type") == "code" and (
                    (solution_ids.get(name) and cell.get("id") == solution_ids[name])
                    or f"def {name}(" in _source(cell)):
                found[name] = number
    return found


# --------------------------------------------------------------- the judge


def judge() -> None:
    """The judge process: read a job on stdin, grade it, write the results on stdout."""
    os.environ["GLASSGRAD_CHECKS"] = "raise"  # a check must fail here, never show or skip
    from glassgrad.nn.checks import CheckFailure
    from glassgrad.nn.exercises import EXERCISES
    from .sandbox import StudentProcess, StudentRaised, StudentStopped

    job = json.load(sys.stdin)
    cells = [(int(number), source) for number, source in job["cells"]]
    tests: list[dict] = []
    with StudentProcess(cells, timeout=job["timeout"], memory_mb=job["memory_mb"]) as student:
        stopped = None
        try:
            student.run_cells()
        except StudentStopped as error:
            stopped = str(error)
        shared: dict = {}
        for check in EXERCISES[job["exercise"]]:
            points: float = 0
            hint = ""
            if stopped:
                message = f"not run: {stopped}"
                tests.append({"name": check.name, "points": 0, "max_points": check.points,
                              "message": message, "hint": ""})
                continue
            printed = io.StringIO()
            try:
                found = {name: student.function(name) for name in check.needs}
                functions = {name: f for name, f in found.items() if not isinstance(f, str)}
                missing = [f for f in found.values() if isinstance(f, str)]
                if missing:
                    message = _missing(missing[0], check.needs, job["defined_in"], student.cell_errors)
                    hint = "Run the notebook from the top (Run All) and check that the cell runs."
                else:
                    with contextlib.redirect_stdout(printed):
                        check.run(functions, shared)
                    points = check.points
                    message = printed.getvalue().strip() or f"PASS {check.name}"
            except CheckFailure as failure:
                message, hint = f"{failure.check}: {failure.problem}", failure.hint
            except StudentRaised as error:
                message = str(error)
                hint = "Run the cell and its check in Jupyter to see the whole traceback."
            except StudentStopped as error:
                stopped = str(error)
                message = stopped
            except Exception as error:  # the student's answer made the checker itself fail
                message = f"the check could not finish: {type(error).__name__}: {error}"
            tests.append({"name": check.name, "points": points, "max_points": check.points,
                          "message": message + (f" Hint: {hint}" if hint else ""), "hint": hint})
    assert sys.__stdout__ is not None  # the judge's stdout is the pipe to the grader
    sys.__stdout__.write(json.dumps({"tests": tests, "cell_errors": sorted(student.cell_errors.items())}))


def _missing(why: str, needs: Sequence[str], defined_in: dict, cell_errors: dict) -> str:
    name = next(name for name in needs if why.startswith(name))
    cell = defined_in.get(name)
    if cell is None:
        return f"{why}: no cell defines it (deleted, or renamed?)"
    if cell in cell_errors:
        return f"{why}: cell {cell}, which defines it, failed: {cell_errors[cell]}"
    return f"{why} after running the notebook (cell {cell} should define it)"


# ---------------------------------------------------------------- the outputs


def _number(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else f"{points:g}"


def write_outputs(grades: Sequence[Graded], out: Path, *, title: str) -> None:
    """grades.csv, results.json and feedback/<student>.html in ``out`` (made if needed)."""
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    names = [test.name for test in grades[0].tests] if grades else []
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["student", *names, "total", "max_total"])
        for g in grades:
            writer.writerow([g.student, *(_number(t.points) for t in g.tests),
                             _number(g.score), _number(g.max_score)])
    results = {g.student: {"score": g.score, "tests": [
        {"name": t.name, "points": t.points, "max_points": t.max_points, "message": t.message}
        for t in g.tests]} for g in grades}
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    for g in grades:
        (out / "feedback" / f"{g.student}.html").write_text(feedback_html(g, title), encoding="utf-8")


def _title(notebook: dict, name: str) -> str:
    """The exercise's title: its first Markdown heading, else its name."""
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "markdown":
            heading = re.search(r"^#\s+(.+)$", _source(cell), re.MULTILINE)
            if heading:
                return heading.group(1).strip()
    return name


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 2rem auto; max-width: 52rem; color: #111827; line-height: 1.45; }
h1 { font-size: 1.35rem; } .score { font-size: 1.1rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid #e5e7eb; }
tr.pass td:first-child { border-left: 4px solid #16a34a; }
tr.fail td:first-child { border-left: 4px solid #dc2626; }
.message { white-space: pre-wrap; } .hint { color: #374151; margin-top: .3rem; }
.notes { background: #f3f4f6; padding: .6rem 1rem; border-radius: .4rem; }
"""


def feedback_html(graded: Graded, title: str) -> str:
    """A page the teacher can send back: the score, each check's points, message and hint."""
    def e(text: object) -> str:
        return html.escape(str(text))
    rows = []
    for test in graded.tests:
        status = "pass" if test.points == test.max_points else "fail"
        message = test.message.removesuffix(f" Hint: {test.hint}") if test.hint else test.message
        hint = f'<div class="hint"><b>Hint:</b> {e(test.hint)}</div>' if test.hint else ""
        rows.append(f'<tr class="{status}"><td>{e(test.name)}</td>'
                    f"<td>{_number(test.points)} / {_number(test.max_points)}</td>"
                    f'<td><div class="message">{e(message)}</div>{hint}</td></tr>')
    notes = "".join(f"<li>{e(note)}</li>" for note in graded.notes)
    notes = (f'<h2>How your notebook ran</h2><ul class="notes">{notes}</ul>'
             "<p>Cells are counted from the top of the notebook, Markdown cells included.</p>"
             if notes else "")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{e(title)}: {e(graded.student)}</title><style>{_STYLE}</style></head>\n"
            f"<body><h1>{e(title)}</h1><p>Feedback for <b>{e(graded.student)}</b></p>"
            f'<p class="score">Score: {_number(graded.score)} / {_number(graded.max_score)}</p>'
            f"<table><tr><th>check</th><th>points</th><th>what the grader found</th></tr>"
            f"{''.join(rows)}</table>{notes}</body></html>\n")


# ------------------------------------------------------------------ the command


def main(argv: Sequence[str]) -> int:
    """``glassgrad grade ...``; returns the exit status (0 graded, 2 bad command)."""
    parser = argparse.ArgumentParser(
        prog="glassgrad grade", description="Grade exercise notebooks: each submission runs in "
        "its own process with time and memory limits; the grader runs the checks itself.")
    parser.add_argument("exercise", help="the exercise notebook as handed out (e.g. ex01_local_derivatives.ipynb)")
    parser.add_argument("submissions", nargs="+", help="submitted notebooks, or folders of them")
    parser.add_argument("-o", "--out", required=True, help="folder for grades.csv, results.json, feedback/")
    parser.add_argument("--jobs", type=_positive(int), default=1, help="notebooks graded at once (default: 1)")
    parser.add_argument("--timeout", type=_positive(float), default=60.0,
                        help="seconds per notebook, its cells and the checks together (default: 60)")
    parser.add_argument("--memory", type=_positive(int), default=1024, metavar="MB",
                        help="memory limit per notebook (default: 1024)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    args = parser.parse_args(argv)
    from .sandbox import isolation_summary
    print(isolation_summary(args.timeout, args.memory), file=sys.stderr)
    try:
        grades = grade(args.exercise, args.submissions, args.out, jobs=args.jobs,
                       timeout=args.timeout, memory_mb=args.memory, progress=args.progress)
    except GradeUsageError as error:
        print(f"glassgrad grade: error: {error}", file=sys.stderr)
        return 2
    print(f"graded {len(grades)} notebooks: {Path(args.out) / 'grades.csv'}")
    return 0


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            number = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not number > 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return number
    return parse
