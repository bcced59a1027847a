"""Write a copy of glassgrad for students: everything they need, no reference solutions.

The reference solutions to the exercises live in tests/exercise_solutions.py, for CI.
A student's clone would have them, so for a class hand out this copy instead:

    python tests/make_handout.py ../glassgrad-handout              # the library and the notebooks
    python tests/make_handout.py ../notebooks-only --notebooks-only   # just notebooks/

The full handout is every file git tracks except tests/ (the solutions and the tests
that read them) and .ci/ (which runs those tests); a student installs it as usual,
``pip install -e ".[notebooks]"``, and opens notebooks/ in JupyterLab. Before it
finishes, the script checks that no file it wrote contains any reference solution's
body, and it refuses to write into a folder that is not empty.
"""
from __future__ import annotations

import argparse
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = ("tests/", ".ci/")   # the solutions, the tests that use them, and CI that runs them


def handout_files(root: Path = ROOT, notebooks_only: bool = False) -> list[str]:
    """The repository's tracked files (paths relative to ``root``) that go to students."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files"], check=True,
                                capture_output=True, text=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"make_handout: {root} must be a git checkout (git ls-files failed: {error})") from None
    if notebooks_only:
        return [path for path in listed if path.startswith("notebooks/")]
    return [path for path in listed if not path.startswith(LEFT_OUT)]


def solution_bodies() -> dict[str, str]:
    """{function name: its body, without the def line} for every reference solution."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import exercise_solutions
    finally:
        sys.path.pop(0)
    bodies = {}
    for name, function in inspect.getmembers(exercise_solutions, inspect.isfunction):
        if function.__module__ == exercise_solutions.__name__:
            bodies[name] = inspect.getsource(function).split("\n", 1)[1].strip()
    return bodies


def leaked_solutions(folder: Path) -> list[tuple[str, str]]:
    """(file, solution name) for every file under ``folder`` that holds a solution's body."""
    bodies = solution_bodies()
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="ignore")
        leaks += [(str(path.relative_to(folder)), name) for name, body in bodies.items() if body in text]
    return leaks


def make_handout(destination: Path, notebooks_only: bool = False) -> list[str]:
    """Copy the handout files into ``destination`` (new or empty); return them."""
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise SystemExit(f"make_handout: {destination} is not empty; give a new folder")
    files = handout_files(notebooks_only=notebooks_only)
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    leaks = leaked_solutions(destination)
    if leaks:
        raise SystemExit(f"make_handout: reference solutions found in the handout: {leaks}")
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("destination", type=Path, help="a new (or empty) folder to write")
    parser.add_argument("--notebooks-only", action="store_true", help="write only notebooks/")
    args = parser.parse_args(argv)
    files = make_handout(args.destination, args.notebooks_only)
    print(f"wrote {len(files)} files to {args.destination}, without the reference solutions")


if __name__ == "__main__":
    main()
