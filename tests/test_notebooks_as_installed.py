"""The notebooks as a new learner runs them: only `pip install -e ".[notebooks]"`, no `dot`.

tests/test_notebooks.py runs every notebook in the test environment, which has far more
installed than a learner has. Here each tutorial, and each exercise with its reference
solutions, runs in a kernel from a virtual environment that holds only the `[notebooks]`
extra (named by GLASSGRAD_NOTEBOOKS_PYTHON; `.ci/run` makes it), with the Graphviz program
hidden from PATH and no MPLBACKEND, exactly as on a learner's laptop. A run fails on

* an error output (a missing package, a crash);
* a figure shown as its text (`<Figure size 1300x350 with 3 Axes>`) instead of a picture;
* a graph whose legend lost its entries (HTML-like labels, which the WebAssembly Graphviz
  that replaces `dot` does not render, leave just the word "legend").
"""
from __future__ import annotations

import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from test_notebooks import EXERCISES, TUTORIALS, solved  # noqa: E402

NOTEBOOKS_PYTHON = os.environ.get("GLASSGRAD_NOTEBOOKS_PYTHON")
KERNEL_NAME = "glassgrad-notebooks-only"
CELL_TIMEOUT = 300
LEGEND_ENTRIES = ("input (leaf)", "parameter", "result (root)", "local derivative")
FIGURE_AS_TEXT = re.compile(r"^<(matplotlib\.figure\.)?Figure size \d+x\d+")

pytestmark = pytest.mark.slow


def _without_dot(path: str) -> str:
    """PATH minus every folder that holds a `dot` program."""
    return os.pathsep.join(folder for folder in path.split(os.pathsep)
                           if folder and not (Path(folder) / "dot").exists())


@pytest.fixture(scope="module")
def learner_kernel(tmp_path_factory):
    """A kernel spec for the [notebooks]-only environment, and that kernel's environment."""
    if not NOTEBOOKS_PYTHON:
        message = ("set GLASSGRAD_NOTEBOOKS_PYTHON to the python of a virtual environment made "
                   "with only `pip install -e \".[notebooks]\"` (.ci/run makes one)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    specs = tmp_path_factory.mktemp("kernels")
    (specs / "kernels" / KERNEL_NAME).mkdir(parents=True)
    (specs / "kernels" / KERNEL_NAME / "kernel.json").write_text(json.dumps({
        "argv": [NOTEBOOKS_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "glassgrad [notebooks] only", "language": "python"}))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(specs), os.environ.get("JUPYTER_PATH")]))
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    environment["PATH"] = _without_dot(environment.get("PATH", ""))
    assert shutil.which("dot", path=environment["PATH"]) is None
    return environment


def run_as_learner(path: Path, environment: dict, solve: bool):
    notebook = nbformat.read(path, as_version=4)
    if solve:
        notebook = solved(notebook)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT, startup_timeout=CELL_TIMEOUT, kernel_name=KERNEL_NAME,
        allow_errors=True, resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=environment)
    return notebook


@pytest.fixture(scope="module")
def learner_runs(learner_kernel, tmp_path_factory):
    """Every notebook, run two at a time from a scratch copy (so the files they write land
    next to the copy, never in the repository)."""
    scratch = tmp_path_factory.mktemp("notebooks")
    shutil.copytree(TUTORIALS[0].parent, scratch, dirs_exist_ok=True)
    jobs = {path: (scratch / path.relative_to(TUTORIALS[0].parent), path in EXERCISES)
            for path in TUTORIALS + EXERCISES}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {path: pool.submit(run_as_learner, copy, learner_kernel, solve)
                   for path, (copy, solve) in jobs.items()}
        yield futures
        for future in futures.values():
            future.cancel()


def problems(notebook) -> list[str]:
    """What a learner would see go wrong, one line each, naming the cell."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
                continue
            data = output.get("data", {})
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if FIGURE_AS_TEXT.match(text) and not {"image/png", "image/svg+xml"} & data.keys():
                found.append(f"cell {index}: a figure shows as the text {text!r}, not a picture")
            svg = data.get("image/svg+xml", "")
            svg = "".join(svg) if isinstance(svg, list) else svg
            if "<title>legend</title>" in svg:
                missing = [entry for entry in LEGEND_ENTRIES if entry not in svg]
                if missing:
                    found.append(f"cell {index}: the graph's legend lost its entries {missing}")
    return found


@pytest.mark.parametrize("path", TUTORIALS + EXERCISES, ids=lambda p: p.name)
def test_notebook_runs_clean_with_only_the_notebooks_extra_and_no_dot(learner_runs, path):
    notebook = learner_runs[path].result()
    assert problems(notebook) == []


def test_the_checker_catches_each_kind_of_problem():
    """problems() itself: an error, a figure as text, a legend without entries, and a clean cell."""
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("error", ename="ModuleNotFoundError", evalue="No module named 'sympy'",
                               traceback=[]),
        nbformat.v4.new_output("execute_result", {"text/plain": "<Figure size 1300x350 with 3 Axes>"}),
        nbformat.v4.new_output("display_data", {"image/svg+xml": "<svg><title>legend</title>legend</svg>"}),
        nbformat.v4.new_output("display_data", {"text/plain": "<Figure size 600x400 with 1 Axes>",
                                                "image/png": "iVBORw0KGgo="}),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    found = problems(notebook)
    assert len(found) == 3
    assert "No module named 'sympy'" in found[0]
    assert "figure shows as the text" in found[1]
    assert "legend lost its entries" in found[2]


def _imported_modules(path: Path) -> set[str]:
    """The top-level modules a notebook's code cells import, except optional ones: those
    imported inside ``try: ... except ImportError`` (notebook 11 runs without torch)."""
    import ast

    modules = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        tree = ast.parse(source)
        optional = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Try)
                    and any(isinstance(handler.type, ast.Name)
                            and handler.type.id in ("ImportError", "ModuleNotFoundError")
                            for handler in node.handlers)
                    for statement in node.body for inner in ast.walk(statement)}
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules


def test_the_notebooks_extra_installs_everything_the_notebooks_import():
    import importlib.metadata as metadata
    import sys

    from packaging.requirements import Requirement

    provided = {"glassgrad"}
    for text in metadata.requires("glassgrad") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": "notebooks"}):
            provided.add(requirement.name.lower().replace("_", "-"))
    distributions = metadata.packages_distributions()
    missing = {}
    for path in TUTORIALS + EXERCISES:
        for module in _imported_modules(path) - set(sys.stdlib_module_names):
            names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
            if not names & provided:
                missing.setdefault(module, []).append(path.name)
    assert missing == {}, f"modules the notebooks import that [notebooks] does not install: {missing}"
