"""The op table: every differentiable operation, declared once.

An `Op` is two small functions and their formulas:

* ``forward(*xs) -> float``: the output value, from the inputs' data;
* ``local_grads(*xs, out) -> tuple``: the local derivative d out / d x_i for each
  input, at the same point. ``out`` is passed in so that tanh, exp and sigmoid can
  reuse their output (d/dx tanh(x) = 1 - tanh(x)^2 = 1 - out^2);
* ``formula`` and ``derivatives``: the same maths as text, in sympy syntax, for the
  docs, the renderer and the tests (which differentiate ``formula`` symbolically and
  compare);
* ``array_forward`` and ``array_local_grads`` (optional): the same two rules on NumPy
  arrays, one element per node, for the compiled tape (``engine.tape``). They must give
  the scalar form's floats *exactly*, so only ops built from IEEE's correctly rounded
  steps (+, -, *, /, sqrt, comparisons) declare them; NumPy's exp, log, tanh and pow may
  round differently from Python's math in the last bit, so those ops have none and the
  tape runs their scalar form element by element. Where the scalar form would raise,
  the array form gives nan or inf; the tape then re-runs the scalar form, which raises
  the error. NumPy is imported inside these functions only: the eager engine never
  needs it.

Nothing else in glassgrad knows how to differentiate. ``Value.backward``, ``gradcheck``,
the graph renderer and the backprop stepper all read these declarations, and a
student's own op (see ``Op``) is treated exactly like a built-in. (The one derivative
outside this table is stated where it lives: the optimizers' weight decay adds
``weight_decay * p`` to a gradient, as torch.optim does; see ``nn.optim``.)

The table is also the one registry of the built-ins' names (``BUILTINS`` at the end):
each declaration says which ``Value`` methods apply it (``methods``), its name as a
function in ``glassgrad graph`` expressions (``function``) and whether a neuron can use
it as an activation (``activation``). The methods' docstrings, the expression
functions, the CLI's help and ``nn.ACTIVATIONS`` are all read from it.

Domain policy: an op whose result would be complex, infinite or undefined raises an
error that names the op and the value (``log(-1.0): log is defined only for x > 0``);
a ``Value`` never holds nan or inf. Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0,
leaky_relu'(0) = slope, and at a tie max(x, x) passes half of the gradient to each input.
"""
from __future__ import annotations

import functools
import inspect
import math
from typing import Callable


