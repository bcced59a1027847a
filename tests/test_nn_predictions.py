"""nn.predictions: one rule for which class an output means, and everything agrees on it.

fit's History, Sequential.evaluate, nn.accuracy, check_accuracy and the title of
plot_decision_boundary all read outputs through nn.class_rule; these tests train models
whose outputs a naive "score > 0" reading gets wrong, and check every reader agrees.
"""
import functools

import pytest

import glassgrad.nn as nn
from glassgrad.engine import Value
from glassgrad.nn.checks import CheckFailure, check_accuracy
from glassgrad.nn.predictions import (ClassRule, base_loss, class_rule, evaluation_mode, label_pair,
                                      prepare_labels)
from glassgrad.nn.keras import Dense, Sequential
from glassgrad.viz.plots import decision_grid, plot_decision_boundary

X, Y = nn.make_moons(40, noise=0.2, seed=3)
X3, Y3 = nn.make_blobs(30, centers=3, std=0.8, seed=0)


def sign_accuracy(model, X, y):
    """What a reader that always splits one output at 0 would report (the old bug)."""
    outputs = [model(x) for x in X]
    return sum((o.data > 0) == bool(label) for o, label in zip(outputs, y)) / len(y)


# (model, loss, X, y, epochs): a sigmoid output, a tanh score for hinge, a linear output
# regressed onto 0/1 by mse, and a softmax over three classes.
SEQUENTIAL_CASES = {
    "sigmoid_bce": (lambda: Sequential([Dense(6, activation="tanh"), Dense(1, activation="sigmoid")],
                                       seed=0), "binary_crossentropy", X, Y, 8),
    "tanh_hinge": (lambda: Sequential([Dense(6, activation="relu"), Dense(1, activation="tanh")], seed=0),
                   "hinge", X, Y, 8),
    "linear_mse": (lambda: Sequential([Dense(6, activation="tanh"), Dense(1)], seed=1), "mse", X, Y, 8),
    "softmax": (lambda: Sequential([Dense(6, activation="tanh"), Dense(3, activation="softmax")], seed=0),
                "sparse_categorical_crossentropy", X3, Y3, 3),
}


@pytest.fixture(scope="module", params=list(SEQUENTIAL_CASES))
def trained(request):
    make, loss, X, y, epochs = SEQUENTIAL_CASES[request.param]
    model = make()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], learning_rate=0.05)
    model.fit(X, y, epochs=epochs, batch_size=8, verbose=0, seed=0)
    return request.param, model, X, y


def test_fit_history_evaluate_accuracy_and_the_boundary_title_agree(trained):
    name, model, X, y = trained
    evaluated = model.evaluate(X, y, return_dict=True)["accuracy"]
    assert 0.5 < evaluated < 1.0, "the case must leave room for a wrong rule to show"
    assert nn.accuracy(model, X, y) == evaluated  # reads the compiled loss
    title = plot_decision_boundary(model, X, y, resolution=6).axes[0].get_title()
    assert f"accuracy {evaluated:.1%}" in title
    # fit measures accuracy before each update: with lr 0 nothing moves, so its first
    # (full-batch) epoch sees exactly the trained model
    model.compile(optimizer="sgd", loss=model.loss_fn, metrics=["accuracy"], learning_rate=0.0)
    history = model.fit(X, y, epochs=1, batch_size=None, verbose=0)
    assert history.accuracy[0] == evaluated


@pytest.mark.parametrize("case", ["sigmoid_bce", "linear_mse"])
def test_sigmoid_and_mse_outputs_are_not_read_as_scores_split_at_zero(case):
    make, loss, X, y, epochs = SEQUENTIAL_CASES[case]
    model = make()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], learning_rate=0.05)
    model.fit(X, y, epochs=epochs, batch_size=8, verbose=0, seed=0)
    assert model.evaluate(X, y, return_dict=True)["accuracy"] > sign_accuracy(model, X, y) + 0.1


