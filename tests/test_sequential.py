"""Sequential and Dense: the Keras-style model is nn underneath, and says clearly what is wrong."""
import math

import pytest

import glassgrad.nn as nn
from glassgrad.engine import Value, gradcheck
from glassgrad.nn.keras import Dense, Sequential, softmax

# A tiny, easy data set: class 1 when x0 + x1 > 0 (fast to fit, a few epochs suffice).
LINE_X = [[-1.0, -0.5], [-0.4, -0.9], [-0.8, 0.1], [0.2, -0.7], [1.0, 0.6], [0.3, 0.9], [0.9, -0.2], [-0.1, 0.8]]
LINE_Y = [int(a + b > 0) for a, b in LINE_X]


def small_model(last="sigmoid", units=1, seed=0, **kwargs):
    return Sequential([Dense(4, activation="tanh"), Dense(units, activation=last)], seed=seed, **kwargs)


# ------------------------------------------------------------------ building


def test_input_size_is_inferred_from_the_first_sample():
    model = Sequential([Dense(3, activation="relu"), Dense(1)], seed=0)
    assert not model.built
    model([0.5, -1.0])
    assert model.input_dim == 2 and model.built
    assert len(model.parameters()) == (2 + 1) * 3 + (3 + 1) * 1


@pytest.mark.parametrize("model", [
    lambda: Sequential([Dense(16, activation="relu"), Dense(1)], input_dim=2),
    lambda: Sequential([Dense(16, activation="relu", input_dim=2), Dense(1)]),
], ids=["sequential_input_dim", "dense_input_dim"])
def test_input_dim_given_builds_the_model_at_once(model):
    model = model()
    assert model.built and model.input_dim == 2 and model.output_dim == 1
    assert len(model.parameters()) == 3 * 16 + 17


def test_parameter_names_are_those_of_an_equivalent_mlp():
    model = Sequential([Dense(4, activation="relu"), Dense(1)], input_dim=2, seed=0)
    mlp = nn.MLP(2, [4, 1], seed=1)
    assert [name for name, _ in model.named_parameters()] == [name for name, _ in mlp.named_parameters()]


def test_sequential_computes_what_an_mlp_with_the_same_weights_computes():
    model = Sequential([Dense(4, activation="relu"), Dense(3, activation="tanh"), Dense(1)], input_dim=2, seed=0)
    mlp = nn.MLP(2, [4, 3, 1], activation="relu", seed=5)
    mlp.layers[1] = nn.Layer(4, 3, activation="tanh", seed=6)  # the MLP's middle layer, tanh
    mlp.load_state_dict(model.state_dict())
    for x in LINE_X:
        assert model(x).data == mlp(x).data


def test_same_seed_gives_same_weights_and_another_seed_does_not():
    first, second, other = (small_model(seed=s, input_dim=2) for s in (3, 3, 4))
    assert first.state_dict() == second.state_dict()
    assert first.state_dict() != other.state_dict()


def test_dense_weights_start_inside_minus_one_one_and_biases_at_zero():
    # Glorot's limit here is sqrt(6 / (3 + 50)) < 1; test_keras.py checks the limit itself
    model = Sequential([Dense(50, activation="relu")], input_dim=3, seed=0)
    for name, value in model.named_parameters():
        if name.endswith(".b"):
            assert value.data == 0.0
        else:
            assert -1.0 <= value.data <= 1.0


def test_parameters_before_the_input_size_is_known_raise_a_clear_error(tmp_path):
    model = Sequential([Dense(3), Dense(1)])
    for action in (model.parameters, lambda: model.save(tmp_path / "m.json")):
        with pytest.raises(RuntimeError, match="input size is unknown.*input_dim"):
            action()