class Op:
    """A differentiable operation: its forward rule and its local derivatives.

    Define your own op in a few lines; backward, ``gradcheck``, the renderer and the
    stepper treat it exactly like a built-in::

        import math
        from glassgrad.engine import Op, Value

        def swish_forward(x):                      # swish(x) = x * sigmoid(x)
            return x / (1.0 + math.exp(-x))

        def swish_local_grads(x, out):             # d/dx = s + x * s * (1 - s)
            s = 1.0 / (1.0 + math.exp(-x))
            return (s + x * s * (1.0 - s),)

        swish = Op("swish", swish_forward, swish_local_grads,
                   formula="x/(1 + exp(-x))")
        y = swish(Value(0.5))                      # a Value, with y.op is swish

    ``forward`` takes one float per input and returns a float; ``local_grads`` takes
    the same floats plus the output and returns one derivative per input.

    The built-ins also fill in their names: ``methods`` (the ``Value`` methods that apply
    the op, e.g. ``("tanh",)`` or ``("__add__", "__radd__")``), ``function`` (its name in
    expressions, "" for ops written as operators) and ``activation`` (usable as a
    neuron's activation). ``array_forward`` and ``array_local_grads`` are the same maths on
    NumPy arrays, for the compiled tape (``engine.tape``), and must give exactly the scalar
    forms' floats (leave them out if unsure); an op without them still works in a traced
    program: the tape calls the scalar forms once per element.
    """

    __slots__ = ("name", "forward", "local_grads", "formula", "derivatives", "symbol", "params",
                 "arity", "methods", "function", "activation", "array_forward", "array_local_grads")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        local_grads: Callable[..., tuple],
        *,
        formula: str = "",
        derivatives: tuple[str, ...] = (),
        symbol: str | None = None,
        params: tuple[float, ...] = (),
        methods: tuple[str, ...] = (),
        function: str = "",
        activation: bool = False,
        array_forward: Callable[..., object] | None = None,
        array_local_grads: Callable[..., tuple] | None = None,
    ) -> None:
        try:
            arity = len(inspect.signature(forward).parameters)
        except (TypeError, ValueError):
            raise TypeError(
                f"Op {name!r}: cannot tell how many inputs forward={forward!r} takes; "
                "wrap it in a def or lambda, e.g. forward=lambda x, y: math.hypot(x, y)"
            ) from None
        if not 1 <= arity <= 2:
            raise TypeError(f"Op {name!r}: forward must take 1 or 2 inputs, it takes {arity}")
        try:
            local_grads_arity = len(inspect.signature(local_grads).parameters)
        except (TypeError, ValueError):
            local_grads_arity = -1
        if local_grads_arity != arity + 1:
            raise TypeError(
                f"Op {name!r}: local_grads must take the {arity} input(s) and the output "
                f"(e.g. local_grads(x, out) -> (d_out/dx,))"
            )
        self.name = name
        self.forward = forward
        self.local_grads = local_grads
        self.formula = formula
        self.derivatives = tuple(derivatives)
        self.symbol = symbol or name
        self.params = tuple(params)  # constants baked into the op, e.g. the n of x**n
        self.arity = arity
        self.methods = tuple(methods)
        self.function = function
        self.activation = activation
        if (array_forward is None) != (array_local_grads is None):
            raise TypeError(f"Op {name!r}: give both array_forward and array_local_grads, or neither")
        self.array_forward = array_forward  # on NumPy arrays: nan/inf where forward raises
        self.array_local_grads = array_local_grads

    def __call__(self, *inputs: object):
        """Apply the op to Values (or plain numbers) and return the new Value."""
        from .value import apply  # the Value module imports this one

        return apply(self, *inputs)

    def call_text(self, *xs: float) -> str:
        """The op applied to numbers, as text for messages: ``log(-1.0)``."""
        return f"{self.name}({', '.join(repr(float(x)) for x in (*xs, *self.params))})"

    def __repr__(self) -> str:
        return f"Op({self.name!r}, formula={self.formula!r})"


# ---------------------------------------------------------------- binary ops


def _add(x: float, y: float) -> float:
    return x + y


def _sub(x: float, y: float) -> float:
    return x - y


def _mul(x: float, y: float) -> float:
    return x * y


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"{x!r} / {y!r}: division by zero")
    return x / y


def _check_power(x: float, y: float) -> None:
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"{x!r} ** {y!r}: zero cannot be raised to a negative power")
    if x < 0.0 and not float(y).is_integer():
        raise ValueError(
            f"({x!r}) ** {y!r}: a negative base needs a whole-number exponent "
            "(the result would be a complex number)"
        )


def _pow(x: float, y: float) -> float:
    _check_power(x, y)
    if x < 0.0:
        raise ValueError(
            f"({x!r}) ** Value({y!r}): with a Value exponent the base must be >= 0, "
            "because d/dy x**y = x**y * log(x) needs log(x); use a plain number exponent"
        )
    return math.pow(x, y)


def _pow_local_grads(x: float, y: float, out: float) -> tuple[float, float]:
    d_dy = out * math.log(x) if x > 0.0 else 0.0  # x**y -> 0 faster than log(x) -> -inf
    return _power_derivative(x, y), d_dy


