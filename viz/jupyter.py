"""The backprop stepper in Jupyter: a slider over the steps, or the HTML page inline."""
from __future__ import annotations

import html
from collections.abc import Iterable

from glassgrad.engine import Value

from .dot import DEFAULT_MAX_NODES
from .html import stepper_html
from .stepper import step_views


def step_widget(root: Value, *, precision: int = 4, rankdir: str = "LR",
                parameters: Iterable[Value] = (), max_nodes: int = DEFAULT_MAX_NODES,
                quiz: bool = False):
    """A stepper for the notebook: an ipywidgets slider with the picture and caption of
    each step; without ipywidgets, the self-contained HTML page shown inline.

    The options are those of every stepper, described once in ``viz.stepper.step_views``.
    ``quiz=True`` shows the page in quiz mode (see ``stepper_html``), where the quiz lives.
    The graph's gradients are left as they were.
    """
    options = dict(precision=precision, rankdir=rankdir, parameters=parameters, max_nodes=max_nodes)
    if quiz:
        return _inline_page(root, quiz=True, **options)
    try:
        import ipywidgets
    except ImportError:
        return _inline_page(root, **options)

    views = step_views(root, **options)
    pages = [f"<pre>{html.escape(view.caption)}</pre>{view.graph.svg()}" for view in views]
    slider = ipywidgets.IntSlider(value=0, min=0, max=len(views) - 1, description="step",
                                  continuous_update=True)
    picture = ipywidgets.HTML(value=pages[0])

    def show(change: dict) -> None:
        picture.value = pages[change["new"]]

    slider.observe(show, names="value")
    return ipywidgets.VBox([slider, picture])


def _inline_page(root: Value, **options):
    """The HTML stepper in an iframe (its script and ids stay apart from the notebook's)."""
    from IPython.display import HTML

    page = stepper_html(root, **options)
    return HTML(f'<div><iframe srcdoc="{html.escape(page)}" style="width: 100%; height: 34rem; '
                'border: 1px solid #e5e7eb"></iframe></div>')