def test_the_same_rule_holds_for_an_mlp_trained_with_nn_fit_on_mse():
    model = nn.MLP(2, [6, 1], activation="tanh", seed=1)
    nn.fit(model, X, Y, loss="mse", optimizer="adam", lr=0.05, epochs=8, batch_size=8, seed=0,
           progress=False)
    assert model.loss_fn is nn.mse  # fit notes how it trained the model
    trained = nn.accuracy(model, X, Y)
    assert trained == nn.accuracy(model, X, Y, loss="mse") > sign_accuracy(model, X, Y) + 0.1
    assert f"accuracy {trained:.1%}" in plot_decision_boundary(model, X, Y, resolution=6).axes[0].get_title()
    history = nn.fit(model, X, Y, loss="mse", lr=0.0, epochs=1, progress=False)
    assert history.accuracy[0] == trained


# ----------------------------------------------------------------- the table


@pytest.mark.parametrize("model, loss, classes, threshold, reads", [
    (nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0), "bce", (0, 1), 0.5, "probability"),
    (nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0), "mse", (0, 1), 0.5, "probability"),
    (nn.Neuron(2, activation="sigmoid", seed=0), None, (0, 1), 0.5, "probability"),
    (nn.Neuron(2, activation="step", seed=0), "hinge", (-1, 1), 0.5, "probability"),
    (nn.MLP(2, [3, 1], seed=0), "mse", (0, 1), 0.5, "value"),
    (nn.MLP(2, [3, 1], seed=0), "mse", (-1, 1), 0.0, "value"),
    (nn.MLP(2, [3, 1], seed=0), "mse", (2, 4), 3.0, "value"),
    (nn.MLP(2, [3, 1], output_activation="tanh", seed=0), "hinge", (-1, 1), 0.0, "score"),
    (nn.MLP(2, [3, 1], seed=0), "bce", (0, 1), 0.0, "score"),
    (nn.MLP(2, [3, 1], seed=0), lambda o, t: nn.mse(o, t), (0, 1), 0.0, "score"),  # a new loss: a score
    (lambda x: Value(x[0]), None, (0, 1), 0.0, "score"),  # a plain function declares nothing
], ids=["sigmoid_bce", "sigmoid_mse", "sigmoid_neuron", "step_neuron", "mse_01", "mse_pm1", "mse_2_4",
        "tanh_hinge", "linear_bce", "custom_loss", "function"])
def test_class_rule_follows_the_table_of_the_module_docstring(model, loss, classes, threshold, reads):
    rule = class_rule(model, loss, classes)
    assert (rule.threshold, rule.reads) == (threshold, reads)


def test_a_single_output_is_positive_only_strictly_above_the_threshold():
    rule = ClassRule(0.5, (-1, 1), "probability")
    assert [rule.label(Value(p)) for p in (0.2, 0.5, 0.51)] == [-1, -1, 1]
    assert rule.label([Value(0.9)]) == 1  # a list of one output is still one output


def test_several_outputs_are_read_by_argmax_whatever_the_loss():
    for loss in ("mse", "hinge", "softmax_cross_entropy"):
        rule = class_rule(nn.MLP(2, [3], seed=0), loss, (0, 1, 2))
        assert rule.label([Value(0.1), Value(2.0), Value(-1.0)]) == 1
        assert rule.label([Value(0.3), Value(0.3)]) == 0  # the first on a tie


def test_one_output_with_three_classes_is_refused_with_a_way_out():
    rule = class_rule(nn.MLP(2, [1], seed=0), None, (0, 1, 2))
    with pytest.raises(ValueError, match="one output, which can only separate two classes.*softmax"):
        rule.label(Value(0.3))


def test_label_pairs_are_0_1_or_minus_1_plus_1_or_the_two_labels_given():
    assert label_pair([1]) == label_pair([0, 1]) == (0, 1)
    assert label_pair([-1]) == label_pair([-1, 1]) == (-1, 1)
    assert label_pair([4, 2, 4]) == (2, 4)
    assert label_pair([0, 1, 2]) is None


