"""PyTorch twins: for each glassgrad.nn module, the torch.nn module that computes the same.

    twin = model.to_torch()             # a torch.nn module holding the same weights, float64
    model = nn.Conv2d.from_torch(twin)  # and back: a glassgrad module with torch's weights

Both directions read one table, ``TWINS``: for each glassgrad class, the name of its
torch.nn class and three functions,

* ``build(ours, torch_nn)``: a new torch module with our sizes and settings;
* ``rebuild(theirs)``: a new glassgrad module with torch's sizes and settings (after
  checking it uses only what glassgrad has: no dilation, one head, one layer, ...);
* ``tensors(ours)``: our parameters as (torch's parameter name, the Values in that
  tensor, flattened row-major), in the order of the twin's ``named_parameters()``.

The numbers are then copied by ``_copy_to_torch`` / ``_copy_from_torch``, which check
that the names and sizes agree. The new modules (Conv2d, RNN, attention, ...) already
carry torch's names, so their ``tensors`` just groups ``named_parameters()``; Neuron,
Layer, MLP and the Keras-style Dense/Sequential become a ``torch.nn.Sequential`` of
``Linear`` layers and activations, whose weight rows are our neurons' weights.
PyTorch stays optional: it is imported when a twin is made, with a clear message if absent.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from glassgrad.engine import Value, ops

from .attention import SelfAttention
from .conv import Conv2d, Flatten, MaxPool2d
from .layers import MLP, Dropout, Layer, Neuron
from .module import Module
from .recurrent import LSTM, RNN, LSTMCell, RNNCell
from .keras import Dense, Sequential
from .tensors import Linear

TorchModule = Any  # a torch.nn.Module (torch is imported only when a twin is made)
Tensors = list[tuple[str, list[Value]]]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch twins need PyTorch, which is not installed here; "
                          "install it with `pip install torch`") from None
    return torch


@dataclass(frozen=True)
class Twin:
    """How one glassgrad class and one torch.nn class correspond (see the module docstring)."""

    torch_class: str
    build: Callable[[Any, Any], TorchModule]
    rebuild: Callable[[TorchModule], Module]
    tensors: Callable[[Any], Tensors]


# ------------------------------------------------------------- the two directions


def to_torch(ours: Module) -> TorchModule:
    """The torch.nn twin of ``ours``, in float64, with the same weights and train/eval mode."""
    twin = _twin_of(type(ours), "to_torch")
    torch = _torch()
    theirs = twin.build(ours, torch.nn).double()
    _copy_to_torch(twin.tensors(ours), theirs, torch, f"{type(ours).__name__}.to_torch")
    return theirs.train(ours.training)


def from_torch(cls: type, theirs: TorchModule) -> Module:
    """A new ``cls`` (a glassgrad class) with the sizes, settings and weights of ``theirs``."""
    twin = _twin_of(cls, "from_torch")
    torch = _torch()
    where = f"{cls.__name__}.from_torch"
    expected = getattr(torch.nn, twin.torch_class)
    if not isinstance(theirs, expected):
        raise TypeError(f"{where} takes a torch.nn.{twin.torch_class}, got {type(theirs).__name__}")
    ours = twin.rebuild(theirs)
    _copy_from_torch(theirs, twin.tensors(ours), where)
    return ours.train(theirs.training)


def _twin_of(cls: type, what: str) -> Twin:
    if cls not in TWINS:
        known = ", ".join(c.__name__ for c in TWINS)
        raise TypeError(f"{cls.__name__}.{what}: {cls.__name__} has no PyTorch twin; these do: {known}")
    return TWINS[cls]


def _matched(tensors: Tensors, theirs: TorchModule, where: str) -> list[tuple[list[Value], Any]]:
    """Pair each of our tensors with torch's parameter of the same name, checking names and sizes."""
    named = list(theirs.named_parameters())
    ours_names, their_names = [name for name, _ in tensors], [name for name, _ in named]
    if ours_names != their_names:
        raise ValueError(f"{where}: the parameters do not correspond: glassgrad has {ours_names}, "
                         f"torch has {their_names}")
    for (name, values), (_, tensor) in zip(tensors, named):
        if len(values) != tensor.numel():
            raise ValueError(f"{where}: {name} has {len(values)} numbers here but shape "
                             f"{tuple(tensor.shape)} in torch")
    return [(values, tensor) for (_, values), (_, tensor) in zip(tensors, named)]


def _copy_to_torch(tensors: Tensors, theirs: TorchModule, torch: Any, where: str) -> None:
    with torch.no_grad():
        for values, tensor in _matched(tensors, theirs, where):
            numbers = torch.tensor([v.data for v in values], dtype=torch.float64)
            tensor.copy_(numbers.reshape(tensor.shape))


