"""Conv2d, MaxPool2d and Flatten: shapes, names, errors, PyTorch float64 through both twins, and the tape."""
import random

import pytest
from hypothesis import given, settings, strategies as st

from glassgrad.engine import Value, ops
from glassgrad.nn import Conv2d, Flatten, MaxPool2d

from conftest import check_replay_matches_eager
from twin_check import both_ways, compare, nested, numbers

FEW = settings(max_examples=15)


def test_conv2d_parameters_have_torch_names_shapes_and_row_major_order():
    conv = Conv2d(2, 3, kernel_size=(2, 4), seed=0)
    names = [name for name, _ in conv.named_parameters()]
    assert len(conv.weight) == 3 and len(conv.weight[0]) == 2
    assert len(conv.weight[0][0]) == 2 and len(conv.weight[0][0][0]) == 4
    assert names[:3] == ["weight.0.0.0.0", "weight.0.0.0.1", "weight.0.0.0.2"]
    assert names[2 * 4 * 2 * 3:] == ["bias.0", "bias.1", "bias.2"]
    assert conv.parameters()[5] is conv.weight[0][0][1][1]


def test_conv2d_output_pixel_is_the_bias_plus_the_kernel_times_its_window():
    conv = Conv2d(1, 1, 2, seed=0)
    image = [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]
    (row,), = conv(image)
    (w00, w01), (w10, w11) = [[w.data for w in r] for r in conv.weight[0][0]]
    b = conv.bias[0].data
    assert [v.data for v in row] == pytest.approx([b + w00 * 1 + w01 * 2 + w10 * 4 + w11 * 5,
                                                   b + w00 * 2 + w01 * 3 + w10 * 5 + w11 * 6])


def test_conv2d_padding_and_stride_give_torch_output_sizes():
    out = Conv2d(1, 2, 3, stride=2, padding=1, seed=0)([[[0.5] * 5 for _ in range(6)]])
    assert (len(out), len(out[0]), len(out[0][0])) == (2, 3, 3)  # floor((6 + 2 - 3)/2) + 1, ...