def test_a_sequential_declares_its_last_dense_activation_past_a_dropout():
    model = Sequential([Dense(3, activation="relu"), Dense(1, activation="sigmoid"), nn.Dropout(0.5)])
    assert model.output_activation == "sigmoid"
    assert Sequential([Dense(3, activation="relu"), Dense(1)]).output_activation == "linear"


# ------------------------------------------------------------ wrapped losses


def test_partial_and_wraps_losses_count_as_the_loss_they_wrap():
    @functools.wraps(nn.mse)
    def logged_mse(outputs, targets):
        return nn.mse(outputs, targets)

    assert base_loss(functools.partial(nn.hinge)) is nn.hinge
    assert base_loss(logged_mse) is nn.mse
    assert base_loss(functools.partial(logged_mse)) is nn.mse
    model = nn.MLP(2, [3, 1], seed=0)
    assert class_rule(model, logged_mse).threshold == class_rule(model, "mse").threshold == 0.5
    assert prepare_labels([0, 1, 1.0], 3, functools.partial(nn.hinge)) == [-1, 1, 1]


def test_fit_with_a_wrapped_mse_records_the_same_history_as_with_mse():
    def run(loss):
        model = nn.MLP(2, [6, 1], activation="tanh", seed=1)
        return nn.fit(model, X, Y, loss=loss, optimizer="adam", lr=0.05, epochs=3, progress=False)
    plain, wrapped = run("mse"), run(functools.partial(nn.mse))
    assert wrapped.accuracy == plain.accuracy and wrapped.loss == plain.loss


def test_fit_with_a_wrapped_mse_on_many_numeric_targets_is_a_regression():
    targets = [i % 5 for i in range(len(X))]  # whole numbers, but five of them: regression
    history = nn.fit(nn.MLP(2, [3, 1], seed=0), X, targets, loss=functools.partial(nn.mse), lr=0.01,
                     epochs=1, progress=False)
    assert history.accuracy[0] != history.accuracy[0]  # nan


def test_a_sequential_compiled_with_a_partial_bce_still_trains_on_its_scores():
    model = Sequential([Dense(1, activation="sigmoid")], input_dim=1, seed=0)
    model.load_state_dict({"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.b": 0.0})
    model.compile(optimizer="sgd", loss=functools.partial(nn.binary_cross_entropy_with_logits))
    loss = model.evaluate([[50.0]], [0])  # no metrics: the loss alone
    assert loss == pytest.approx(50.0)  # -log(1 - sigmoid(50)), exact


def test_evaluate_maps_0_1_labels_for_a_wrapped_hinge():
    model = Sequential([Dense(1)], input_dim=1, seed=0)
    model.load_state_dict({"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.b": 0.0})
    model.compile(optimizer="sgd", loss=functools.partial(nn.hinge), metrics=["accuracy"])
    result = model.evaluate([[2.0], [-0.5]], [1, 0], return_dict=True)  # margins 2 and 0.5: losses 0 and 0.5
    assert result == {"loss": pytest.approx(0.25), "accuracy": 1.0}


# ------------------------------------------------------- the decision boundary


def test_the_boundary_of_a_sigmoid_model_is_where_its_logit_crosses_zero():
    model = Sequential([Dense(1, activation="sigmoid")], input_dim=2, seed=0)
    model.load_state_dict({"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.w.1": 1.0,
                           "layers.0.neurons.0.b": 0.0})
    grid = decision_grid(model, X, resolution=9, rule=class_rule(model))
    assert {c for row in grid.classes for c in row} == {0, 1}  # not class 1 everywhere
    assert grid.classes == decision_grid(model.logits, X, resolution=9).classes
    labels = [int(a + b > 0) for a, b in X]
    assert "accuracy 100.0%" in plot_decision_boundary(model, X, labels, resolution=9).axes[0].get_title()


