"""SelfAttention: one head of scaled dot-product attention, from scalar Values.

Each position of a sequence asks a question (its query), every position offers an
answer key and a value, and the output at a position is the average of the values
weighted by how well its query matches each key:

    q_i, k_i, v_i = W_q x_i + b_q,  W_k x_i + b_k,  W_v x_i + b_v
    a_ij = softmax_j(q_i . k_j / sqrt(d))         (j <= i only, if causal)
    out_i = W_o (sum_j a_ij v_j) + b_o

This is what ``torch.nn.MultiheadAttention(d, num_heads=1, batch_first=True)`` computes
with queries, keys and values all the same sequence, and the parameters are its own:
``in_proj_weight`` (3d, d) stacks W_q, W_k, W_v, ``in_proj_bias`` (3d) stacks the
biases, and ``out_proj`` is a ``Linear(d, d)``.
"""
from __future__ import annotations

import math
import random
from typing import Sequence

from glassgrad.engine import Value

from .arguments import whole_number
from .layers import Group, _as_rng, named, only_values, record_groups
from .module import Module
from .rng import make_rng
from .keras import softmax
from .tensors import Linear, affine, parameter, shape_of

Vector = Sequence[Value | float]


class SelfAttention(Module):
    """``attention(sequence)`` returns (outputs, attention_weights) for a list of vectors.

    ``outputs[i]`` is a list of ``embed_dim`` Values; ``attention_weights[i][j]`` is a_ij,
    how much position i reads position j (each row sums to 1). ``causal=True`` lets a
    position read only itself and the positions before it (a_ij = 0 for j > i), as a
    language model must. Weights start as PyTorch's: in_proj_weight Xavier-uniform,
    biases 0, out_proj like a Linear.
    """

    def __init__(self, embed_dim: int, causal: bool = False, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        self.embed_dim = whole_number(embed_dim, "SelfAttention: embed_dim")
        if not isinstance(causal, bool):
            raise TypeError(f"SelfAttention: causal must be True or False, got {causal!r}")
        self.causal = causal
        source = make_rng(seed, rng, where="SelfAttention")
        d = self.embed_dim
        xavier_bound = math.sqrt(6.0 / (d + 3 * d))  # fan_in d, fan_out 3d
        self.in_proj_weight = parameter((3 * d, d), xavier_bound, source, "in_proj_weight")
        self.in_proj_bias = parameter((3 * d,), 0.0, source, "in_proj_bias")
        self.out_proj = Linear(d, d, rng=_as_rng(source))
        for b in self.out_proj.bias:
            b.data = 0.0

    def __call__(self, sequence: Sequence[Vector]) -> tuple[list[list[Value]], list[list[Value]]]:
        _, width = shape_of(sequence, 2, self, "a sequence: a list of vectors")
        if width != self.embed_dim:
            raise ValueError(f"{self!r} expects vectors of length {self.embed_dim}, "
                             f"the sequence's have length {width}")
        d = self.embed_dim
        projected = [affine(self.in_proj_weight, self.in_proj_bias, x) for x in sequence]
        queries = [p[:d] for p in projected]
        keys = [p[d:2 * d] for p in projected]
        values = [p[2 * d:] for p in projected]
        scale = 1.0 / math.sqrt(d)
        outputs, weights = [], []
        for i, query in enumerate(queries):
            visible = keys[:i + 1] if self.causal else keys
            scores = [_dot(query, key) * scale for key in visible]
            row = softmax(scores)
            mixed = [_dot(row, [v[k] for v in values[:len(row)]]) for k in range(d)]
            outputs.append(self.out_proj(mixed))
            weights.append(row + [Value(0.0) for _ in range(len(keys) - len(row))])
        record_groups(self, [
            *(Group(f"qkv[{j}]", named("q", q) + named("k", k) + named("v", v), only_values(x))
              for j, (q, k, v, x) in enumerate(zip(queries, keys, values, sequence))),
            *(Group(f"out[{i}]", named("out", out), only_values(sum(projected, []))) for i, out in enumerate(outputs)),
        ])
        return outputs, weights

    def __repr__(self) -> str:
        causal = ", causal=True" if self.causal else ""
        return f"SelfAttention({self.embed_dim}{causal})"


def _dot(a: Sequence[Value], b: Sequence[Value]) -> Value:
    """sum_k a_k * b_k, one mul and one add node per term."""
    total = a[0] * b[0]
    for a_k, b_k in zip(a[1:], b[1:]):
        total = total + a_k * b_k
    return total
