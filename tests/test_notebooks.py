"""The notebooks: committed without outputs, and each one runs top to bottom in a fresh kernel.

* tutorials (notebooks/NN_*.ipynb) run as they are;
* exercises (notebooks/exercises/ex*.ipynb) run three times: solved, with each TODO cell
  tagged ``solution:NAME`` replaced by the source of ``exercise_solutions.NAME`` (every
  check must pass); unsolved, as a student first opens them, with GLASSGRAD_CHECKS=raise
  (every cell tagged ``check`` must fail with a CheckFailure that says TODO, and no other
  cell may fail); and unsolved as Jupyter runs them by default ("Run All" must reach the
  last cell, each check showing its failure instead of raising).

The selected notebook runs start together, two at a time, in a thread pool.
"""
from __future__ import annotations

import inspect
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

import exercise_solutions  # noqa: E402
from glassgrad.nn.checks import CHECK_MIMETYPE  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TUTORIALS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((NOTEBOOKS / "exercises").glob("ex*.ipynb"))
ALL_NOTEBOOKS = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CELL_TIMEOUT = 300  # seconds, per cell and for a kernel to start: a hang fails, a slow machine passes
SOLUTION_TAG = "solution:"


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def solution_name(cell) -> str | None:
    return next((tag[len(SOLUTION_TAG):] for tag in tags(cell) if tag.startswith(SOLUTION_TAG)), None)


def solved(notebook):
    """A copy of an exercise notebook with each TODO cell replaced by its reference solution."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        name = solution_name(cell)
        if name is not None:
            cell.source = inspect.getsource(getattr(exercise_solutions, name)).rstrip("\n")
    return notebook


def execute(path: Path, variant: str, scratch: Path):
    """Run one notebook in a fresh python3 kernel; return the notebook with its outputs.

    It runs in ``scratch``, a copy of notebooks/, so the files it writes next to itself
    (as a learner's would) never land in the repository."""
    notebook = nbformat.read(path, as_version=4)
    if variant == "solved":
        notebook = solved(notebook)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT, startup_timeout=CELL_TIMEOUT, kernel_name="python3",
        allow_errors=(variant == "unsolved"),
        resources={"metadata": {"path": str(scratch / path.parent.relative_to(NOTEBOOKS))}},
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}  # the kernel's environment: no plot windows
    env.pop("GLASSGRAD_CHECKS", None)
    if variant == "unsolved":
        env["GLASSGRAD_CHECKS"] = "raise"  # failures raise, as in a script
    client.execute(env=env)
    return notebook


# which run each execution test needs
VARIANT_OF_TEST = {
    "test_tutorial_runs_top_to_bottom": "tutorial",
    "test_solved_exercise_passes_every_check": "solved",
    "test_unsolved_exercise_fails_only_at_its_checks_saying_todo": "unsolved",
    "test_run_all_on_an_unsolved_exercise_reaches_the_last_cell_showing_each_failure": "run_all",
}


@pytest.fixture(scope="session")
def runs(request, tmp_path_factory):
    """{(path, variant): Future of the executed notebook}, for the selected tests only,
    started in test order in a pool of 2 (each kernel is its own process)."""
    jobs = [(item.callspec.params["path"], VARIANT_OF_TEST[item.originalname])
            for item in request.session.items if getattr(item, "originalname", "") in VARIANT_OF_TEST]
    scratch = tmp_path_factory.mktemp("notebooks")
    shutil.copytree(NOTEBOOKS, scratch, dirs_exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {job: pool.submit(execute, *job, scratch) for job in jobs}
        yield futures
        for future in futures.values():
            future.cancel()  # after a Ctrl-C or -x, don't start the rest


def errors(notebook) -> list[tuple[int, object]]:
    """(cell index, error output) for every cell that raised."""
    return [(index, output) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.get("output_type") == "error"]


def test_the_series_is_all_there():
    assert [p.name[:2] for p in TUTORIALS] == [f"{i:02d}" for i in range(1, len(TUTORIALS) + 1)]
    assert len(TUTORIALS) >= 6 and len(EXERCISES) >= 5


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_committed_notebook_has_no_outputs_or_execution_counts(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} cell {index} has outputs: clear them before committing "
                "(Jupyter: Edit > Clear All Outputs; or jupyter nbconvert --clear-output --inplace)")


