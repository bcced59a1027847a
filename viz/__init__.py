"""viz: draw the graph and watch backpropagation step by step.

    draw_graph(L)            the graph: data, grads and local derivatives (draw_dot is an alias)
    draw_neuron(n, xs)       one neuron, run and backpropagated, parameters marked
    backprop_steps(L)        one frame per chain-rule step, in backward()'s order
    forward_steps(L)         one frame per value computed, in topological order
    stepper_html(L, path)    a self-contained page that steps through backpropagation
    stepper_gif(L, path)     the same as an animated GIF (needs the Graphviz program)
    step_widget(L)           the stepper in Jupyter
    index_graph(L)           one walk of the graph (a GraphIndex) that a drawing shares:
                             pass it as ``index=`` to backprop_steps, forward_steps, step_views
    viz.plots                matplotlib figures: plot_history, plot_decision_boundary,
                             plot_loss_surface, plot_activation (imported on first use)

Nothing here changes how gradients are computed: every number drawn is read from the
engine (``node.data``, ``node.grad``, ``node.local_grads``, ``node.propagate()``).
"""

if __name__ != "glassgrad.viz":
    # Run from the repository root, `import viz` would load this folder a second time, with a
    # second Value class that isinstance does not recognise. There is one name: glassgrad.viz.
    raise ImportError(f"this folder is the package glassgrad.viz; import it as "
                      f"`import glassgrad.viz` (after `pip install -e .`), not as {__name__!r}")

from .animate import stepper_gif
from .html import stepper_html
from .jupyter import step_widget
from .dot import GraphIndex, index_graph
from .render import count_nodes, draw_dot, draw_graph, draw_neuron
from .stepper import (BackwardFrame, ForwardFrame, InputUpdate, StepView, backprop_steps, captioned,
                      forward_steps, step_views)
from .svg import Graph

__all__ = [
    "Graph", "draw_graph", "draw_dot", "draw_neuron", "count_nodes",
    "backprop_steps", "forward_steps", "BackwardFrame", "ForwardFrame", "InputUpdate",
    "step_views", "StepView", "captioned", "stepper_html", "stepper_gif", "step_widget",
    "GraphIndex", "index_graph",
    "plot_history", "plot_decision_boundary", "plot_loss_surface", "plot_activation",
]

_PLOTS = {"plot_history", "plot_decision_boundary", "plot_loss_surface", "plot_activation",
          "decision_grid", "gradient_descent_path"}


def __getattr__(name: str):
    # The plots need matplotlib, which takes a while to import: load it on first use.
    if name in _PLOTS:
        from . import plots
        return getattr(plots, name)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
