"""The backprop stepper in Jupyter: the self-contained HTML page, shown inline.

The page (``viz.html.stepper_html``) carries every step's picture and its own little
script, so it needs no kernel: a notebook saved with its outputs and opened again later
(a class handout) still has a working stepper, where a widget that talks to the kernel
shows "Error displaying widget: model not found".
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable

from glassgrad.engine import Value

from .dot import DEFAULT_MAX_NODES
from .html import stepper_html

PAGE_CHROME_PX = 320   # the page's title, controls, caption and hint, above the picture


def step_widget(root: Value, *, precision: int = 4, rankdir: str = "LR",
                parameters: Iterable[Value] = (), max_nodes: int = DEFAULT_MAX_NODES,
                quiz: bool = False):
    """The stepper for a notebook: ``stepper_html``'s page in an inline frame.

    Previous/next buttons, a slider and the arrow keys move through the steps, and the
    caption reads the chain rule of each step. It works with or without a running
    kernel, so it survives saving and reopening the notebook. The options are those of
    every stepper, described once in ``viz.stepper.step_views``. The graph's gradients
    are left as they were. ``quiz=True`` shows the page in quiz mode (see ``stepper_html``:
    the learner types each step's gradients before the step is shown). Returns an
    ``IPython.display.HTML`` (the notebook shows it).
    """
    from IPython.display import HTML

    page = stepper_html(root, precision=precision, rankdir=rankdir, parameters=parameters,
                        max_nodes=max_nodes, quiz=quiz)
    # The frame is a document of its own: its ids and script stay apart from the notebook's,
    # and the sandbox lets its script run without reaching the notebook around it.
    # (In a <div>: IPython warns about HTML that starts with "<iframe".)
    return HTML(f'<div><iframe class="glassgrad-stepper" sandbox="allow-scripts" '
                f'srcdoc="{html.escape(page)}" style="width: 100%; height: {_frame_height(page)}px; '
                'border: 1px solid #e5e7eb; box-sizing: border-box"></iframe></div>')


def _frame_height(page: str) -> int:
    """Pixels for the frame: the page's text, then its pictures (all of one size) in full."""
    size = re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"', page)
    picture_px = float(size.group(1)) * 4 / 3 if size else 0.0  # 1 pt is 4/3 px
    return round(PAGE_CHROME_PX + picture_px)
