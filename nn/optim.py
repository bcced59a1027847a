"""Optimizers: turn each parameter's gradient into a step, as torch.optim does.

Every optimizer keeps a list of parameters and, for each one, its state in plain
lists at the same index (``velocity[i]`` belongs to ``params[i]``). A training step is

    optimizer.zero_grad()      # gradients accumulate, so clear them first
    loss.backward()            # fills p.grad for every parameter
    optimizer.step()           # p.data -= lr * (something made from p.grad)

``lr`` is a plain attribute: change it between steps for a learning-rate schedule.
The update rules match torch.optim's (the tests compare them in float64). A step that
would make a parameter inf or nan raises OverflowError and changes nothing.
"""
from __future__ import annotations

import math
from typing import Iterable

from glassgrad.engine import Value

from .arguments import below_one, choose_one, non_negative, positive


class Optimizer:
    """What every optimizer shares: the parameter list, ``lr``, ``zero_grad`` and a safe update."""

    def __init__(self, params: Iterable[Value], lr: float, weight_decay: float) -> None:
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: the parameter list is empty (did you pass model.parameters()?)")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Value")
        self.lr = non_negative(lr, f"{name}: lr")
        self.weight_decay = non_negative(weight_decay, f"{name}: weight_decay")
        self.steps = 0  # how many times step() has run

    def step(self) -> None:
        """Move every parameter by its update rule (each optimizer defines its own)."""
        raise NotImplementedError(f"{type(self).__name__} must define step (its update rule)")

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.params:
            p.grad = 0.0

    def gradients(self) -> list[float]:
        """g_i = dL/dp_i + weight_decay * p_i (weight decay as L2, as torch.optim does).

        weight_decay * p is the derivative of the penalty (weight_decay / 2) * p**2, added
        here rather than through the graph: the one derivative that engine.ops does not
        declare. ``nn.l2`` puts an L2 penalty through the graph instead.
        """
        return [p.grad + self.weight_decay * p.data for p in self.params]

    def _apply(self, new_data: list[float]) -> None:
        """Set every p.data, unless one of the new values is not finite (then set none)."""
        for p, value in zip(self.params, new_data):
            if not math.isfinite(value):
                raise OverflowError(
                    f"{type(self).__name__}.step: parameter {p!r} would become {value!r} "
                    f"(lr={self.lr!r}, grad={p.grad!r}); no parameter was changed. "
                    "Try a smaller learning rate.")
        for p, value in zip(self.params, new_data):
            p.data = value
        self.steps += 1


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

        g = grad + weight_decay * p
        v = momentum * v + g                 (v starts at 0; without momentum v = g)
        p = p - lr * v
    """

    def __init__(self, params: Iterable[Value], lr: float = 0.1, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = non_negative(momentum, "SGD: momentum")
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        velocity = [self.momentum * v + g for v, g in zip(self.velocity, self.gradients())]
        self._apply([p.data - self.lr * v for p, v in zip(self.params, velocity)])
        self.velocity = velocity

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr!r}, momentum={self.momentum!r}, weight_decay={self.weight_decay!r})"


class Adam(Optimizer):
    """Adam: momentum plus a per-parameter step size from the gradient's recent size.

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g             (mean of recent gradients)
        v = beta2 * v + (1 - beta2) * g^2           (mean of recent squared gradients)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)    (t = step number, from 1)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    m and v start at 0, so early averages are too small; dividing by (1 - beta^t)
    corrects that bias.
    """

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        beta1, beta2 = betas
        self.betas = (below_one(beta1, "Adam: averaging factors"),
                      below_one(beta2, "Adam: averaging factors"))
        self.eps = _check_eps(eps, "Adam")
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        beta1, beta2 = self.betas
        t = self.steps + 1
        grads = self.gradients()
        m = [beta1 * m_i + (1.0 - beta1) * g for m_i, g in zip(self.m, grads)]
        v = [beta2 * v_i + (1.0 - beta2) * g * g for v_i, g in zip(self.v, grads)]
        m_correction, v_correction = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        self._apply([p.data - self.lr * (m_i / m_correction) / (math.sqrt(v_i / v_correction) + self.eps)
                     for p, m_i, v_i in zip(self.params, m, v)])
        self.m, self.v = m, v

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr!r}, betas={self.betas!r}, eps={self.eps!r}, "
                f"weight_decay={self.weight_decay!r})")


class RMSprop(Optimizer):
    """RMSprop: divide each step by a running root-mean-square of the gradient.

        g = grad + weight_decay * p
        s = alpha * s + (1 - alpha) * g^2           (s starts at 0)
        d = g / (sqrt(s) + eps)
        without momentum:  p = p - lr * d
        with momentum:     b = momentum * b + d,  p = p - lr * b
    """

    def __init__(self, params: Iterable[Value], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.alpha = below_one(alpha, "RMSprop: averaging factors")
        self.eps = _check_eps(eps, "RMSprop")
        self.momentum = non_negative(momentum, "RMSprop: momentum")
        self.square_avg = [0.0] * len(self.params)
        self.buffer = [0.0] * len(self.params)

    def step(self) -> None:
        grads = self.gradients()
        square_avg = [self.alpha * s + (1.0 - self.alpha) * g * g for s, g in zip(self.square_avg, grads)]
        directions = [g / (math.sqrt(s) + self.eps) for g, s in zip(grads, square_avg)]
        buffer = [self.momentum * b + d for b, d in zip(self.buffer, directions)]
        self._apply([p.data - self.lr * b for p, b in zip(self.params, buffer)])
        self.square_avg, self.buffer = square_avg, buffer

    def __repr__(self) -> str:
        return (f"RMSprop(lr={self.lr!r}, alpha={self.alpha!r}, eps={self.eps!r}, "
                f"momentum={self.momentum!r}, weight_decay={self.weight_decay!r})")


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get_optimizer(name: str, params: Iterable[Value], **options: float) -> Optimizer:
    """``get_optimizer("adam", model.parameters(), lr=0.01)``: an optimizer by name."""
    return OPTIMIZERS[choose_one(name, OPTIMIZERS, "optimizer", ignore_case=True)](
        params, **options)


def _check_eps(x: object, owner: str) -> float:
    return positive(x, f"{owner}: eps", "; it keeps the division safe where a gradient is 0")