def _copy_from_torch(theirs: TorchModule, tensors: Tensors, where: str) -> None:
    for values, tensor in _matched(tensors, theirs, where):
        for value, number in zip(values, tensor.detach().flatten().tolist()):
            if not math.isfinite(number):
                raise ValueError(f"{where}: a torch weight is {number!r}; a Value holds only finite numbers")
            value.data = float(number)


def _named_like_torch(ours: Module) -> Tensors:
    """``named_parameters()`` grouped by tensor: "weight.2.0.1.1" is an entry of "weight"."""
    groups: dict[str, list[Value]] = {}
    for name, value in ours.named_parameters():
        groups.setdefault(re.sub(r"(\.\d+)+$", "", name), []).append(value)
    return list(groups.items())


def _require(condition: bool, where: str, what: str) -> None:
    """Refuse a torch module that uses something its glassgrad twin does not have."""
    if not condition:
        raise ValueError(f"{where}: glassgrad has no twin for {what}")


# ---------------------------------------------- modules that carry torch's names


def _rebuild_conv2d(theirs: TorchModule) -> Conv2d:
    where = "Conv2d.from_torch"
    _require(theirs.dilation == (1, 1) and theirs.groups == 1, where, "dilation or groups")
    _require(theirs.bias is not None, where, "a convolution without bias")
    _require(theirs.padding_mode == "zeros" and not isinstance(theirs.padding, str), where,
             f"padding={theirs.padding!r} with padding_mode={theirs.padding_mode!r}")
    return Conv2d(theirs.in_channels, theirs.out_channels, theirs.kernel_size, theirs.stride,
                  theirs.padding, seed=0)


def _rebuild_max_pool(theirs: TorchModule) -> MaxPool2d:
    _require(theirs.padding in (0, (0, 0)) and theirs.dilation in (1, (1, 1)) and not theirs.ceil_mode
             and not theirs.return_indices, "MaxPool2d.from_torch",
             "padding, dilation, ceil_mode or return_indices")
    return MaxPool2d(theirs.kernel_size, theirs.stride)


def _rebuild_flatten(theirs: TorchModule) -> Flatten:
    # One image [C][H][W] flattens whole: start_dim -3 (or 1, for a batch) to the end.
    _require(theirs.start_dim in (1, -3) and theirs.end_dim == -1, "Flatten.from_torch",
             f"start_dim={theirs.start_dim}, end_dim={theirs.end_dim} (only an image's last three axes)")
    return Flatten()


def _check_recurrent(theirs: TorchModule, where: str) -> None:
    _require(theirs.bias, where, "a recurrent layer without bias")
    if hasattr(theirs, "num_layers"):
        _require(theirs.num_layers == 1 and not theirs.bidirectional
                 and getattr(theirs, "proj_size", 0) == 0, where,
                 "more than one layer, bidirectional or proj_size (stack glassgrad's one-layer modules)")


def _rebuild_recurrent(cls: type) -> Callable[[TorchModule], Module]:
    """``rebuild`` for RNNCell, LSTMCell, RNN or LSTM: same sizes (and nonlinearity, for an RNN)."""
    def rebuild(theirs: TorchModule) -> Module:
        _check_recurrent(theirs, f"{cls.__name__}.from_torch")
        options = {"nonlinearity": theirs.nonlinearity} if hasattr(theirs, "nonlinearity") else {}
        return cls(theirs.input_size, theirs.hidden_size, seed=0, **options)
    return rebuild


def _rebuild_attention(theirs: TorchModule) -> SelfAttention:
    # The causal mask is an argument of torch's forward (attn_mask=...), not of the module:
    # the glassgrad module comes back with causal=False; set .causal = True if the twin was masked.
    _require(theirs.num_heads == 1, "SelfAttention.from_torch", f"num_heads={theirs.num_heads} (one head only)")
    _require(theirs.in_proj_weight is not None and theirs.in_proj_bias is not None
             and theirs.bias_k is None and not theirs.add_zero_attn, "SelfAttention.from_torch",
             "separate kdim/vdim, no bias, add_bias_kv or add_zero_attn")
    return SelfAttention(theirs.embed_dim, seed=0)


def _rebuild_linear(theirs: TorchModule) -> Linear:
    _require(theirs.bias is not None, "Linear.from_torch", "a Linear without bias")
    return Linear(theirs.in_features, theirs.out_features, seed=0)


# ------------------------------------- stacks of neurons: a torch.nn.Sequential of Linear layers

# glassgrad activation -> the torch.nn module class that applies it
TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU",
                     "softmax": "Softmax"}

# A stack is a list of stages: ("linear", [neurons]), ("activation", name) or ("dropout", p).
Stage = tuple[str, Any]


