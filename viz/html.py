"""The backprop stepper as one self-contained HTML page: open it in any browser, offline.

Every step is an inline SVG picture (no network, no external JS or CSS). Move with the
previous/next buttons, the slider or the arrow keys; the caption reads the chain rule
of the step in words and numbers.

Hooks for tests and tools: ``#stepper`` carries ``data-current`` (the step shown) and
``data-highlight`` (the DOT name of the highlighted node, e.g. ``n4``); every
``section.frame`` carries ``data-frame``, ``data-node`` and ``data-caption``; the
controls are ``#prev``, ``#next``, ``#slider``, and the caption is ``#caption``.
Each op node of a picture (``g.node[data-op]``) is focusable and carries ``data-formula``,
its formula and local derivatives from the op table, which ``#formula`` shows on hover
or focus.

Quiz mode (``quiz=True``) asks before it tells: before frame k the page shows the
``form.question[data-frame=k]``, one ``input.answer[data-input=x]`` per input that the
step updates. The learner types x.grad as it will be after the step; Enter checks every
answer against the engine's number (``viz.stepper.quiz_answers``: the answers, the
tolerance and the mistakes are worked out in Python, so the page only compares numbers),
writes ``#feedback`` (``data-verdict``, and ``data-mistakes``: the codes of
``nn.checks``, such as ``overwrote_grad``) and then reveals the step. ``#stepper``
carries ``data-asking`` (the frame asked about, or "") and ``data-revealed``.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from glassgrad.engine import Value

from .dot import DEFAULT_MAX_NODES, GraphIndex, index_of
from .stepper import StepView, _op_text, quiz_answers, step_views

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
#formula { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem;
           min-height: 1.4em; }
g.node[data-op] { cursor: help; }
g.node[data-op]:focus { outline: none; }
g.node[data-op]:focus ellipse, g.node[data-op]:hover ellipse { stroke: #2563eb; stroke-width: 3px; }
form.question { background: #eff6ff; padding: .75rem; border-radius: .4rem; margin: .5rem 0; }
form.question label { margin-right: 1rem; font-family: ui-monospace, Menlo, Consolas, monospace; }
input.answer { width: 7rem; font: inherit; }
#feedback:empty { display: none; }
#feedback { padding: .5rem .75rem; border-radius: .4rem; margin: .5rem 0; }
#feedback[data-verdict="right"] { background: #f0fdf4; border-left: 4px solid #16a34a; }
#feedback[data-verdict="wrong"], #feedback[data-verdict="unreadable"] {
  background: #fef2f2; border-left: 4px solid #dc2626; }
"""

