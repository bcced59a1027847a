"""viz.html, viz.animate, viz.jupyter: the stepper page, GIF and widget."""
import html
import re
import shutil

import pytest

from glassgrad.engine import Value, topological_order
from glassgrad.viz import step_views, step_widget, stepper_gif, stepper_html
from glassgrad.viz.svg import GraphvizNotFoundError

from conftest import tanh_graph


def expression():
    L, _ = tanh_graph()
    return L


def test_page_has_one_frame_per_view_with_its_node_and_caption(tmp_path):
    L = expression()
    page = stepper_html(L, tmp_path / "sub" / "stepper.html")
    assert (tmp_path / "sub" / "stepper.html").read_text(encoding="utf-8") == page
    views = step_views(L)
    frames = re.findall(r'<section class="frame" data-frame="(\d+)" data-node="(n\d+)" '
                        r'data-caption="([^"]*)"', page)
    assert [(int(k), node, html.unescape(caption)) for k, node, caption in frames] == [
        (k, view.node, view.caption) for k, view in enumerate(views)]
    for hook in ('id="prev"', 'id="next"', 'id="slider"', 'id="caption"', 'id="stepper"'):
        assert hook in page


def test_page_is_self_contained():
    page = stepper_html(expression())
    assert "<link" not in page and " src=" not in page and "@import" not in page
    assert not re.search(r"""(href|url\()\s*=?\s*["']?https?:""", page)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


def test_ids_of_the_inline_pictures_do_not_clash():
    ids = re.findall(r'\bid="([^"]+)"', stepper_html(expression()))
    assert len(ids) == len(set(ids))


def test_page_leaves_the_graphs_gradients_alone():
    L = expression()
    L.backward()
    grads = [node.grad for node in topological_order(L)]
    stepper_html(L)
    assert [node.grad for node in topological_order(L)] == grads


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz program `dot` is not installed")
def test_gif_has_one_picture_per_view(tmp_path):
    image = pytest.importorskip("PIL.Image")
    L = expression()
    path = stepper_gif(L, tmp_path / "steps.gif", seconds_per_step=0.5)
    with image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == len(step_views(L))
        assert gif.info["duration"] == 500


def test_gif_without_the_graphviz_program_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        stepper_gif(expression(), tmp_path / "steps.gif")
    assert not (tmp_path / "steps.gif").exists()


def _framed_page(shown) -> str:
    """The page inside the frame that step_widget shows."""
    match = re.fullmatch(r'<div><iframe [^>]*srcdoc="([^"]*)"[^>]*></iframe></div>', shown.data)
    assert match, shown.data[:200]
    return html.unescape(match.group(1))


def test_widget_shows_the_stepper_page_inline_in_a_frame():
    pytest.importorskip("IPython")
    L = expression()
    shown = step_widget(L)
    assert type(shown).__name__ == "HTML"
    assert _framed_page(shown) == stepper_html(L)
    assert 'sandbox="allow-scripts"' in shown.data  # its script runs, apart from the notebook


def test_widget_needs_no_kernel_nor_ipywidgets(monkeypatch):
    """What a saved notebook keeps is plain HTML with its own script: no widget model."""
    pytest.importorskip("IPython")
    import builtins

    real_import = builtins.__import__

    def no_ipywidgets(name, *args, **kwargs):
        if name == "ipywidgets" or name.startswith("ipywidgets."):
            raise ImportError("no ipywidgets here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipywidgets)
    shown = step_widget(expression())
    page = _framed_page(shown)
    assert "<script>" in page and 'id="slider"' in page and "<svg" in page


def test_widget_frame_keeps_to_the_output_width_and_is_tall_enough_for_its_picture():
    pytest.importorskip("IPython")
    shown = step_widget(expression())
    style = re.search(r'style="([^"]*)"', shown.data).group(1)
    assert "width: 100%" in style and "box-sizing: border-box" in style  # the border stays inside
    height = int(re.search(r"height: (\d+)px", style).group(1))
    picture_pt = float(re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"',
                                 _framed_page(shown)).group(1))
    assert height > picture_pt * 4 / 3


def test_stepper_page_draws_the_given_parameters_in_the_parameter_style() -> None:
    from glassgrad.viz.dot import PARAMETER_COLOUR
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    out = (w * x).tanh()
    marked, unmarked = stepper_html(out, parameters=[w]), stepper_html(out)
    assert PARAMETER_COLOUR in marked and PARAMETER_COLOUR not in unmarked


# ------------------------------------------------------ one walk, the same options everywhere

STEPPER_OPTIONS = ("precision", "rankdir", "parameters", "max_nodes")


@pytest.mark.parametrize("stepper", [stepper_html, stepper_gif, step_widget], ids=lambda f: f.__name__)
def test_every_stepper_takes_the_options_of_step_views_with_the_same_defaults(stepper):
    import inspect
    expected = inspect.signature(step_views).parameters
    got = inspect.signature(stepper).parameters
    for name in STEPPER_OPTIONS:
        assert got[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert got[name].default == expected[name].default


def page_output(root, **options):
    return stepper_html(root, **options)


def widget_output(root, **options):
    pytest.importorskip("IPython")
    return _framed_page(step_widget(root, **options))


def gif_output(root, tmp_path, **options):
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz program `dot` is not installed")
    pytest.importorskip("PIL.Image")
    return stepper_gif(root, tmp_path / "steps.gif", seconds_per_step=0.1, **options).read_bytes()


@pytest.mark.parametrize("output", ["page", "widget", "gif"])
@pytest.mark.parametrize("option, value", [
    ("precision", 2), ("rankdir", "TB"), ("parameters", "a"),
])
def test_each_stepper_option_changes_what_each_stepper_shows(output, option, value, tmp_path):
    def run(**options):
        L = expression()
        if options.get("parameters") == "a":
            options["parameters"] = [node for node in topological_order(L) if node.label == "a"]
        if output == "gif":
            return gif_output(L, tmp_path, **options)
        return (page_output if output == "page" else widget_output)(L, **options)

    default, changed = run(), run(**{option: value})
    assert changed != default
    if output != "gif":  # the text outputs can be read
        from glassgrad.viz.dot import PARAMETER_COLOUR
        if option == "precision":
            assert "data 0.9993" in default and "data 0.9993" not in changed  # tanh(4.0)
        if option == "parameters":
            assert PARAMETER_COLOUR in changed and PARAMETER_COLOUR not in default


@pytest.mark.parametrize("output", ["page", "widget", "gif"])
def test_each_stepper_refuses_a_graph_over_max_nodes(output, tmp_path):
    L = expression()
    with pytest.raises(ValueError, match="more than max_nodes=3"):
        if output == "gif":
            gif_output(L, tmp_path, max_nodes=3)
        else:
            (page_output if output == "page" else widget_output)(L, max_nodes=3)
    assert page_output(L, max_nodes=6)  # exactly as many Values as allowed is drawn