def _activation_stage(activation: str) -> list[Stage]:
    return [] if activation == "linear" else [("activation", activation)]


def _stages(ours: Module) -> list[Stage]:
    """Our Neuron, Layer, MLP, Dense or Sequential as a list of stages, in the order they run."""
    if isinstance(ours, Neuron):
        return [("linear", [ours])] + _activation_stage(ours.activation)
    if isinstance(ours, (Layer, Dense)):
        if isinstance(ours, Dense) and not ours.built:
            raise RuntimeError(f"{ours!r}.to_torch: the layer has no weights yet; call it on one sample "
                               f"or build(input_dim) first")
        return [("linear", ours.neurons)] + _activation_stage(ours.activation)
    if isinstance(ours, Dropout):
        return [("dropout", ours.p)]
    if isinstance(ours, MLP):
        stages = []
        for i, layer in enumerate(ours.layers):
            stages += _stages(layer) + [("dropout", ours.dropout)] * (i < len(ours.dropouts))
        return stages
    if not isinstance(ours, Sequential):
        raise TypeError(f"to_torch: no PyTorch twin for {type(ours).__name__}")
    ours.named_parameters()  # a Sequential before its input size is known says so
    return [stage for layer in ours.layers for stage in _stages(layer)]


def _build_stack(ours: Module, torch_nn: Any) -> TorchModule:
    modules = []
    for kind, content in _stages(ours):
        if kind == "linear":
            modules.append(torch_nn.Linear(content[0].nin, len(content)))
        elif kind == "dropout":
            modules.append(torch_nn.Dropout(content))
        elif content not in TORCH_ACTIVATIONS:
            raise ValueError(f"{type(ours).__name__}.to_torch: the {content!r} activation has no torch.nn "
                             f"module (its gradient is 0 everywhere); train with 'sigmoid' instead")
        elif content == "leaky_relu":
            modules.append(torch_nn.LeakyReLU(ops.DEFAULT_SLOPE))
        elif content == "softmax":
            modules.append(torch_nn.Softmax(dim=-1))
        else:
            modules.append(getattr(torch_nn, TORCH_ACTIVATIONS[content])())
    return torch_nn.Sequential(*modules)


def _stack_tensors(ours: Module) -> Tensors:
    """Each Linear's weight (row j = neuron j's weights) and bias, named by position."""
    tensors: Tensors = []
    for index, (kind, neurons) in enumerate(_stages(ours)):
        if kind == "linear":
            tensors.append((f"{index}.weight", [w for neuron in neurons for w in neuron.w]))
            tensors.append((f"{index}.bias", [neuron.b for neuron in neurons]))
    return tensors


@dataclass
class _TorchLayer:
    """One Linear of a torch.nn.Sequential with the activation and dropout after it."""

    nin: int
    nout: int
    activation: str = "linear"
    dropout: float = 0.0


def _torch_layers(theirs: TorchModule, where: str) -> list[_TorchLayer]:
    """Read a torch.nn.Sequential of Linear, activation and Dropout modules, or refuse it."""
    torch_nn = _torch().nn
    names = {torch_class: name for name, torch_class in TORCH_ACTIVATIONS.items()}
    layers: list[_TorchLayer] = []
    for position, module in enumerate(theirs):
        kind = type(module).__name__
        if isinstance(module, torch_nn.Linear):
            _require(module.bias is not None, where, f"module {position}, a Linear without bias")
            if layers and layers[-1].nout != module.in_features:
                raise ValueError(f"{where}: module {position}, {module}, takes {module.in_features} "
                                 f"inputs but the Linear before it gives {layers[-1].nout}")
            layers.append(_TorchLayer(module.in_features, module.out_features))
            continue
        _require(bool(layers), where, f"module {position}, {module}, before the first Linear")
        if kind in names and layers[-1].activation == "linear" and not layers[-1].dropout:
            if kind == "LeakyReLU" and module.negative_slope != ops.DEFAULT_SLOPE:
                _require(False, where, f"{module} (glassgrad's slope is {ops.DEFAULT_SLOPE})")
            if kind == "Softmax" and module.dim not in (-1, 1):
                _require(False, where, f"{module} (a softmax over the last axis only)")
            layers[-1].activation = names[kind]
        elif isinstance(module, torch_nn.Dropout) and not layers[-1].dropout:
            layers[-1].dropout = module.p
        else:
            _require(False, where, f"module {position}, {module}, in this place")
    _require(bool(layers), where, "a Sequential without a Linear")
    return layers


