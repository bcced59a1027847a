"""viz.svg: pictures with the Graphviz program, and SVG without it (WebAssembly build)."""
import shutil

import pytest

import glassgrad.viz.svg
from glassgrad.engine import Value
from glassgrad.viz import draw_graph
from glassgrad.viz.svg import GraphvizNotFoundError, RenderError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz program `dot` is not installed")


@pytest.fixture
def no_dot(monkeypatch):
    """Hide `dot` from PATH, so that viz.svg must use the WebAssembly build."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert glassgrad.viz.svg.dot_program() is None


def small_graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b).tanh()
    L.label = "L"
    L.backward()
    return draw_graph(L)


def assert_is_svg_of_the_graph(picture: str):
    assert picture.lstrip().startswith("<?xml") or picture.lstrip().startswith("<svg")
    assert "</svg>" in picture
    for text in ("data 2.0", "tanh", "n2"):  # labels survive layout
        assert text in picture


@needs_dot
def test_svg_with_the_graphviz_program():
    assert_is_svg_of_the_graph(small_graph().svg())


@needs_dot
@pytest.mark.parametrize("format, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("gif", b"GIF8")])
def test_other_formats_with_the_graphviz_program(tmp_path, format, magic):
    path = small_graph().save(tmp_path / f"graph.{format}")
    assert path.read_bytes().startswith(magic)


def test_svg_without_the_graphviz_program_uses_webassembly(no_dot):
    assert_is_svg_of_the_graph(small_graph().svg())


def test_jupyter_display_works_without_the_graphviz_program(no_dot):
    graph = small_graph()
    bundle = graph._repr_mimebundle_()
    assert_is_svg_of_the_graph(bundle["image/svg+xml"])
    assert_is_svg_of_the_graph(graph._repr_svg_())


def test_png_without_the_graphviz_program_says_how_to_install_it(no_dot, tmp_path):
    with pytest.raises(GraphvizNotFoundError) as error:
        small_graph().save(tmp_path / "graph.png")
    message = str(error.value)
    for command in ("apt-get install graphviz", "brew install graphviz",
                    "winget install graphviz", "conda install -c conda-forge graphviz"):
        assert command in message
    assert not (tmp_path / "graph.png").exists()  # nothing half-written


def test_bad_dot_text_raises_render_error_with_either_backend(monkeypatch):
    with pytest.raises(RenderError):
        glassgrad.viz.svg.render("digraph { a -> }")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RenderError):
        glassgrad.viz.svg.render("digraph { a -> }")