_SCRIPT = """
(function () {
  const stepper = document.getElementById("stepper");
  const frames = Array.from(document.querySelectorAll("section.frame"));
  const questions = Array.from(document.querySelectorAll("form.question"));
  const slider = document.getElementById("slider");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  const caption = document.getElementById("caption");
  const counter = document.getElementById("counter");
  const feedback = document.getElementById("feedback");
  const score = document.getElementById("score");
  const formula = document.getElementById("formula");
  const last = frames.length - 1;
  let revealed = questions.length ? 0 : last;  // in quiz mode, frames open one answer at a time
  let right = 0, asked = 0;  // steps answered, and answered all right
  function show(k) {
    k = Math.max(0, Math.min(last, k));
    frames.forEach(function (frame, i) { frame.hidden = (i !== k); });
    questions.forEach(function (form) { form.hidden = true; });
    const frame = frames[k];
    caption.textContent = frame.dataset.caption;
    stepper.dataset.current = String(k);
    stepper.dataset.highlight = frame.dataset.node;
    stepper.dataset.asking = "";
    stepper.dataset.revealed = String(revealed);
    slider.value = String(k);
    counter.textContent = "step " + k + " of " + last;
    prev.disabled = (k === 0);
    next.disabled = (k === last);
  }
  function ask(k) {  // the question before frame k, under the picture of frame k - 1
    const form = questions.find(function (q) { return Number(q.dataset.frame) === k; });
    form.hidden = false;
    stepper.dataset.asking = String(k);
    feedback.replaceChildren();  // a new question starts clean
    feedback.dataset.verdict = "";
    form.querySelector("input.answer").focus();
  }
  function go(k) {
    k = Math.max(0, Math.min(last, k));
    if (k > revealed) { show(revealed); ask(revealed + 1); } else { show(k); }
  }
  function item(input, verdict, code, text) {
    const li = document.createElement("li");
    li.dataset.input = input.dataset.input;
    li.dataset.verdict = verdict;
    li.dataset.mistake = code;
    li.textContent = text;
    return li;
  }
  function check(form) {  // compares numbers only: the answers were worked out in Python
    const inputs = Array.from(form.querySelectorAll("input.answer"));
    const typed = inputs.map(function (input) {
      const text = input.value.trim().replace(",", ".");
      return text === "" ? NaN : Number(text);
    });
    const list = document.createElement("ul");
    const unreadable = typed.findIndex(function (x) { return !Number.isFinite(x); });
    if (unreadable >= 0) {
      const input = inputs[unreadable];
      list.appendChild(item(input, "unreadable", "", input.dataset.input +
        ".grad: type a number, such as -1.5 or 0.25"));
      feedback.replaceChildren(list);
      feedback.dataset.verdict = "unreadable";
      feedback.dataset.mistakes = "";
      input.focus();
      return;
    }
    const codes = [];
    inputs.forEach(function (input, i) {
      const name = input.dataset.input + ".grad = " + input.value.trim();
      const tolerance = Number(input.dataset.tolerance);
      const near = function (answer) { return Math.abs(typed[i] - answer) <= tolerance; };
      if (near(Number(input.dataset.answer))) {
        list.appendChild(item(input, "right", "", name + ": right."));
        return;
      }
      const mistake = JSON.parse(input.dataset.mistakes).find(function (m) {
        return m.answer === null || near(m.answer);
      });
      codes.push(mistake.code);
      list.appendChild(item(input, "wrong", mistake.code, name + " is not what this step gives. " +
        (mistake.answer === null ? "" : "Likely mistake (" + mistake.code + "): ") + mistake.hint));
    });
    const step = Number(form.dataset.frame);
    const heading = document.createElement("p");
    heading.textContent = codes.length ? "Not quite. Here is step " + step + ":" : "Right! Here is step " + step + ":";
    feedback.replaceChildren(heading, list);
    feedback.dataset.verdict = codes.length ? "wrong" : "right";
    feedback.dataset.mistakes = codes.join(" ");
    asked += 1;
    right += codes.length ? 0 : 1;
    score.textContent = "Right: " + right + " of " + asked + " steps";
    revealed = Math.max(revealed, step);
    show(step);
    feedback.focus();  // off the answer box, so the arrow keys step again
  }
  const current = function () { return Number(stepper.dataset.current); };
  prev.addEventListener("click", function () { go(current() - 1); });
  next.addEventListener("click", function () { go(current() + 1); });
  slider.addEventListener("input", function () { go(Number(slider.value)); });
  questions.forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); check(form); });
  });
  document.querySelectorAll("g.node[data-formula]").forEach(function (op) {
    const explain = function () { formula.textContent = op.dataset.formula; formula.dataset.op = op.dataset.op; };
    op.addEventListener("mouseenter", explain);
    op.addEventListener("focus", explain);
  });
  document.addEventListener("keydown", function (event) {
    // the slider moves itself with the arrows, and in an answer box they move the cursor
    if (event.target === slider || event.target.tagName === "INPUT") { return; }
    if (event.key === "ArrowRight") { go(current() + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { go(current() - 1); event.preventDefault(); }
    if (event.key === "Home") { go(0); event.preventDefault(); }
    if (event.key === "End") { go(last); event.preventDefault(); }
  });
  show(0);
})();
"""


def stepper_html(root: Value, path: str | Path | None = None, *, precision: int = 4,
                 rankdir: str = "LR", parameters: Iterable[Value] = (),
                 max_nodes: int = DEFAULT_MAX_NODES, quiz: bool = False) -> str:
    """A self-contained HTML page that steps through backpropagation of ``root``.

    Returns the page's text and also writes it to ``path`` if one is given. The options
    are those of every stepper, described once in ``viz.stepper.step_views``. With
    ``quiz=True`` the page asks, before each step, for the gradient the step will give
    each input it updates, says whether the answer is right (naming the likely mistake
    if not), then shows the step. The graph's gradients are left as they were.
    """
    views = step_views(root, precision=precision, rankdir=rankdir, parameters=parameters,
                       max_nodes=max_nodes)
    return stepper_page(root, views, path, quiz=quiz)


def stepper_page(root: Value, views: Sequence[StepView], path: str | Path | None = None, *,
                 quiz: bool = False) -> str:
    """The page of ``views``, the ``step_views(root, ...)`` made already; see ``stepper_html``.

    For a caller that also uses the views for something else (``glassgrad graph
    --frame`` writes one of them as a picture), so the stepper runs once.
    """
    index = index_of(root, views[0].index, "stepper_page")
    root_name = root.label or views[0].node  # the start view highlights the root
    title = f"Backpropagation of {root_name}, step by step"
    formulas = _op_formulas(index)
    sections = "\n".join(_section(k, view, formulas) for k, view in enumerate(views))
    last = len(views) - 1
    first = views[0]
    quiz_part = ""
    if quiz:
        questions = "\n".join(_question(k, view, index) for k, view in enumerate(views)
                              if view.frame is not None)
        quiz_part = (f'<div id="quiz">\n{questions}\n'
                     '<div id="feedback" tabindex="-1" aria-live="polite"></div>\n'
                     '<p id="score" class="hint">Right: 0 of 0 steps</p>\n</div>\n')
    quiz_keys = (" Quiz: before each step, type the grad it will give each input it updates "
                 "(its grad so far + this step's share); Tab moves between the boxes, Enter "
                 "checks and shows the step.") if quiz else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main id="stepper" data-frames="{len(views)}" data-current="0" data-highlight="{first.node}"
      data-quiz="{str(quiz).lower()}" data-asking="" data-revealed="{0 if quiz else last}">