def _one_layer(theirs: TorchModule, where: str, nout: int | None = None) -> _TorchLayer:
    layers = _torch_layers(theirs, where)
    _require(len(layers) == 1 and not layers[0].dropout, where, "more than one Linear, or a Dropout")
    _require(nout is None or layers[0].nout == nout, where, f"a Linear with {layers[0].nout} outputs (a Neuron has 1)")
    return layers[0]


def _rebuild_neuron(theirs: TorchModule) -> Neuron:
    layer = _one_layer(theirs, "Neuron.from_torch", nout=1)
    return Neuron(layer.nin, layer.activation, seed=0)


def _rebuild_layer(theirs: TorchModule) -> Layer:
    layer = _one_layer(theirs, "Layer.from_torch")
    return Layer(layer.nin, layer.nout, layer.activation, seed=0)


def _rebuild_mlp(theirs: TorchModule) -> MLP:
    where = "MLP.from_torch"
    layers = _torch_layers(theirs, where)
    hidden, last = layers[:-1], layers[-1]
    _require(len({layer.activation for layer in hidden}) <= 1, where, "hidden layers with different activations")
    _require(len({layer.dropout for layer in hidden}) <= 1 and not last.dropout, where,
             "dropout that is not the same after every hidden layer")
    return MLP(layers[0].nin, [layer.nout for layer in layers],
               activation=hidden[0].activation if hidden else "relu", seed=0,
               dropout=hidden[0].dropout if hidden else 0.0, output_activation=last.activation)


def _dense(layer: _TorchLayer) -> Dense:
    dense = Dense(layer.nout, layer.activation, seed=0)
    dense.build(layer.nin)
    return dense


def _rebuild_dense(theirs: TorchModule) -> Dense:
    return _dense(_one_layer(theirs, "Dense.from_torch"))


def _rebuild_sequential(theirs: TorchModule) -> Sequential:
    modules: list[Module] = []
    layers = _torch_layers(theirs, "Sequential.from_torch")
    for layer in layers:
        modules.append(_dense(layer))
        if layer.dropout:
            modules.append(Dropout(layer.dropout, seed=0))
    return Sequential(modules, input_dim=layers[0].nin)


TWINS: dict[type, Twin] = {
    Conv2d: Twin("Conv2d", lambda ours, nn: nn.Conv2d(
        ours.in_channels, ours.out_channels, ours.kernel_size, ours.stride, ours.padding),
        _rebuild_conv2d, _named_like_torch),
    MaxPool2d: Twin("MaxPool2d", lambda ours, nn: nn.MaxPool2d(ours.kernel_size, ours.stride),
                    _rebuild_max_pool, _named_like_torch),
    Flatten: Twin("Flatten", lambda ours, nn: nn.Flatten(start_dim=-3), _rebuild_flatten, _named_like_torch),
    RNNCell: Twin("RNNCell", lambda ours, nn: nn.RNNCell(ours.input_size, ours.hidden_size,
                                                         nonlinearity=ours.nonlinearity),
                  _rebuild_recurrent(RNNCell), _named_like_torch),
    LSTMCell: Twin("LSTMCell", lambda ours, nn: nn.LSTMCell(ours.input_size, ours.hidden_size),
                   _rebuild_recurrent(LSTMCell), _named_like_torch),
    RNN: Twin("RNN", lambda ours, nn: nn.RNN(ours.input_size, ours.hidden_size, nonlinearity=ours.nonlinearity,
                                             batch_first=True),
              _rebuild_recurrent(RNN), _named_like_torch),
    LSTM: Twin("LSTM", lambda ours, nn: nn.LSTM(ours.input_size, ours.hidden_size, batch_first=True),
               _rebuild_recurrent(LSTM), _named_like_torch),
    SelfAttention: Twin("MultiheadAttention", lambda ours, nn: nn.MultiheadAttention(
        ours.embed_dim, num_heads=1, batch_first=True), _rebuild_attention, _named_like_torch),
    Linear: Twin("Linear", lambda ours, nn: nn.Linear(ours.in_features, ours.out_features),
                 _rebuild_linear, _named_like_torch),
    Dropout: Twin("Dropout", lambda ours, nn: nn.Dropout(ours.p), lambda theirs: Dropout(theirs.p, seed=0),
                  _named_like_torch),
    Neuron: Twin("Sequential", _build_stack, _rebuild_neuron, _stack_tensors),
    Layer: Twin("Sequential", _build_stack, _rebuild_layer, _stack_tensors),
    MLP: Twin("Sequential", _build_stack, _rebuild_mlp, _stack_tensors),
    Dense: Twin("Sequential", _build_stack, _rebuild_dense, _stack_tensors),
    Sequential: Twin("Sequential", _build_stack, _rebuild_sequential, _stack_tensors),
}
"""glassgrad class -> its twin. Dense and Sequential are the Keras-style ones (nn.keras)."""