def test_wrong_input_width_names_expected_and_given_sizes():
    model = small_model(input_dim=2)
    with pytest.raises(ValueError, match="expects 2 inputs per sample, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="declared with input_dim=3 but receives 2"):
        Sequential([Dense(4, input_dim=3), Dense(1)], input_dim=2)


def test_a_layer_of_the_wrong_size_is_named():
    with pytest.raises(ValueError, match="layer 1, Layer\\(5, 1.*takes 5 inputs but the layer before it gives 4"):
        Sequential([Dense(4), nn.Layer(5, 1)], input_dim=2)


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*'relu'.*'step'.*'softmax'"):
        Dense(3, activation="swish")


def test_adding_a_layer_after_building_is_refused():
    model = small_model(input_dim=2)
    with pytest.raises(RuntimeError, match="already built"):
        model.add(Dense(2))


def test_only_layers_with_a_known_width_are_accepted():
    with pytest.raises(TypeError, match="Dense, Dropout or nn.Layer"):
        Sequential([nn.MLP(2, [3, 1])])


def test_softmax_outputs_are_probabilities_and_its_gradient_passes_gradcheck():
    probs = softmax([Value(1000.0), Value(0.0), Value(-3.0)])  # no overflow for large scores
    assert math.isclose(sum(p.data for p in probs), 1.0)
    assert all(p.data >= 0.0 for p in probs)
    gradcheck(lambda a, b, c: softmax([a, b, c])[1] * 3.0 + softmax([a, b, c])[2], [0.3, -1.2, 2.0])


def test_softmax_over_a_single_unit_is_refused():
    with pytest.raises(ValueError, match="softmax over 1 unit is always 1"):
        Dense(1, activation="softmax")


# ----------------------------------------------------------------- compile


def test_fit_and_evaluate_before_compile_say_to_compile():
    model = small_model()
    with pytest.raises(RuntimeError, match="fit: compile the model first"):
        model.fit(LINE_X, LINE_Y)
    with pytest.raises(RuntimeError, match="evaluate: compile the model first"):
        model.evaluate(LINE_X, LINE_Y, return_dict=True)


@pytest.mark.parametrize("name, kind", [("sgd", nn.SGD), ("momentum", nn.SGD), ("rmsprop", nn.RMSprop),
                                        ("adam", nn.Adam), ("ADAM", nn.Adam)])
def test_compile_accepts_each_optimizer_name(name, kind):
    model = small_model()
    model.compile(optimizer=name, loss="binary_crossentropy", learning_rate=0.02, weight_decay=0.001)
    model.fit(LINE_X, LINE_Y, epochs=1, verbose=0)
    assert type(model.optimizer) is kind
    assert model.optimizer.lr == 0.02 and model.optimizer.weight_decay == 0.001
    assert model.optimizer.params == model.parameters()
    if name == "momentum":
        assert model.optimizer.momentum == 0.9


def test_an_optimizer_instance_is_used_as_it_is():
    model = small_model(input_dim=2)
    optimizer = nn.RMSprop(model.parameters(), lr=0.01)
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    model.fit(LINE_X, LINE_Y, epochs=2, verbose=0)
    assert model.optimizer is optimizer and optimizer.steps == 2


def test_an_optimizer_for_other_parameters_is_refused():
    model, other = small_model(input_dim=2), small_model(input_dim=2)
    model.compile(optimizer=nn.SGD(other.parameters()), loss="mse")
    with pytest.raises(ValueError, match="optimizer was made for other parameters"):
        model.fit(LINE_X, LINE_Y, verbose=0)


@pytest.mark.parametrize("kind, name", [("loss", "crossentropy"), ("optimizer", "adagrad"), ("metric", "f1")])
def test_unknown_names_list_the_known_ones(kind, name):
    known = {"loss": "'mse'.*'binary_crossentropy'.*'sparse_categorical_crossentropy'.*'hinge'",
             "optimizer": "'sgd'.*'adam'.*'rmsprop'.*'momentum'",
             "metric": "'accuracy'.*'mae'"}[kind]
    options = {"loss": "mse", "optimizer": "sgd"}
    options["metrics" if kind == "metric" else kind] = [name] if kind == "metric" else name
    with pytest.raises(ValueError, match=f"unknown {kind} '{name}'; choose .*{known}"):
        small_model().compile(**options)


def test_metrics_given_as_one_string_say_to_use_a_list():
    with pytest.raises(TypeError, match=r"metrics is a list of names, e.g. metrics=\['accuracy'\]"):
        small_model().compile(optimizer="sgd", loss="mse", metrics="accuracy")


def test_learning_rate_with_an_optimizer_instance_is_refused():
    model = small_model(input_dim=2)
    with pytest.raises(ValueError, match="set them on the optimizer you made"):
        model.compile(optimizer=nn.SGD(model.parameters()), loss="mse", learning_rate=0.1)


# --------------------------------------------------------- fit and evaluate


@pytest.mark.parametrize("loss, last, units, labels", [
    ("mse", "sigmoid", 1, LINE_Y),
    ("binary_crossentropy", "sigmoid", 1, LINE_Y),
    ("binary_crossentropy", None, 1, LINE_Y),
    ("hinge", None, 1, LINE_Y),
    ("sparse_categorical_crossentropy", "softmax", 2, LINE_Y),
    ("categorical_crossentropy", "softmax", 2, [[1 - c, c] for c in LINE_Y]),
])
def test_fit_reduces_the_loss_and_learns_a_separable_toy_problem(loss, last, units, labels):
    model = small_model(last=last, units=units)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], learning_rate=0.1)
    before = model.evaluate(LINE_X, labels, return_dict=True)
    history = model.fit(LINE_X, labels, epochs=30, batch_size=4, verbose=0, seed=0)
    after = model.evaluate(LINE_X, labels, return_dict=True)
    assert isinstance(history, nn.History) and len(history.loss) == 30
    assert after["loss"] < before["loss"] / 2
    assert after["accuracy"] == 1.0