def _power_derivative(x: float, n: float) -> float:
    """d/dx x**n = n * x**(n - 1), with its limits spelled out.

    n == 0: x**0 is the constant 1, so 0 everywhere. At x == 0 with n < 1 the slope
    is infinite. Where the true value is too large for a float, +-inf: backward then
    raises a named error if that derivative is ever used.
    """
    if n == 0.0:
        return 0.0
    if x == 0.0 and n < 1.0:
        return math.inf
    try:
        return n * math.pow(x, n - 1.0)
    except OverflowError:
        negative_power = x < 0.0 and float(n - 1.0).is_integer() and (n - 1.0) % 2 == 1.0
        return math.copysign(math.inf, n) * (-1.0 if negative_power else 1.0)


def _np():
    """NumPy, imported only when an array form runs (the eager engine never needs it)."""
    import numpy

    return numpy


ADD = Op("add", _add, lambda x, y, out: (1.0, 1.0),
         formula="x + y", derivatives=("1", "1"), symbol="+", methods=("__add__", "__radd__"),
         array_forward=lambda x, y: x + y, array_local_grads=lambda x, y, out: (1.0, 1.0))
SUB = Op("sub", _sub, lambda x, y, out: (1.0, -1.0),
         formula="x - y", derivatives=("1", "-1"), symbol="-", methods=("__sub__", "__rsub__"),
         array_forward=lambda x, y: x - y, array_local_grads=lambda x, y, out: (1.0, -1.0))
MUL = Op("mul", _mul, lambda x, y, out: (y, x),
         formula="x*y", derivatives=("y", "x"), symbol="*", methods=("__mul__", "__rmul__"),
         array_forward=lambda x, y: x * y, array_local_grads=lambda x, y, out: (y, x))
DIV = Op("div", _div, lambda x, y, out: (1.0 / y, -out / y),
         formula="x/y", derivatives=("1/y", "-x/y**2"), symbol="/",
         methods=("__truediv__", "__rtruediv__"),
         array_forward=lambda x, y: x / y,  # inf or nan where y == 0
         array_local_grads=lambda x, y, out: (1.0 / y, -out / y))
POW = Op("pow", _pow, _pow_local_grads,  # x ** y with a Value y; a number n makes power(n)
         formula="x**y", derivatives=("y*x**(y - 1)", "x**y*log(x)"), symbol="**",
         methods=("__pow__", "__rpow__"))



def _max_local_grads(x: float, y: float, out: float) -> tuple[float, float]:
    """1 to the larger input and 0 to the other; at a tie x == y, 1/2 to each.

    max is not differentiable where x == y; torch.maximum splits the gradient evenly
    there (and so do we), so the two local derivatives always add up to 1.
    """
    if x > y:
        return 1.0, 0.0
    if x < y:
        return 0.0, 1.0
    return 0.5, 0.5


def _array_max_local_grads(x, y, out):
    np = _np()
    to_x = np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0))  # ties share, as in the scalar form
    return to_x, 1.0 - to_x


MAX = Op("max", lambda x, y: x if x >= y else y, _max_local_grads,  # max pooling is made of it
         formula="Max(x, y)", derivatives=("Heaviside(x - y, 1/2)", "Heaviside(y - x, 1/2)"),
         symbol="max", methods=("max",),
         array_forward=lambda x, y: _np().where(x >= y, x, y), array_local_grads=_array_max_local_grads)

# ----------------------------------------------------------------- unary ops


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log({x!r}): log is defined only for x > 0")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt({x!r}): sqrt is defined only for x >= 0")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two forms so that exp never overflows: for x = -1000, exp(-x) would.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for large x.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


# The array forms of the unary ops that round exactly as their scalar forms.


def _array_sqrt_local_grad(x, out):
    np = _np()
    slope = np.full_like(out, np.inf)
    np.divide(0.5, out, out=slope, where=out > 0.0)
    return (slope,)


def _positive(x):
    return (x > 0.0).astype(float)


NEG = Op("neg", lambda x: -x, lambda x, out: (-1.0,),
         formula="-x", derivatives=("-1",), symbol="neg", methods=("__neg__",),
         array_forward=lambda x: -x, array_local_grads=lambda x, out: (-1.0,))
