"""The backprop stepper as one self-contained HTML page: open it in any browser, offline.

Every step is an inline SVG picture (no network, no external JS or CSS). Move with the
previous/next buttons, the slider or the arrow keys; the caption reads the chain rule
of the step in words and numbers.

Hooks for tests and tools: ``#stepper`` carries ``data-current`` (the step shown) and
``data-highlight`` (the DOT name of the highlighted node, e.g. ``n4``); every
``section.frame`` carries ``data-frame``, ``data-node`` and ``data-caption``; the
controls are ``#prev``, ``#next``, ``#slider``, and the caption is ``#caption``.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from glassgrad.engine import Value

from .dot import DEFAULT_MAX_NODES
from .stepper import StepView, step_views

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 1.5rem; color: #111827; }
h1 { font-size: 1.3rem; }
#controls { display: flex; gap: .75rem; align-items: center; margin: .5rem 0; }
#slider { flex: 1; max-width: 30rem; }
#caption { background: #f3f4f6; padding: .75rem; border-radius: .4rem; white-space: pre-wrap;
           font-size: .95rem; min-height: 3.5em; }
.frame svg { max-width: 100%; height: auto; }
.hint { color: #6b7280; font-size: .85rem; }
"""

_SCRIPT = """
(function () {
  const stepper = document.getElementById("stepper");
  const frames = Array.from(document.querySelectorAll("section.frame"));
  const slider = document.getElementById("slider");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  const caption = document.getElementById("caption");
  const counter = document.getElementById("counter");
  const last = frames.length - 1;
  function show(k) {
    k = Math.max(0, Math.min(last, k));
    frames.forEach(function (frame, i) { frame.hidden = (i !== k); });
    const frame = frames[k];
    caption.textContent = frame.dataset.caption;
    stepper.dataset.current = String(k);
    stepper.dataset.highlight = frame.dataset.node;
    slider.value = String(k);
    counter.textContent = "step " + k + " of " + last;
    prev.disabled = (k === 0);
    next.disabled = (k === last);
  }
  const current = function () { return Number(stepper.dataset.current); };
  prev.addEventListener("click", function () { show(current() - 1); });
  next.addEventListener("click", function () { show(current() + 1); });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }  // the slider moves itself with the arrows
    if (event.key === "ArrowRight") { show(current() + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { show(current() - 1); event.preventDefault(); }
    if (event.key === "Home") { show(0); event.preventDefault(); }
    if (event.key === "End") { show(last); event.preventDefault(); }
  });
  show(0);
})();
"""


def stepper_html(root: Value, path: str | Path | None = None, *, precision: int = 4,
                 rankdir: str = "LR", parameters: Iterable[Value] = (),
                 max_nodes: int = DEFAULT_MAX_NODES) -> str:
    """A self-contained HTML page that steps through backpropagation of ``root``.

    Returns the page's text and also writes it to ``path`` if one is given. The options
    are those of every stepper, described once in ``viz.stepper.step_views``. The
    graph's gradients are left as they were.
    """
    views = step_views(root, precision=precision, rankdir=rankdir, parameters=parameters,
                       max_nodes=max_nodes)
    return stepper_page(root, views, path)


def stepper_page(root: Value, views: Sequence[StepView], path: str | Path | None = None) -> str:
    """The page of ``views``, the ``step_views(root, ...)`` made already; see ``stepper_html``.

    For a caller that also uses the views for something else (``glassgrad graph
    --frame`` writes one of them as a picture), so the stepper runs once.
    """
    root_name = root.label or views[0].node  # the start view highlights the root
    title = f"Backpropagation of {root_name}, step by step"
    sections = "\n".join(_section(k, view) for k, view in enumerate(views))
    last = len(views) - 1
    first = views[0]
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main id="stepper" data-frames="{len(views)}" data-current="0" data-highlight="{first.node}">
<h1>{html.escape(title)}</h1>
<div id="controls">
<button id="prev" type="button" disabled>&#9664; previous</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<button id="next" type="button"{" disabled" if last == 0 else ""}>next &#9654;</button>
<span id="counter">step 0 of {last}</span>
</div>
<pre id="caption">{html.escape(first.caption)}</pre>
<p class="hint">Keys: &larr; and &rarr; step, Home and End jump. Red: the node passing its
gradient back and the edges it uses; orange: the inputs it updates; <b>grad ?</b>: not
reached yet; <b>so far</b>: more is still to come from other uses.</p>
{sections}
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    return page


def _section(k: int, view: StepView) -> str:
    hidden = "" if k == 0 else " hidden"
    return (f'<section class="frame" data-frame="{k}" data-node="{view.node}" '
            f'data-caption="{html.escape(view.caption)}"{hidden}>\n'
            f"{inline_svg(view.graph.svg(), prefix=f'f{k}-')}\n</section>")


def inline_svg(svg_text: str, prefix: str) -> str:
    """An SVG document made fit to sit inside HTML: no XML prologue, doctype or comments,
    and every ``id`` prefixed so that many pictures on one page do not clash."""
    svg_text = svg_text[svg_text.index("<svg"):]
    svg_text = re.sub(r"<!--.*?-->", "", svg_text, flags=re.S)
    return re.sub(r'\bid="', f'id="{prefix}', svg_text).strip()