def test_the_boundary_of_an_mse_model_lies_halfway_between_its_labels():
    model = nn.MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0  # the output is the input itself
    points = [[x / 4, 0.0] for x in range(-4, 5)]
    line = lambda p: model([p[0]])  # noqa: E731  (a function: it has no loss to read)
    labels = [int(p[0] > 0.5) for p in points]
    title = plot_decision_boundary(line, points, labels, loss="mse", resolution=5).axes[0].get_title()
    assert "accuracy 100.0%" in title
    assert "accuracy 100.0%" not in plot_decision_boundary(line, points, labels, resolution=5).axes[0].get_title()


def test_the_boundary_is_drawn_in_eval_mode_and_the_mode_restored():
    model = nn.MLP(2, [8, 1], dropout=0.5, seed=0)
    first = decision_grid(model, X, resolution=6)
    assert decision_grid(model, X, resolution=6) == first  # no dropout noise between calls
    assert all(module.training for module in model.modules())


def test_evaluation_mode_restores_each_modules_own_mode():
    model = nn.MLP(2, [4, 4, 1], dropout=0.2, seed=0)
    model.dropouts[0].eval()
    with evaluation_mode(model):
        assert not any(module.training for module in model.modules())
    assert [m.training for m in model.dropouts] == [False, True] and model.training


# ---------------------------------------------------------------- the checker


def test_check_accuracy_scores_a_sigmoid_sequential_as_its_own_evaluate_does(capsys):
    model = Sequential([Dense(8, activation="relu"), Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], learning_rate=0.05)
    model.fit(X, Y, epochs=30, batch_size=8, verbose=0, seed=0)
    evaluated = model.evaluate(X, Y, return_dict=True)["accuracy"]
    assert evaluated >= 0.8 and sign_accuracy(model, X, Y) == 0.5  # the old checker's number
    assert check_accuracy(model, X, Y, target=0.8) == evaluated


def test_check_accuracy_splits_an_mse_trained_output_halfway_between_the_labels():
    model = nn.MLP(2, [6, 1], activation="tanh", seed=1)
    nn.fit(model, X, Y, loss="mse", optimizer="adam", lr=0.05, epochs=8, batch_size=8, seed=0,
           progress=False)
    expected = nn.accuracy(model, X, Y, loss="mse")
    assert expected > sign_accuracy(model, X, Y) + 0.1
    assert check_accuracy(model, X, Y, target=0.5) == expected
    assert check_accuracy(lambda x: model(x), X, Y, target=0.5, loss="mse") == expected


def test_check_accuracy_scores_a_dropout_model_in_eval_mode_and_restores_its_mode():
    model = nn.MLP(2, [16, 1], dropout=0.5, seed=0)
    nn.fit(model, X, Y, loss="hinge", optimizer="adam", lr=0.05, epochs=20, seed=0, progress=False)
    model.eval()
    expected = nn.accuracy(model, X, Y)
    model.train()
    scores = {check_accuracy(model, X, Y, target=0.5) for _ in range(5)}
    assert scores == {expected}
    assert all(module.training for module in model.modules())


def test_check_accuracy_gives_an_nn_fit_user_no_zero_grad_hint():
    model = nn.MLP(2, [1], seed=0)
    nn.fit(model, X, Y, loss="hinge", lr=0.0, epochs=1, progress=False)
    for p in model.parameters():
        p.data = 0.0  # one class everywhere: no better than guessing
    with pytest.raises(CheckFailure) as caught:
        check_accuracy(model, X, Y, target=0.9)
    assert caught.value.mistake == "no_learning"
    assert "zero_grad" not in caught.value.hint and "learning rate" in caught.value.hint
    with pytest.raises(CheckFailure) as by_hand:
        check_accuracy(lambda x: Value(0.0), X, Y, target=0.9)  # a loop the student wrote
    assert "zero_grad" in by_hand.value.hint
