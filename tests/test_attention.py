"""SelfAttention: shapes, the causal mask, errors, torch.nn.MultiheadAttention through both twins, and the tape."""
import math
import random

import pytest
from hypothesis import given, settings, strategies as st

from glassgrad.nn import SelfAttention

from conftest import check_replay_matches_eager
from twin_check import compare, nested, torch_module

FEW = settings(max_examples=15)


def test_parameters_have_the_names_and_shapes_of_torch_multihead_attention():
    attention = SelfAttention(3, seed=0)
    names = list(dict.fromkeys(name.split(".")[0] if not name.startswith("out_proj") else
                               ".".join(name.split(".")[:2]) for name, _ in attention.named_parameters()))
    assert names == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert (len(attention.in_proj_weight), len(attention.in_proj_weight[0])) == (9, 3)
    assert len(attention.in_proj_bias) == 9 and len(attention.parameters()) == 9 * 3 + 9 + 3 * 3 + 3


def test_attention_weights_are_a_softmax_over_positions_and_a_single_position_reads_itself():
    attention = SelfAttention(2, seed=1)
    outputs, weights = attention([[0.5, -1.0], [1.0, 2.0], [0.0, 0.3]])
    assert len(outputs) == 3 and all(len(o) == 2 for o in outputs)
    assert all(math.isclose(sum(a.data for a in row), 1.0) for row in weights)
    _, (only_row,) = attention([[0.5, -1.0]])
    assert [a.data for a in only_row] == [1.0]


def test_causal_attention_gives_zero_weight_to_later_positions_and_ignores_them():
    attention = SelfAttention(2, causal=True, seed=2)
    sequence = [[0.5, -1.0], [1.0, 2.0], [0.0, 0.3]]
    outputs, weights = attention(sequence)
    assert [a.data for a in weights[0]] == [1.0, 0.0, 0.0] and weights[1][2].data == 0.0
    changed, _ = attention(sequence[:2] + [[9.0, -9.0]])  # the future cannot change the past
    assert [v.data for v in changed[1]] == [v.data for v in outputs[1]]


@pytest.mark.parametrize("call, message", [
    (lambda: SelfAttention(2)([[1.0, 2.0, 3.0]]), "SelfAttention\\(2\\) expects vectors of length 2, "
                                                  "the sequence's have length 3"),
    (lambda: SelfAttention(2)([1.0, 2.0]), "SelfAttention\\(2\\) expects a sequence"),
    (lambda: SelfAttention(0), "SelfAttention: embed_dim must be a whole number >= 1, got 0"),
])
def test_bad_shapes_and_sizes_raise_an_error_naming_the_module_and_the_value(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_causal_must_be_a_bool():
    with pytest.raises(TypeError, match="SelfAttention: causal must be True or False, got 'yes'"):
        SelfAttention(2, causal="yes")


# ---------------------------------------------------------------- PyTorch twin

def run_ours(attention, sequence):
    outputs, weights = attention(sequence)
    return [outputs, weights]


def torch_run(causal):
    def run(mha, sequence):
        import torch

        length = sequence.shape[0]
        mask = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1) if causal else None
        outputs, weights = mha(sequence, sequence, sequence, need_weights=True, attn_mask=mask)
        return [outputs, weights]
    return run


@st.composite
def attention_cases(draw, longest=4):
    embed_dim, length = draw(st.integers(1, 3)), draw(st.integers(1, longest))
    return embed_dim, draw(st.booleans()), draw(nested((length, embed_dim))), draw(st.integers(0, 2**16))


def check_both_ways(case):
    embed_dim, causal, sequence, seed = case
    ours = SelfAttention(embed_dim, causal=causal, seed=seed)
    compare(ours, ours.to_torch(), [sequence], run_ours, torch_run(causal), seed)
    theirs = torch_module(lambda nn: nn.MultiheadAttention(embed_dim, num_heads=1, batch_first=True), seed)
    with pytest.importorskip("torch").no_grad():
        for bias in (theirs.in_proj_bias, theirs.out_proj.bias):  # torch starts them at 0: make them count
            bias.uniform_(-1.0, 1.0)
    back = SelfAttention.from_torch(theirs)
    back.causal = causal
    compare(back, theirs, [sequence], run_ours, torch_run(causal), seed)


@FEW
@given(case=attention_cases())
def test_outputs_weights_and_gradients_match_torch_multihead_attention_both_ways(case):
    pytest.importorskip("torch")
    check_both_ways(case)


@pytest.mark.slow
@settings(max_examples=5)
@given(case=attention_cases(longest=8))
def test_longer_sequences_match_torch_multihead_attention_both_ways(case):
    pytest.importorskip("torch")
    check_both_ways(case)


def test_from_torch_refuses_more_than_one_head():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="SelfAttention.from_torch: glassgrad has no twin for num_heads=2"):
        SelfAttention.from_torch(torch.nn.MultiheadAttention(4, num_heads=2))


@pytest.mark.parametrize("causal", [False, True])
def test_attention_traced_once_replays_eagers_loss_and_gradients_even_where_scores_would_overflow_exp(causal):
    attention = SelfAttention(2, causal=causal, seed=0)
    rng = random.Random(2)

    def batch(scale):
        return [[[scale * rng.uniform(-1.0, 1.0), scale * rng.uniform(-1.0, 1.0)] for _ in range(4)]
                for _ in range(2)]

    def loss_of(sequences):
        total = 0.0
        for sequence in sequences:
            outputs, weights = attention(sequence)
            total = total + sum(out[0] * out[1] for out in outputs) + weights[-1][0]
        return total

    # recorded on small numbers, replayed where q.k/sqrt(d) is in the thousands: e^score would
    # overflow, so the replay must recompute the softmax's max shift, not reuse the recorded one
    large = batch(300.0)
    assert max(abs(a) for sequence in large for x in sequence for a in x) > 100.0
    check_replay_matches_eager(attention.parameters(), loss_of, batch(1.0), large)