<h1>{html.escape(title)}</h1>
<div id="controls">
<button id="prev" type="button" disabled>&#9664; previous</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<button id="next" type="button"{" disabled" if last == 0 else ""}>next &#9654;</button>
<span id="counter">step 0 of {last}</span>
</div>
<pre id="caption">{html.escape(first.caption)}</pre>
{quiz_part}<p id="formula" aria-live="polite">Hover over an op (a grey oval) or Tab to it: its
formula and local derivatives show here.</p>
<p class="hint">Keys: &larr; and &rarr; step, Home and End jump.{quiz_keys} Red: the node
passing its gradient back and the edges it uses; orange: the inputs it updates;
<b>grad ?</b>: not reached yet; <b>so far</b>: more is still to come from other uses.</p>
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


def _section(k: int, view: StepView, formulas: dict[str, str]) -> str:
    hidden = "" if k == 0 else " hidden"
    picture = _explain_ops(inline_svg(view.graph.svg(), prefix=f"f{k}-"), formulas)
    return (f'<section class="frame" data-frame="{k}" data-node="{view.node}" '
            f'data-caption="{html.escape(view.caption)}"{hidden}>\n{picture}\n</section>')


def _question(k: int, view: StepView, index: GraphIndex) -> str:
    """The form asked before frame ``k``: one answer box per input its step updates."""
    frame = view.frame
    assert frame is not None  # a question comes before a step, never before the start view
    L, n = frame.root_name, frame.name
    answers = quiz_answers(frame, index)
    formula = _op_text(frame.op, [index.names[index.position[x]]
                                  for x in index.order[frame.index].inputs])
    boxes = "\n".join(
        f'<label>{html.escape(answer.name)}.grad = <input class="answer" id="q{k}-{slot}" '
        f'type="text" inputmode="decimal" autocomplete="off" spellcheck="false" '
        f'data-input="{html.escape(answer.name)}" data-answer="{answer.answer!r}" '
        f'data-tolerance="{answer.tolerance!r}" '
        f'data-mistakes="{html.escape(json.dumps([asdict(m) for m in answer.mistakes]))}"></label>'
        for slot, answer in enumerate(answers))
    inputs = " and ".join(answer.name for answer in answers)
    return (f'<form class="question" data-frame="{k}" hidden>\n'
            f'<p>Before step {k}: {html.escape(n)} = {html.escape(formula)} passes '
            f'd{html.escape(L)}/d{html.escape(n)} back to {html.escape(inputs)}. What is each '
            "grad after this step?</p>\n"
            f'{boxes}\n<button type="submit">check</button>\n</form>')


def _op_formulas(index: GraphIndex) -> dict[str, str]:
    """The DOT name of each op node (``op2``) -> its formula and local derivatives, in words,
    read from the op table (``node.op.formula`` and ``node.op.derivatives``)."""
    formulas = {}
    for position, node in enumerate(index.order):
        if node.op is None:
            continue
        inputs = [index.names[index.position[x]] for x in node.inputs]
        variables = ", ".join(f"{v} = {name}" for v, name in zip("xy", inputs))
        text = f"{index.names[position]} = {_op_text(node.op.symbol, inputs)}. Op {node.op.name}"
        text += (f": out = {node.op.formula} with {variables}." if node.op.formula
                 else " (no formula in the op table).")
        plural = "s" if node.op.arity > 1 else ""
        if node.op.derivatives:
            text += f" Local derivative{plural}: " + ", ".join(
                f"dout/d{v} = {d}" for v, d in zip("xy", node.op.derivatives))
            text += f" (the number{plural} on the edge{plural} into the op)."
        else:
            text += f" Local derivative{plural}: the number{plural} on the edge{plural} into the op."
        formulas[f"op{position}"] = text
    return formulas


_OP_NODE = re.compile(r'(<g id="[^"]*" class="node")(>\s*<title>(op\d+)</title>)')


def _explain_ops(svg_text: str, formulas: dict[str, str]) -> str:
    """Make each op node focusable and give it its formula (``data-formula``)."""
    def explain(match: re.Match) -> str:
        text = html.escape(formulas[match[3]])
        return (f'{match[1]} tabindex="0" data-op="{match[3]}" data-formula="{text}" '
                f'aria-label="{text}"{match[2]}')
    return _OP_NODE.sub(explain, svg_text)


def inline_svg(svg_text: str, prefix: str) -> str:
    """An SVG document made fit to sit inside HTML: no XML prologue, doctype or comments,
    and every ``id`` prefixed so that many pictures on one page do not clash."""
    svg_text = svg_text[svg_text.index("<svg"):]
    svg_text = re.sub(r"<!--.*?-->", "", svg_text, flags=re.S)
    return re.sub(r'\bid="', f'id="{prefix}', svg_text).strip()