ABS = Op("abs", abs, lambda x, out: (_sign(x),),
         formula="Abs(x)", derivatives=("sign(x)",), methods=("__abs__",), function="abs",
         array_forward=lambda x: _np().abs(x), array_local_grads=lambda x, out: (_np().sign(x),))
EXP = Op("exp", math.exp, lambda x, out: (out,),
         formula="exp(x)", derivatives=("exp(x)",), methods=("exp",), function="exp")
LOG = Op("log", _log, lambda x, out: (1.0 / x,),
         formula="log(x)", derivatives=("1/x",), methods=("log",), function="log")
SQRT = Op("sqrt", _sqrt, lambda x, out: (0.5 / out if out > 0.0 else math.inf,),
          formula="sqrt(x)", derivatives=("1/(2*sqrt(x))",), methods=("sqrt",), function="sqrt",
          array_forward=lambda x: _np().sqrt(x), array_local_grads=_array_sqrt_local_grad)
TANH = Op("tanh", math.tanh, lambda x, out: (1.0 - out * out,),
          formula="tanh(x)", derivatives=("1 - tanh(x)**2",),
          methods=("tanh",), function="tanh", activation=True)
SIGMOID = Op("sigmoid", _sigmoid, lambda x, out: (out * (1.0 - out),),
             formula="1/(1 + exp(-x))", derivatives=("exp(-x)/(1 + exp(-x))**2",),
             methods=("sigmoid",), function="sigmoid", activation=True)
RELU = Op("relu", lambda x: x if x > 0.0 else 0.0, lambda x, out: (1.0 if x > 0.0 else 0.0,),
          formula="Max(x, 0)", derivatives=("Heaviside(x, 0)",),
          methods=("relu",), function="relu", activation=True,
          array_forward=lambda x: _np().where(x > 0.0, x, 0.0),
          array_local_grads=lambda x, out: (_positive(x),))
SOFTPLUS = Op("softplus", _softplus, lambda x, out: (_sigmoid(x),),
              formula="log(1 + exp(x))", derivatives=("1/(1 + exp(-x))",),
              methods=("softplus",), function="softplus")
STEP = Op("step", lambda x: 1.0 if x > 0.0 else 0.0, lambda x, out: (0.0,),  # the perceptron's activation
          formula="Heaviside(x, 0)", derivatives=("0",),
          methods=("step",), function="step", activation=True,
          array_forward=_positive, array_local_grads=lambda x, out: (0.0,))


# ------------------------------------------------- ops with a constant in them


class OpFamily:
    """Ops with a constant baked in, one ``Op`` per constant: ``leaky_relu(slope)``, ``power(n)``.

    The family declares the maths once, as templates with the constant's name in braces
    (``formula="x**{n}"``); ``op_for(value, forward, local_grads)`` fills in the number
    (every digit, so sympy checks the exact op) and returns the ``Op``. ``make`` is the
    cached function that builds the op for a value (``power``, ``leaky_relu``), and
    ``default`` the constant it uses when none is given (None: it must be given).
    """

    arity = 1

    def __init__(self, name: str, make: Callable[..., Op], *, parameter: str,
                 default: float | None = None, formula: str, derivatives: tuple[str, ...],
                 symbol: str, methods: tuple[str, ...] = (), function: str = "",
                 activation: bool = False) -> None:
        self.name, self.make, self.parameter, self.default = name, make, parameter, default
        self.formula_template, self.derivative_templates = formula, tuple(derivatives)
        self.symbol_template = symbol
        self.methods, self.function, self.activation = tuple(methods), function, activation

    @property
    def formula(self) -> str:
        """The formula with the constant's name in it: ``Max(x, 0) + slope*Min(x, 0)``."""
        return self.formula_template.format(**{self.parameter: self.parameter})

    @property
    def derivatives(self) -> tuple[str, ...]:
        return tuple(text.format(**{self.parameter: self.parameter})
                     for text in self.derivative_templates)

    def op_for(self, value: float, forward: Callable[[float], float],
               local_grads: Callable[[float, float], tuple], *,
               array_forward: Callable[..., object] | None = None,
               array_local_grads: Callable[..., tuple] | None = None) -> Op:
        """The family's ``Op`` for one constant ``value`` (array forms: see ``Op``)."""
        exact = {self.parameter: repr(value)}  # the formula keeps every digit
        return Op(self.name, forward, local_grads,
                  formula=self.formula_template.format(**exact),
                  derivatives=tuple(text.format(**exact) for text in self.derivative_templates),
                  symbol=self.symbol_template.format(**{self.parameter: f"{value:g}"}),
                  params=(value,), methods=self.methods, function=self.function,
                  activation=self.activation, array_forward=array_forward,
                  array_local_grads=array_local_grads)

    def __repr__(self) -> str:
        return f"OpFamily({self.name!r}, formula={self.formula!r})"


