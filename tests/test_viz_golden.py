"""Golden DOT text: the same program must draw byte-for-byte the same graph.

When a change to the drawing is intended, regenerate the files and review the diff:

    GLASSGRAD_UPDATE_GOLDEN=1 python -m pytest tests/test_viz_golden.py
    git diff tests/golden/
"""
import os
from pathlib import Path

import pytest

from glassgrad.engine import Op, Value
from glassgrad.viz import draw_graph, step_views

from conftest import tanh_graph

GOLDEN = Path(__file__).parent / "golden"


def tanh_expression():
    L, _ = tanh_graph()
    return L


def tanh_after_backward():
    L = tanh_expression()
    L.backward()
    return draw_graph(L)


def tanh_before_backward():
    return draw_graph(tanh_expression())


def neuron_with_parameters():
    w = [Value(0.5, label="w0"), Value(-1.5, label="w1")]
    b = Value(0.1, label="b")
    x = [Value(2.0, label="x0"), Value(1.0, label="x1")]
    out = (w[0] * x[0] + w[1] * x[1] + b).relu()
    out.backward()
    return draw_graph(out, parameters=[*w, b], highlight=[w[1]], rankdir="TB")


def reused_input_and_custom_op():
    cube = Op("cube", lambda x: x ** 3, lambda x, out: (3 * x * x,), formula="x**3", symbol="^3")
    a = Value(-2.0, label="a")
    y = cube(a * a) / (a + 5.0) ** 2
    y.backward()
    return draw_graph(y, precision=3, show_local_grads=True, legend=False, title="custom op")


def stepper_frame():
    return step_views(tanh_expression(), caption_in_picture=True)[2].graph


CASES = {
    "tanh_after_backward": tanh_after_backward,
    "tanh_before_backward": tanh_before_backward,
    "neuron_with_parameters": neuron_with_parameters,
    "reused_input_and_custom_op": reused_input_and_custom_op,
    "stepper_frame": stepper_frame,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dot_text_matches_golden_file(name):
    source = CASES[name]().source
    path = GOLDEN / f"{name}.dot"
    if os.environ.get("GLASSGRAD_UPDATE_GOLDEN"):
        path.write_text(source, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run GLASSGRAD_UPDATE_GOLDEN=1 python -m pytest {__file__}"
    assert source == path.read_text(encoding="utf-8"), (
        f"the DOT for {name} changed; if intended, regenerate with "
        "GLASSGRAD_UPDATE_GOLDEN=1 python -m pytest tests/test_viz_golden.py and review git diff"
    )
