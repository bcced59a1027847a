"""tests/make_handout.py: the students' copy has the library and every notebook, and no
reference solution."""
import shutil
import subprocess

import pytest

import make_handout

needs_git = pytest.mark.skipif(
    shutil.which("git") is None
    or subprocess.run(["git", "-C", str(make_handout.ROOT), "rev-parse"], capture_output=True).returncode,
    reason="make_handout lists the files git tracks")


@needs_git
def test_handout_has_the_library_and_every_notebook_but_no_tests(tmp_path):
    make_handout.make_handout(tmp_path / "handout")
    handout = tmp_path / "handout"
    assert (handout / "pyproject.toml").is_file() and (handout / "engine" / "value.py").is_file()
    assert (handout / "nn" / "checks.py").is_file() and (handout / "nn" / "checks_optim.py").is_file()
    repo_notebooks = {p.relative_to(make_handout.ROOT) for p in (make_handout.ROOT / "notebooks").rglob("*.ipynb")
                      if ".ipynb_checkpoints" not in p.parts}
    assert {p.relative_to(handout) for p in (handout / "notebooks").rglob("*.ipynb")} == repo_notebooks
    assert not (handout / "tests").exists() and not (handout / ".ci").exists()


@needs_git
def test_handout_holds_no_reference_solution(tmp_path):
    make_handout.make_handout(tmp_path / "handout")
    assert make_handout.leaked_solutions(tmp_path / "handout") == []


def test_the_leak_check_finds_a_pasted_solution(tmp_path):
    """The guard is not vacuous: a notebook with a solution pasted in is caught."""
    import exercise_solutions
    import inspect
    (tmp_path / "ex.ipynb").write_text(inspect.getsource(exercise_solutions.sgd_step))
    assert make_handout.leaked_solutions(tmp_path) == [("ex.ipynb", "sgd_step")]


@needs_git
def test_notebooks_only_handout_writes_just_the_notebooks_folder(tmp_path):
    files = make_handout.make_handout(tmp_path / "nb", notebooks_only=True)
    assert files and all(path.startswith("notebooks/") for path in files)
    assert [p.name for p in (tmp_path / "nb").iterdir()] == ["notebooks"]


@needs_git
def test_handout_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty"):
        make_handout.make_handout(tmp_path)