def power(n: float) -> Op:
    """x ** n for a constant n; d/dx x**n = n * x**(n - 1). Ops are cached by n (the
    last 256 exponents), so x**2 and y**2.0 share one."""
    return _power(float(n))  # float first: the cache would tell 2 from 2.0


@functools.lru_cache(maxsize=256)
def _power(n: float) -> Op:

    def forward(x: float) -> float:
        _check_power(x, n)
        return math.pow(x, n)

    def local_grads(x: float, out: float) -> tuple[float]:
        return (_power_derivative(x, n),)

    return POWER.op_for(n, forward, local_grads)  # no array form: np.power may round unlike math.pow


DEFAULT_SLOPE = 0.01  # leaky_relu's slope for x < 0 when none is given, as in PyTorch


def leaky_relu(slope: float = DEFAULT_SLOPE) -> Op:
    """x if x > 0 else slope * x; d/dx = 1 if x > 0 else slope (cached by slope)."""
    return _leaky_relu(float(slope))


@functools.lru_cache(maxsize=64)
def _leaky_relu(slope: float) -> Op:
    return LEAKY_RELU.op_for(slope, lambda x: x if x > 0.0 else slope * x,
                             lambda x, out: (1.0 if x > 0.0 else slope,),
                             array_forward=lambda x: _np().where(x > 0.0, x, slope * x),
                             array_local_grads=lambda x, out: (_np().where(x > 0.0, 1.0, slope),))


POWER = OpFamily("pow", power, parameter="n", formula="x**{n}",
                 derivatives=("{n}*x**({n} - 1)",), symbol="**{n}", methods=("__pow__",))
LEAKY_RELU = OpFamily("leaky_relu", leaky_relu, parameter="slope", default=DEFAULT_SLOPE,
                      formula="Max(x, 0) + {slope}*Min(x, 0)",
                      derivatives=("Heaviside(x, 0) + {slope}*(1 - Heaviside(x, 0))",),
                      symbol="leaky_relu({slope})", methods=("leaky_relu",),
                      function="leaky_relu", activation=True)


# ------------------------------------------------------------ the registry of names

BUILTINS: tuple[Op | OpFamily, ...] = (
    ADD, SUB, MUL, DIV, POW, MAX, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU, SOFTPLUS, STEP,
    POWER, LEAKY_RELU,
)
"""Every built-in op and op family, in one place: add a new one here and every list that
names ops (Value docstrings, expression functions, CLI help, nn.ACTIVATIONS) has it."""

BUILTIN_OPS: dict[str, Op] = {op.name: op for op in BUILTINS if isinstance(op, Op)}
"""The fixed built-in ops by name (``power(n)`` and ``leaky_relu(slope)`` make more)."""

FUNCTIONS: dict[str, Op | OpFamily] = {op.function: op for op in BUILTINS if op.function}
"""The built-ins callable by name in expressions, ``tanh(x)``: name -> op or family."""

ACTIVATIONS: dict[str, Op | OpFamily] = {op.function: op for op in BUILTINS if op.activation}
"""The built-ins a neuron can use as its activation, by name (``nn`` adds "linear")."""
