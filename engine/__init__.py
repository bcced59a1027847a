"""engine: a scalar reverse-mode autograd engine you can read in one sitting.

    from glassgrad.engine import Value
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b + 10.0).tanh()
    L.backward()              # a.grad = dL/da, b.grad = dL/db

``engine.value`` holds the Value and backward (and ``kept_gradients``, which puts
gradients back after a look at one pass); ``engine.ops`` declares every op once (forward
and local derivatives, scalar and array forms); ``engine.guards`` turns numbers into
floats and explains bad gradients; ``engine.gradcheck`` checks backward against finite
differences; ``engine.tape`` (``trace``) records a graph once and replays it in NumPy
waves (``engine.waves``). This package imports nothing from ``nn`` or ``viz``.
"""

if __name__ != "glassgrad.engine":
    # Run from the repository root, `import engine` would load this folder a second time, with a
    # second Value class that isinstance does not recognise. There is one name: glassgrad.engine.
    raise ImportError(f"this folder is the package glassgrad.engine; import it as "
                      f"`import glassgrad.engine` (after `pip install -e .`), not as {__name__!r}")

from . import ops
from .gradcheck import GradcheckError, GradcheckReport, GradcheckRow, gradcheck
from .ops import Op
from .tape import TraceError, trace
from .value import Value, kept_gradients, run_backward, seed_gradients, topological_order

__all__ = [
    "Value", "Op", "ops", "gradcheck", "GradcheckError", "GradcheckReport", "GradcheckRow",
    "topological_order", "seed_gradients", "run_backward", "kept_gradients", "trace", "TraceError",
]
