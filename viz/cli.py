"""The ``glassgrad`` command (also ``python -m glassgrad.viz``).

    glassgrad graph "tanh(a*b + c)" a=2 b=-3 c=10 -o out/
        writes out/graph.svg (the graph after backward) and out/stepper.html
        (backpropagation step by step), and prints their paths
    glassgrad demo ...
        trains the demo model and draws its pictures (see ``glassgrad demo --help``)
    glassgrad grade EXERCISE.ipynb SUBMISSIONS... -o OUT
        grades a class's notebooks (see ``glassgrad grade --help`` and ``viz.grade``)

The expression is parsed by ``viz.expr`` (never ``eval``): numbers, variables,
+ - * / **, and the functions of the op table (``glassgrad graph --help`` lists them,
read from ``viz.expr.FUNCTIONS``, which reads ``engine.ops``).
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from glassgrad.engine import Value

from .expr import FUNCTIONS, ExpressionError, parse_expression
from .svg import GraphvizNotFoundError, RenderError


class UsageError(ValueError):
    """A command-line mistake, explained to the user (exit status 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 rendering failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        return _demo(argv[1:])  # the demo parses its own options (and its own --help)
    if argv[:1] == ["grade"]:
        from .grade import main as grade_main  # so does the grader
        return grade_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        for path in graph_command(args.expression, args.assignments, out=args.out,
                                  precision=args.precision, rankdir=args.rankdir,
                                  frame=args.frame, stepper=args.stepper):
            print(path)
    except (ExpressionError, UsageError) as error:
        print(f"glassgrad graph: error: {error}", file=sys.stderr)
        return 2
    except (GraphvizNotFoundError, RenderError, OSError) as error:
        print(f"glassgrad graph: error: {error}", file=sys.stderr)
        return 1
    return 0


def graph_command(expression: str, assignments: Sequence[str], *, out: str | Path = ".",
                  precision: int = 4, rankdir: str = "LR", frame: int | None = None,
                  stepper: bool = True) -> list[Path]:
    """Build ``expression`` from ``name=value`` assignments, backpropagate, write the pictures.

    Writes ``graph.svg``, ``stepper.html`` (unless ``stepper`` is false) and, if
    ``frame`` is given, ``stepper_frame.svg`` (that step of the stepper, captioned).
    Returns the paths written.
    """
    from .html import stepper_page  # imported here: `glassgrad --help` stays quick
    from .render import draw_graph
    from .stepper import captioned, step_views

    parsed = parse_expression(expression)
    values = parse_assignments(assignments)
    unused = [name for name in values if name not in parsed.variables]
    if unused:
        raise UsageError(f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} not in the "
                         f"expression {parsed.text!r} (its variables: {', '.join(parsed.variables) or 'none'})")
    root = parsed.evaluate(values)
    if not root.label:
        root.label = "out" if "L" in values else "L"
    try:
        root.backward()
    except OverflowError as error:  # e.g. sqrt(a) at a=0: an infinite derivative
        raise UsageError(f"{error}; choose other values") from None

    # One run of the stepper serves both the page and the --frame picture.
    views = []
    if stepper or frame is not None:
        views = step_views(root, precision=precision, rankdir=rankdir)
    if frame is not None and not 0 <= frame < len(views):  # checked before anything is written
        raise UsageError(f"--frame {frame}: this graph has steps 0 to {len(views) - 1}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [draw_graph(root, rankdir=rankdir, precision=precision).save(out / "graph.svg")]
    if stepper:
        written.append(out / "stepper.html")
        stepper_page(root, views, written[-1])
    if frame is not None:
        written.append(captioned(views[frame]).save(out / "stepper_frame.svg"))
    return written


def parse_assignments(assignments: Sequence[str]) -> dict[str, Value]:
    """``["a=2", "b=-3"]`` -> ``{"a": Value(2.0, label="a"), ...}``, with clear errors."""
    values: dict[str, Value] = {}
    for assignment in assignments:
        name, equals, number = assignment.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise UsageError(f"{assignment!r}: give each variable as name=number, e.g. a=2.5")
        if name in FUNCTIONS:
            raise UsageError(f"{assignment!r}: {name} is a function name; call the variable something else")
        if name in values:
            raise UsageError(f"{assignment!r}: {name} is given twice")
        try:
            values[name] = Value(float(number), label=name)
        except ValueError:
            raise UsageError(f"{assignment!r}: the value of {name} must be a finite number, "
                             f"got {number!r}") from None
    return values


def _demo(argv: list[str]) -> int:
    try:
        from . import demo
    except ModuleNotFoundError as error:
        if error.name != "glassgrad.viz.demo":
            raise
        print("glassgrad demo: error: the demo (viz/demo.py) is not installed", file=sys.stderr)
        return 1
    status = demo.main(argv)
    return 0 if status is None else int(status)



def positive(kind: type) -> Callable[[str], float]:
    """An argparse type: a positive ``int`` (a count, digits: at least 1) or ``float`` (> 0, finite)."""
    rule = "a whole number that must be at least 1" if kind is int else "a finite number > 0"

    def parse(text: str) -> float:
        try:
            number = kind(text)
        except ValueError:
            number = None
        if number is None or not (number > 0 and math.isfinite(number)):
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__} ({rule}), "
                                             f"got {text!r}")
        return number

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassgrad",
        description="glassgrad: see every step of backpropagation.",
        epilog='example: glassgrad graph "tanh(a*b + c)" a=2 b=-3 c=10 -o out/',
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    graph = commands.add_parser(
        "graph", help="draw an expression's graph and write the backprop stepper page",
        description="Build the expression, run backward, and write graph.svg and stepper.html.",
        epilog="functions: " + ", ".join(FUNCTIONS) + ". Operators: + - * / **.",
    )
    graph.add_argument("expression", help='e.g. "tanh(a*b + c)" (quote it for the shell)')
    graph.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                       help="a value for each variable, e.g. a=2 b=-3 c=10")
    graph.add_argument("-o", "--out", default=".", help="folder for the files (default: .)")
    graph.add_argument("--precision", type=positive(int), default=4,
                       help="significant digits (default: 4)")
    graph.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                       help="LR: inputs on the left (default); TB: inputs on top")
    graph.add_argument("--frame", type=int, metavar="K",
                       help="also write stepper_frame.svg: step K of the stepper, captioned")
    graph.add_argument("--no-stepper", dest="stepper", action="store_false",
                       help="do not write stepper.html")
    commands.add_parser("demo", help="train the demo model and draw its pictures "
                                     "(options: glassgrad demo --help)", add_help=False)
    commands.add_parser("grade", help="grade a class's exercise notebooks "
                                      "(options: glassgrad grade --help)", add_help=False)
    return parser