def test_fit_learns_a_regression():
    X = [[x / 4] for x in range(-4, 5)]
    targets = [2.0 * row[0] - 1.0 for row in X]
    model = Sequential([Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], learning_rate=0.2)
    model.fit(X, targets, epochs=60, batch_size=None, verbose=0)
    weight, bias = (p.data for p in model.parameters())
    assert weight == pytest.approx(2.0, abs=1e-3) and bias == pytest.approx(-1.0, abs=1e-3)
    assert model.evaluate(X, targets, return_dict=True)["mae"] < 1e-3


def test_fit_again_continues_with_the_same_optimizer_state():
    model = small_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05)
    model.fit(LINE_X, LINE_Y, epochs=2, batch_size=None, verbose=0)
    optimizer = model.optimizer
    model.fit(LINE_X, LINE_Y, epochs=3, batch_size=None, verbose=0)
    assert model.optimizer is optimizer and optimizer.steps == 5


def test_fit_with_verbose_zero_prints_nothing(capsys):
    model = small_model()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(LINE_X, LINE_Y, epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_binary_crossentropy_of_sigmoid_outputs_is_minus_log_of_the_right_probability():
    model = small_model(last="sigmoid")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    probabilities = model.predict(LINE_X)
    expected = -sum(math.log(p if label else 1.0 - p) for p, label in zip(probabilities, LINE_Y)) / len(LINE_Y)
    assert model.evaluate(LINE_X, LINE_Y, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-12)


def test_binary_crossentropy_stays_finite_when_the_sigmoid_rounds_to_one():
    model = Sequential([Dense(1, activation="sigmoid")], input_dim=1, seed=0)
    model.load_state_dict({"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.b": 0.0})
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert model.predict([[50.0]]) == [1.0]  # the probability itself rounds to 1
    assert model.evaluate([[50.0]], [0], return_dict=True)["loss"] == pytest.approx(50.0)  # -log(1 - sigmoid(50))


def test_categorical_and_sparse_crossentropy_give_minus_log_of_the_softmax_probability():
    labels = [i % 3 for i in range(len(LINE_X))]
    one_hot = [[int(j == c) for j in range(3)] for c in labels]
    model = small_model(last="softmax", units=3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rows = model.predict(LINE_X)
    assert all(math.isclose(sum(row), 1.0) for row in rows)
    expected = -sum(math.log(row[c]) for row, c in zip(rows, labels)) / len(labels)
    sparse = model.evaluate(LINE_X, labels, return_dict=True)["loss"]
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert sparse == pytest.approx(expected, rel=1e-12)
    assert model.evaluate(LINE_X, one_hot, return_dict=True)["loss"] == sparse


def test_categorical_crossentropy_needs_one_hot_labels():
    model = small_model(last="softmax", units=2)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="one-hot labels like \\[0, 1, 0\\]; label 0 is \\[0.5, 0.5\\]"):
        model.fit(LINE_X, [[0.5, 0.5]] * len(LINE_X), verbose=0)


@pytest.mark.parametrize("model", [
    lambda: small_model(last="relu"),
    lambda: Sequential([Dense(4, activation="tanh"), nn.Layer(4, 1, activation="sigmoid")], seed=0),
], ids=["relu_dense", "sigmoid_nn_layer"])
def test_a_cross_entropy_loss_after_an_output_it_cannot_read_as_scores_is_refused(model):
    model = model()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(ValueError, match="applies sigmoid itself; end the model with "
                                         "Dense\\(..., activation='sigmoid'\\) or a linear layer, not"):
        model.fit(LINE_X, LINE_Y, verbose=0)


def test_a_dropout_after_the_sigmoid_output_still_trains_on_its_scores():
    model = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid"), nn.Dropout(0.5, seed=0)],
                       seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.eval()
    assert model.logits(LINE_X[0]).data == model.layers[1].logits(model.layers[0](LINE_X[0]))[0].data
    probabilities = model.predict(LINE_X)
    expected = -sum(math.log(p if label else 1.0 - p) for p, label in zip(probabilities, LINE_Y)) / len(LINE_Y)
    assert model.evaluate(LINE_X, LINE_Y, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-12)


def test_hinge_evaluates_the_mean_margin_loss_with_0_1_labels_mapped_to_minus_plus_one():
    model = small_model(last=None)
    model.compile(optimizer="sgd", loss="hinge", metrics=["accuracy"])
    scores = model.predict(LINE_X)
    expected = sum(max(0.0, 1.0 - (2 * c - 1) * s) for s, c in zip(scores, LINE_Y)) / len(LINE_Y)
    result = model.evaluate(LINE_X, LINE_Y, return_dict=True)
    assert result["loss"] == pytest.approx(expected, rel=1e-12)
    assert result["accuracy"] == sum((s > 0) == bool(c) for s, c in zip(scores, LINE_Y)) / len(LINE_Y)


def test_evaluate_returns_the_loss_and_each_metric():
    model = small_model(last="sigmoid")
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracy", "mse", "mae"])
    result = model.evaluate(LINE_X, LINE_Y, return_dict=True)
    probabilities = model.predict(LINE_X)
    assert list(result) == ["loss", "accuracy", "mse", "mae"]
    assert result["mse"] == pytest.approx(result["loss"], rel=1e-12)  # the same formula twice
    assert result["mae"] == pytest.approx(sum(abs(p - c) for p, c in zip(probabilities, LINE_Y)) / len(LINE_Y))
    assert result["accuracy"] == sum((p > 0.5) == bool(c) for p, c in zip(probabilities, LINE_Y)) / len(LINE_Y)


def test_predict_gives_one_float_per_row_or_one_list_per_row():
    single, multi = small_model(units=1), small_model(last="softmax", units=3)
    assert all(type(p) is float for p in single.predict(LINE_X[:3])) and len(single.predict(LINE_X[:3])) == 3
    rows = multi.predict(LINE_X[:2])
    assert len(rows) == 2 and all(len(row) == 3 and all(type(v) is float for v in row) for row in rows)


def test_predict_and_evaluate_switch_dropout_off_and_restore_the_mode():
    model = Sequential([Dense(8, activation="relu"), nn.Dropout(0.5, seed=0), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    plain = Sequential([Dense(8, activation="relu"), Dense(1)], input_dim=2)
    model.build(2)
    plain.load_state_dict({name.replace("layers.2", "layers.1"): v for name, v in model.state_dict().items()})
    assert model.predict(LINE_X) == plain.predict(LINE_X)
    assert model.training  # back in training mode afterwards
    assert model.evaluate(LINE_X, LINE_Y, return_dict=True) == model.evaluate(LINE_X, LINE_Y, return_dict=True)


def test_fit_trains_through_dropout():
    model = Sequential([Dense(8, activation="tanh"), nn.Dropout(0.2, seed=0), Dense(1)], seed=1)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], learning_rate=0.05)
    before = model.evaluate(LINE_X, LINE_Y, return_dict=True)["loss"]
    model.fit(LINE_X, LINE_Y, epochs=30, batch_size=None, verbose=0)
    assert model.evaluate(LINE_X, LINE_Y, return_dict=True)["loss"] < before / 2


@pytest.mark.parametrize("loss, last, units", [("binary_crossentropy", "sigmoid", 1), ("mse", "tanh", 1),
                                                ("sparse_categorical_crossentropy", "softmax", 3)])
def test_one_fit_step_matches_pytorch_float64(loss, last, units):
    torch = pytest.importorskip("torch")
    labels = [i % units if units > 1 else c for i, c in enumerate(LINE_Y)]
    model = small_model(last=last, units=units, input_dim=2)
    start = model.state_dict()
    model.compile(optimizer="sgd", loss=loss, learning_rate=0.5)
    model.fit(LINE_X, labels, epochs=1, batch_size=None, verbose=0)

    def weights(layer):  # the layer's starting weights as a torch matrix and bias vector
        neurons = model.layers[layer].neurons
        rows = [[start[f"layers.{layer}.neurons.{j}.w.{i}"] for i in range(len(neuron.w))]
                for j, neuron in enumerate(neurons)]
        bias = [start[f"layers.{layer}.neurons.{j}.b"] for j in range(len(neurons))]
        return (torch.tensor(rows, dtype=torch.float64, requires_grad=True),
                torch.tensor(bias, dtype=torch.float64, requires_grad=True))

    (w0, b0), (w1, b1) = weights(0), weights(1)
    x = torch.tensor(LINE_X, dtype=torch.float64)
    scores = torch.tanh(x @ w0.T + b0) @ w1.T + b1
    if loss == "binary_crossentropy":
        target = torch.tensor(labels, dtype=torch.float64)
        value = torch.nn.functional.binary_cross_entropy(torch.sigmoid(scores[:, 0]), target)
    elif loss == "mse":
        value = torch.mean((torch.tanh(scores[:, 0]) - torch.tensor(labels, dtype=torch.float64)) ** 2)
    else:
        value = torch.nn.functional.cross_entropy(scores, torch.tensor(labels))
    value.backward()
    stepped = model.state_dict()
    for layer, (w, b) in enumerate([(w0, b0), (w1, b1)]):
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                name = f"layers.{layer}.neurons.{j}.w.{i}"
                assert stepped[name] == pytest.approx(start[name] - 0.5 * w.grad[j, i].item(), rel=1e-9, abs=1e-12)
            name = f"layers.{layer}.neurons.{j}.b"
            assert stepped[name] == pytest.approx(start[name] - 0.5 * b.grad[j].item(), rel=1e-9, abs=1e-12)


# ------------------------------------------------------------ save and load


def test_save_and_load_round_trip_restores_every_prediction(tmp_path):
    model = small_model(seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05)
    model.fit(LINE_X, LINE_Y, epochs=3, verbose=0)
    path = tmp_path / "model.json"
    model.save(path)
    fresh = small_model(seed=99, input_dim=2)
    assert fresh.predict(LINE_X) != model.predict(LINE_X)
    fresh.load(path)
    assert fresh.predict(LINE_X) == model.predict(LINE_X)


def test_loading_a_file_for_another_architecture_names_both_and_changes_nothing(tmp_path):
    path = tmp_path / "model.json"
    Sequential([Dense(4), Dense(1)], input_dim=2, seed=0).save(path)
    model = Sequential([Dense(5), Dense(1)], input_dim=2, seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"file is for Sequential\(\[Dense\(4\), Dense\(1\)\], input_dim=2\)"):
        model.load(path)
    assert model.state_dict() == before


def test_summary_lists_each_layer_and_the_total_parameter_count(capsys):
    Sequential([Dense(16, activation="relu"), nn.Dropout(0.1), Dense(1)], input_dim=2).summary()
    text = capsys.readouterr().out
    assert "Dense(16, activation='relu')" in text and "Dropout(p=0.1)" in text
    assert "total parameters: 65" in text
    Sequential([Dense(2)]).summary()
    assert "?" in capsys.readouterr().out