@pytest.mark.parametrize("make, image, message", [
    (lambda: Conv2d(2, 1, 2), [[[1.0, 2.0], [3.0, 4.0]]], "expects 2 channel"),
    (lambda: Conv2d(1, 1, 3), [[[1.0, 2.0], [3.0, 4.0]]], "the image has 2 rows"),
    (lambda: Conv2d(1, 1, 2), [[1.0, 2.0], [3.0, 4.0]], "nested 3 deep"),
    (lambda: Conv2d(1, 1, 1), [[[1.0, 2.0], [3.0]]], "lengths are \\[1, 2\\]"),
    (lambda: MaxPool2d(2), [[["a", 1.0], [2.0, 3.0]]], "numbers or Values, found str 'a'"),
    (lambda: Flatten(), [1.0, 2.0], "Flatten\\(\\) expects an image"),
])
def test_bad_image_shapes_raise_an_error_naming_the_module_and_the_value(make, image, message):
    module = make()
    with pytest.raises(ValueError, match=message) as error:
        module(image)
    assert repr(module) in str(error.value)


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2d(0, 1, 2), "Conv2d: in_channels must be a whole number >= 1, got 0"),
    (lambda: Conv2d(1, 1, (2, 0)), "Conv2d: kernel_size must be a whole number >= 1 or a pair"),
    (lambda: Conv2d(1, 1, 2, padding=-1), "Conv2d: padding must be a whole number >= 0"),
    (lambda: MaxPool2d(2.5), "MaxPool2d: kernel_size must be a whole number >= 1"),
])
def test_bad_settings_raise_an_error_naming_the_module_and_the_value(make, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        make()


def test_max_pool_is_a_chain_of_the_max_op_with_the_gradient_on_the_largest():
    image = [[[Value(1.0), Value(4.0)], [Value(-2.0), Value(3.0)]]]
    (((largest,),),) = MaxPool2d(2)(image)
    assert largest.data == 4.0 and largest.op is ops.MAX
    largest.backward()
    assert [v.grad for row in image[0] for v in row] == [0.0, 1.0, 0.0, 0.0]


def test_max_pool_shares_the_gradient_of_a_tie_as_the_max_op_does():
    a, b = Value(2.0), Value(2.0)
    (((largest,),),) = MaxPool2d((1, 2))([[[a, b]]])
    largest.backward()
    assert (a.grad, b.grad) == (0.5, 0.5)  # torch.max_pool2d would give (1.0, 0.0)


def test_flatten_lists_an_image_row_major_with_the_same_values():
    image = [[[Value(c * 100 + i * 10 + j) for j in range(3)] for i in range(2)] for c in range(2)]
    flat = Flatten()(image)
    assert [v.data for v in flat] == [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]
    assert flat[4] is image[0][1][1]


# ---------------------------------------------------------------- PyTorch twins

@st.composite
def conv_cases(draw, largest=4):
    in_channels, out_channels = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, padding = (draw(st.integers(1, 2)), draw(st.integers(1, 2))), draw(st.integers(0, 1))
    rows = draw(st.integers(max(1, kernel[0] - 2 * padding), largest))
    cols = draw(st.integers(max(1, kernel[1] - 2 * padding), largest))
    image = draw(nested((in_channels, rows, cols)))
    return (in_channels, out_channels, kernel, stride, padding), image, draw(st.integers(0, 2**16))


def run_module(module, image):
    return module(image)


def run_torch_module(module, image):
    return [module(image)]


def check_conv_both_ways(case):
    settings_, image, seed = case
    both_ways(Conv2d(*settings_, seed=seed), lambda nn: nn.Conv2d(*settings_), [image], run_module,
              run_torch_module, seed)


@FEW
@given(case=conv_cases())
def test_conv2d_outputs_and_gradients_match_its_torch_twin_both_ways(case):
    pytest.importorskip("torch")
    check_conv_both_ways(case)


@pytest.mark.slow
@settings(max_examples=5)
@given(case=conv_cases(largest=9))
def test_conv2d_on_larger_images_matches_its_torch_twin_both_ways(case):
    pytest.importorskip("torch")
    check_conv_both_ways(case)


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    channels, rows, cols = draw(st.integers(1, 2)), draw(st.integers(kernel[0], 5)), draw(st.integers(kernel[1], 5))
    # distinct numbers: at a tie torch.max_pool2d and the max op share the gradient differently
    entries = draw(st.lists(numbers(), min_size=channels * rows * cols, max_size=channels * rows * cols,
                            unique=True))
    image = [[entries[(c * rows + i) * cols:(c * rows + i + 1) * cols] for i in range(rows)]
             for c in range(channels)]
    return kernel, stride, image


@FEW
@given(case=pool_cases())
def test_max_pool_and_flatten_outputs_and_input_gradients_match_their_torch_twins_both_ways(case):
    pytest.importorskip("torch")
    kernel, stride, image = case
    for ours in (MaxPool2d(kernel, stride), Flatten()):
        compare(ours, ours.to_torch(), [image], run_module, run_torch_module)
        theirs = ours.to_torch()
        compare(type(ours).from_torch(theirs), theirs, [image], run_module, run_torch_module)


def test_at_a_tie_max_pool_matches_torch_in_value_and_total_gradient_but_shares_it_down_the_chain():
    torch = pytest.importorskip("torch")
    # window 1: four equal maxima; window 2: two equal maxima and two smaller numbers
    numbers = [[5.0, 5.0, 1.0, 3.0], [5.0, 5.0, 3.0, 2.0]]
    image = [[[Value(x) for x in row] for row in numbers]]
    pooled = MaxPool2d(2)(image)
    (pooled[0][0][0] + pooled[0][0][1]).backward()
    ours = [[v.grad for v in row] for row in image[0]]
    tensor = torch.tensor([numbers], dtype=torch.float64, requires_grad=True)
    theirs_out = torch.nn.MaxPool2d(2)(tensor)
    theirs_out.sum().backward()
    theirs = tensor.grad[0].tolist()
    assert [v.data for v in pooled[0][0]] == theirs_out[0][0].tolist() == [5.0, 3.0]
    # torch: all of a window's gradient to its first maximum in row-major order
    assert theirs == [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]
    # glassgrad: max(max(max(w0, w1), w2), w3), each tied max op passing half to each side,
    # so the last tied maximum gets 1/2, the one before 1/4, ..., the first two the same
    assert ours == [[0.125, 0.125, 0.0, 0.5], [0.25, 0.5, 0.5, 0.0]]
    assert sum(ours[0][:2] + ours[1][:2]) == sum(ours[0][2:] + ours[1][2:]) == 1.0  # each window's, as torch's


def test_from_torch_refuses_what_glassgrad_has_no_twin_for():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="Conv2d.from_torch: glassgrad has no twin for dilation"):
        Conv2d.from_torch(torch.nn.Conv2d(1, 1, 3, dilation=2))
    with pytest.raises(TypeError, match="Conv2d.from_torch takes a torch.nn.Conv2d, got Linear"):
        Conv2d.from_torch(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="MaxPool2d.from_torch: glassgrad has no twin for padding"):
        MaxPool2d.from_torch(torch.nn.MaxPool2d(2, padding=1))


def test_flatten_twin_flattens_one_image_or_a_batch_of_them():
    torch = pytest.importorskip("torch")
    twin = Flatten().to_torch()
    assert twin(torch.zeros(2, 3, 4)).shape == (24,) and twin(torch.zeros(5, 2, 3, 4)).shape == (5, 24)
    assert isinstance(Flatten.from_torch(torch.nn.Flatten()), Flatten)  # start_dim=1, for a batch


def test_conv_and_max_pool_traced_once_replay_eagers_loss_and_gradients_on_new_images_ties_included():
    conv, pool = Conv2d(1, 2, 3, padding=1, seed=0), MaxPool2d(2)
    rng = random.Random(3)

    def images(pixels):
        return [[[[rng.choice(pixels) for _ in range(4)] for _ in range(4)]] for _ in range(2)]

    def loss_of(batch):
        return sum(v * v for image in batch for v in Flatten()(pool(conv(image))))

    def pooled_sum(batch):
        return sum(v for image in batch for v in Flatten()(pool(image)))

    check_replay_matches_eager(conv.parameters(), loss_of, images([rng.uniform(-1, 1) for _ in range(99)]),
                               images([rng.uniform(-1, 1) for _ in range(99)]))
    # pixels of 0s and 1s: most windows tie, and the replay splits the gradient as eager does
    check_replay_matches_eager([], pooled_sum, images([0.25, 0.5, 0.75]), images([0.0, 1.0]))