def markdown_problems(source: str) -> list[str]:
    """Lines of a Markdown cell that render as an indented code block by accident: indented
    by 4+ spaces after a blank line (or at the top), outside a fence and not in a list."""
    problems, in_fence, in_list = [], False, False
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        starts_block = i == 0 or not lines[i - 1].strip()
        if not in_fence and line.startswith("    ") and line.strip() and starts_block and not in_list:
            problems.append(f"line {i + 1}: {line.strip()[:50]!r}")
        if re.match(r"\s*([-*+]|\d+\.)\s", line):
            in_list = True  # indented paragraphs after a list item continue it
        elif line.strip() and not line.startswith(" "):
            in_list = False
    return problems


def test_markdown_check_finds_an_indented_block_but_not_a_list_continuation():
    assert markdown_problems("    # Title\n\n    text") == ["line 1: '# Title'", "line 3: 'text'"]
    assert markdown_problems("# Title\n\n- item\n\n    more of the item\n```\n    code\n```") == []


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_first_cell_is_a_heading_and_no_markdown_is_an_accidental_code_block(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), (
        f"{path.name}: the first cell should start with a '# ' heading, got {cells[0].source[:40]!r}")
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            assert not markdown_problems(cell.source), (
                f"{path.name} cell {index} renders as a code block (indented by 4 spaces): "
                f"{markdown_problems(cell.source)}")


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_every_todo_cell_has_a_reference_solution_and_a_check_after_it(path):
    cells = nbformat.read(path, as_version=4).cells
    todo_cells = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and "TODO" in cell.source]
    assert todo_cells, f"{path.name} has no TODO cell"
    for i in todo_cells:
        name = solution_name(cells[i])
        assert name is not None, f"{path.name} cell {i} has a TODO but no '{SOLUTION_TAG}NAME' tag"
        assert callable(getattr(exercise_solutions, name, None)), f"no exercise_solutions.{name}"
        assert f"def {name}(" in cells[i].source, f"cell {i} should define {name}"
        following = next(cell for cell in cells[i + 1:] if cell.cell_type == "code")
        assert "check" in tags(following) and "check_" in following.source, (
            f"{path.name}: the code cell after TODO cell {i} should be a checker call tagged 'check'")


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs_top_to_bottom(runs, path):
    runs[path, "tutorial"].result()  # raises CellExecutionError naming the cell that failed


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_solved_exercise_passes_every_check(runs, path):
    notebook = runs[path, "solved"].result()
    for cell in notebook.cells:
        if "check" in tags(cell):
            printed = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            assert "PASS" in printed, f"{path.name}: a check printed no PASS line:\n{cell.source}"


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_unsolved_exercise_fails_only_at_its_checks_saying_todo(runs, path):
    notebook = runs[path, "unsolved"].result()
    failed = dict(errors(notebook))
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if "check" in tags(cell):
            assert index in failed, f"{path.name}: check cell {index} passed on the unsolved notebook"
            error = failed[index]
            assert error.ename == "CheckFailure", f"cell {index}: {error.ename}: {error.evalue}"
            assert "TODO" in error.evalue, f"cell {index}: {error.evalue}"
        else:
            assert index not in failed, (f"{path.name}: cell {index} crashed before any check: "
                                         f"{failed[index].ename}: {failed[index].evalue}")


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_run_all_on_an_unsolved_exercise_reaches_the_last_cell_showing_each_failure(runs, path):
    notebook = runs[path, "run_all"].result()
    assert errors(notebook) == [], f"{path.name}: a cell raised: {errors(notebook)}"
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells), "Run All stopped early"
    for cell in code_cells:
        if "check" in tags(cell):
            shown = [o.data[CHECK_MIMETYPE] for o in cell.outputs
                     if o.get("output_type") == "display_data" and CHECK_MIMETYPE in o.get("data", {})]
            assert [failure["mistake"] for failure in shown] == ["todo"], cell.source
            html = next(o.data["text/html"] for o in cell.outputs if CHECK_MIMETYPE in o.get("data", {}))
            assert "TODO" in html and "Hint:" in html and "Traceback" not in html
