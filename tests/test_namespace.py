"""One import namespace: glassgrad.engine, glassgrad.nn, glassgrad.viz, and nothing else.

Students who follow the micrograd lecture write their own engine.py and nn.py next to their
notebook, and Jupyter puts that folder first on sys.path. These tests prove that such files
cannot replace the library, that no module is importable under two names, and that an
installed wheel holds only glassgrad/.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("engine", "nn", "viz")


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter whose first sys.path entry is ``cwd``, as Jupyter does."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def student_folder(tmp_path: Path) -> Path:
    """A folder with a student's own engine.py, nn.py and viz.py, each raising on import."""
    for name in SOURCE_FOLDERS:
        (tmp_path / f"{name}.py").write_text(
            f"raise RuntimeError('the student\\'s own {name}.py was imported')\n")
    return tmp_path


def test_a_students_own_engine_nn_and_viz_files_do_not_shadow_the_library(student_folder):
    done = run_python("""
        from glassgrad.engine import Value
        from glassgrad.nn import MLP
        from glassgrad.viz import draw_graph
        a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        L = (a * b + 10.0).tanh()
        L.backward()
        assert abs(b.grad - (1 - L.data ** 2) * 2.0) < 1e-15
        assert len(MLP(2, [3, 1], seed=0).parameters()) == 13
        assert "digraph" in draw_graph(L).source
        print("ok")
    """, cwd=student_folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_library_never_imports_its_folders_under_their_bare_names(student_folder):
    done = run_python("""
        import importlib, pkgutil, sys
        import glassgrad.engine, glassgrad.nn, glassgrad.viz
        for package in (glassgrad.engine, glassgrad.nn, glassgrad.viz):  # every module, imported
            for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                if module.name != "glassgrad.viz.__main__":
                    importlib.import_module(module.name)
        assert "glassgrad.viz.cli" in sys.modules and "glassgrad.nn.checks" in sys.modules
        bare = sorted(m for m in sys.modules if m.split(".")[0] in ("engine", "nn", "viz"))
        print(bare)
    """, cwd=student_folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_one_value_class_so_isinstance_works_across_the_packages(student_folder):
    done = run_python("""
        from glassgrad.engine import Value
        import glassgrad.engine.value as value_module
        from glassgrad.nn import Neuron
        neuron = Neuron(2, seed=0)
        out = neuron([1.0, 2.0])
        assert isinstance(out, Value) and type(out) is value_module.Value
        print("ok")
    """, cwd=student_folder)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("folder", SOURCE_FOLDERS)
def test_importing_a_source_folder_by_its_bare_name_says_which_name_to_use(folder):
    # From the repository root the folders are on sys.path; the second name is refused.
    done = run_python(f"import {folder}", cwd=REPO_ROOT)
    assert done.returncode != 0
    assert f"glassgrad.{folder}" in done.stderr
    assert "ImportError" in done.stderr


def test_python_dash_m_glassgrad_viz_runs_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "glassgrad.viz", "graph", "a*b", "a=2", "b=3",
                           "-o", str(tmp_path), "--no-stepper"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def test_the_glassgrad_console_script_is_installed_and_runs(tmp_path):
    script = shutil.which("glassgrad") or shutil.which(
        "glassgrad", path=sysconfig.get_path("scripts"))
    assert script, "the console script `glassgrad` is not installed: pip install -e ."
    done = subprocess.run([script, "graph", "a+b", "a=1", "b=2", "-o", str(tmp_path),
                           "--no-stepper"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "graph.svg").exists()


@pytest.mark.slow
def test_a_built_wheel_holds_only_the_glassgrad_namespace(tmp_path):
    pytest.importorskip("setuptools")
    source = tmp_path / "source"  # a copy, so setuptools' build/ folder is not left in the repository
    for folder in SOURCE_FOLDERS:
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO_ROOT / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(tmp_path / "wheels")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "wheels").glob("glassgrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {name.split("/")[0] for name in names}
    assert {t for t in top_levels if not t.endswith(".dist-info")} == {"glassgrad"}
    for folder in SOURCE_FOLDERS:
        assert f"glassgrad/{folder}/__init__.py" in names
    assert "glassgrad/engine/ops.py" in names and "glassgrad/viz/cli.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "glassgrad = glassgrad.viz.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
