"""fit, History, predict and accuracy on small, fast problems."""
import functools
import math

import pytest

from glassgrad.nn import (MLP, SGD, Adam, History, accuracy, fit, hinge, make_blobs, make_moons, make_xor,
                predict)


@pytest.fixture(scope="module")
def moons():
    return make_moons(40, noise=0.1, seed=0)


def test_fit_returns_one_history_entry_per_epoch(moons):
    X, y = moons
    history = fit(MLP(2, [8, 1], seed=0), X, y, lr=0.1, epochs=3, progress=False)
    assert isinstance(history, History)
    assert len(history.loss) == len(history.accuracy) == len(history.lr) == 3
    assert history.epochs == [1, 2, 3]
    assert history["loss"] is history.loss and history["accuracy"] is history.accuracy


def test_training_on_moons_lowers_the_loss_and_raises_the_accuracy(moons):
    X, y = moons
    history = fit(MLP(2, [8, 1], seed=0), X, y, loss="hinge", lr=0.5, epochs=25, progress=False)
    assert history.loss[-1] < history.loss[0] / 2
    assert history.accuracy[-1] >= history.accuracy[0] + 0.3  # from chance to most points


def test_the_recorded_loss_is_the_loss_of_that_epochs_forward_pass(moons):
    X, y = moons
    model = MLP(2, [4, 1], seed=1)
    expected = hinge([model(x) for x in X], [2 * label - 1 for label in y]).data
    history = fit(model, X, y, lr=0.1, epochs=1, progress=False)
    assert history.loss == [pytest.approx(expected, rel=1e-12)]


def test_progress_false_prints_nothing_and_progress_true_shows_a_bar(moons, capsys):
    X, y = moons
    fit(MLP(2, [2, 1], seed=0), X, y, epochs=2, progress=False)
    assert capsys.readouterr() == ("", "")
    fit(MLP(2, [2, 1], seed=0), X, y, epochs=2, progress=True)
    assert "fit" in capsys.readouterr().err


def test_hinge_maps_zero_one_labels_to_minus_one_plus_one(moons):
    X, y = moons
    from_01 = fit(MLP(2, [4, 1], seed=2), X, y, epochs=3, progress=False)
    from_pm1 = fit(MLP(2, [4, 1], seed=2), X, [2 * label - 1 for label in y], epochs=3, progress=False)
    assert from_01.loss == from_pm1.loss and from_01.accuracy == from_pm1.accuracy


def test_the_lr_schedule_sets_the_learning_rate_of_each_epoch(moons):
    X, y = moons
    history = fit(MLP(2, [2, 1], seed=0), X, y, epochs=4, progress=False,
                  lr_schedule=lambda k: 1.0 - 0.9 * k / 4)
    assert history.lr == [1.0 - 0.9 * k / 4 for k in range(4)]


def test_mini_batches_are_shuffled_reproducibly_from_the_seed(moons):
    X, y = moons
    runs = [fit(MLP(2, [4, 1], seed=0), X, y, batch_size=8, seed=seed, epochs=2, progress=False).loss
            for seed in (5, 5, 6)]
    assert runs[0] == runs[1] != runs[2]


def test_an_optimizer_instance_is_used_and_its_model_is_trained(moons):
    X, y = moons
    model = MLP(2, [4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.05)
    fit(model, X, y, optimizer=optimizer, loss="bce", epochs=2, progress=False)
    assert optimizer.steps == 2
    with pytest.raises(ValueError, match="lr= is for an optimizer given by name"):
        fit(model, X, y, optimizer=SGD(model.parameters()), lr=0.1, epochs=1, progress=False)


def test_l2_is_added_to_the_loss(moons):
    X, y = moons
    plain = fit(MLP(2, [4, 1], seed=0), X, y, epochs=1, progress=False)
    penalised = fit(MLP(2, [4, 1], seed=0), X, y, epochs=1, l2=0.5, progress=False)
    squares = sum(p.data ** 2 for p in MLP(2, [4, 1], seed=0).parameters())
    assert penalised.loss[0] == pytest.approx(plain.loss[0] + 0.5 * squares, rel=1e-12)


def test_softmax_training_on_blobs_uses_argmax_accuracy():
    X, y = make_blobs(30, centers=3, std=0.3, seed=0)
    model = MLP(2, [8, 3], seed=0)
    history = fit(model, X, y, loss="softmax_cross_entropy", optimizer="adam", lr=0.05,
                  epochs=15, progress=False)
    assert history.loss[-1] < history.loss[0]
    assert accuracy(model, X, y, loss="softmax_cross_entropy") >= 0.9


def test_mse_regression_targets_give_nan_accuracy():
    X = [[0.1 * i, 0.0] for i in range(10)]
    targets = [0.37 * i + 0.05 for i in range(10)]
    history = fit(MLP(2, [4, 1], seed=0), X, targets, loss="mse", lr=0.05, epochs=2, progress=False)
    assert math.isnan(history.accuracy[0])


def test_fit_restores_the_models_mode():
    X, y = make_xor(20, seed=0)
    model = MLP(2, [4, 1], dropout=0.2, seed=0).eval()
    fit(model, X, y, epochs=1, progress=False)
    assert not any(module.training for module in model.modules())


def test_predict_and_accuracy_threshold_a_single_score_at_zero():
    model = MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0  # the score is the input itself
    X = [[-2.0], [-0.1], [0.3], [5.0]]
    assert predict(model, X) == [0, 0, 1, 1]
    assert predict(model, X, classes=(-1, 1), loss="bce") == [-1, -1, 1, 1]
    assert accuracy(model, X, [0, 1, 1, 1]) == 0.75


@pytest.mark.parametrize("call, message", [
    (lambda X, y: fit(MLP(2, [1], seed=0), X, y[:-1], progress=False), "has 40 samples but y has 39"),
    (lambda X, y: fit(MLP(2, [1], seed=0), [], [], progress=False), "X is empty"),
    (lambda X, y: fit(MLP(2, [1], seed=0), X, y, epochs=0, progress=False), "epochs must be"),
    (lambda X, y: fit(MLP(2, [1], seed=0), X, y, loss="huber", progress=False), "unknown loss"),
    (lambda X, y: fit(MLP(2, [1], seed=0), X, [i % 3 for i in range(40)], loss="bce",
                      epochs=1, progress=False), "labels must be 0 or 1"),
    (lambda X, y: fit(MLP(2, [1], seed=0), X, [i % 3 for i in range(40)], loss=lambda o, t: o[0],
                      epochs=1, progress=False), "one output, which can only separate two classes"),
])
def test_fit_explains_bad_arguments(moons, call, message):
    with pytest.raises(ValueError, match=message):
        call(*moons)


def test_fit_pauses_the_cycle_collector_during_an_epoch_and_restores_it() -> None:
    # glassgrad graphs have no reference cycles, so fit may skip the cyclic collector.
    import gc

    import glassgrad.nn as nn
    seen = []

    def loss_that_looks(outputs, labels):
        seen.append(gc.isenabled())
        return nn.mse(outputs, labels)

    X, y = nn.make_moons(8, noise=0.1, seed=0)
    nn.fit(nn.MLP(2, [3, 1], seed=0), X, y, loss=loss_that_looks, epochs=2, progress=False)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        nn.fit(nn.MLP(2, [3, 1], seed=0), X, y, loss=loss_that_looks, epochs=1, progress=False)
        assert not gc.isenabled()  # a collector the caller turned off stays off
    finally:
        gc.enable()


def test_fit_that_cannot_classify_fails_before_changing_the_model() -> None:
    import glassgrad.nn as nn
    model = nn.MLP(1, [4, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="one output"):
        nn.fit(model, [[0], [1], [2], [3]], [0, 1, 2, 3], loss=lambda o, t: nn.mse(o, t),
               progress=False)
    assert model.state_dict() == before


# ------------------------------------------------------------ trace=True / False

def _recording_traces(monkeypatch):
    """Every Traced that fit makes, to count its tapes."""
    import glassgrad.nn.train as train
    made = []

    def recording_trace(fn, static_argnums=()):
        made.append(train_trace(fn, static_argnums))
        return made[-1]
    train_trace = train.trace_fn
    monkeypatch.setattr(train, "trace_fn", recording_trace)
    return made


@pytest.mark.parametrize("loss, outputs, labels", [
    ("hinge", 1, None), ("bce", 1, None), ("mse", 1, None), ("softmax_cross_entropy", 2, None),
    ("softmax_cross_entropy", 3, [i % 3 for i in range(30)]), ("mse", 1, [0.1 * i for i in range(30)]),
])
def test_traced_and_eager_fit_give_the_same_history_with_dropout_and_a_smaller_last_batch(
        monkeypatch, loss, outputs, labels):
    X, y = make_moons(30, noise=0.1, seed=0)
    y = y if labels is None else labels
    histories = []
    for trace in (False, True):
        made = _recording_traces(monkeypatch)
        model = MLP(2, [6, 6, outputs], seed=0, dropout=0.2)
        histories.append(fit(model, X, y, loss=loss, lr=0.1, epochs=4, batch_size=8, l2=1e-3,
                             seed=1, progress=False, trace=trace))
        assert len(made) == trace  # eager mode makes no tape
    eager, traced = histories
    assert traced.loss == eager.loss  # the tape gives eager's floats, bit for bit
    assert traced.accuracy == pytest.approx(eager.accuracy, nan_ok=True)
    assert made[0].recordings == 2  # batches of 8 and the last of 6: labels never re-record


def test_fit_traces_nn_modules_and_nn_losses_by_default_and_nothing_else(monkeypatch, moons):
    X, y = moons
    made = _recording_traces(monkeypatch)
    fit(MLP(2, [4, 1], seed=0), X, y, epochs=1, progress=False)
    assert len(made) == 1
    fit(MLP(2, [4, 1], seed=0), X, y, loss=functools.partial(hinge), epochs=1, progress=False)

    class Mine(MLP):  # your own module: it could keep Python state a tape would not see
        pass
    fit(Mine(2, [4, 1], seed=0), X, y, epochs=1, progress=False)
    assert len(made) == 1


class _BranchesOnData(MLP):
    def __call__(self, x):
        out = super().__call__(x)
        return out if out.data > 0 else out * 0.5  # a Python decision on a number


def test_a_model_that_cannot_be_traced_trains_eagerly_with_a_one_line_warning(moons):
    X, y = moons
    with pytest.warns(UserWarning) as warned:
        traced = fit(_BranchesOnData(2, [4, 1], seed=0), X, y, epochs=3, progress=False, trace=True)
    assert len(warned) == 1
    message = str(warned[0].message)
    assert "training eagerly, this model cannot be traced" in message and "reads" in message
    assert "\n" not in message
    eager = fit(_BranchesOnData(2, [4, 1], seed=0), X, y, epochs=3, progress=False, trace=False)
    assert traced.loss == eager.loss


def test_a_custom_loss_can_be_traced_with_its_labels_as_they_are(moons):
    X, y = moons
    histories = [fit(MLP(2, [4, 1], seed=0), X, y, loss=functools.partial(hinge), lr=0.1, epochs=3,
                     progress=False, trace=trace).loss for trace in (False, True)]
    assert histories[1] == histories[0]


def test_fit_with_hinge_on_three_classes_names_the_original_label_and_the_loss_for_classes():
    # Notebook 05's one-output hinge model, pasted into exercise 5 (three spirals, labels 0, 1, 2):
    # the error names the label 2 the student gave, not the 3 that y*2 - 1 would make of it.
    from glassgrad.nn.checks import accuracy_exercise_data
    X_train, y_train, _, _ = accuracy_exercise_data()
    first = next(i for i, label in enumerate(y_train) if label == 2)
    with pytest.raises(ValueError) as caught:
        fit(MLP(2, [16, 16, 1], seed=0), X_train, y_train, loss="hinge", epochs=1, progress=False)
    message = str(caught.value)
    assert message.startswith(f"fit: hinge labels must be 0 or 1 (or -1 and +1), got 2 at index {first} "
                              "(the labels are 0, 1, 2): 3 classes need one output per class and "
                              "loss='softmax_cross_entropy'")
    assert "got 3" not in message and "y*2 - 1" not in message


@pytest.mark.parametrize("loss, labels, words", [
    ("bce", [0, 1, 2, 1] * 10, "binary_cross_entropy_with_logits labels must be 0 or 1, got 2 at "
     "index 2 (the labels are 0, 1, 2): 3 classes need one output per class"),
    ("hinge", [0, 2] * 20, "hinge labels must be 0 or 1 (or -1 and +1), got 2 at index 1 (the labels are "
     "0, 2): map the two classes to 0 and 1"),
    ("hinge", [-1, 0, 1, 1] * 10, "got -1 at index 0 (the labels are -1, 0, 1): 3 classes need"),
])
def test_fit_with_a_two_class_loss_refuses_other_labels_before_mapping_them(moons, loss, labels, words):
    X, _ = moons
    with pytest.raises(ValueError, match="^fit: ") as caught:
        fit(MLP(2, [4, 1], seed=0), X, labels, loss=loss, epochs=1, progress=False)
    assert words in str(caught.value)


def test_fit_validation_data_with_three_classes_for_hinge_names_validation_data(moons):
    X, y = moons
    with pytest.raises(ValueError, match="^fit: validation_data: hinge labels must be 0 or 1"):
        fit(MLP(2, [4, 1], seed=0), X, y, loss="hinge", epochs=1, progress=False,
            validation_data=(X[:3], [0, 1, 2]))


def test_fit_with_hinge_still_takes_minus_one_plus_one_and_bce_probabilities(moons):
    X, y = moons
    fit(MLP(2, [4, 1], seed=0), X, [2 * label - 1 for label in y], loss="hinge", epochs=1, progress=False)
    fit(MLP(2, [4, 1], seed=0), X, [0.25 + 0.5 * label for label in y], loss="bce", epochs=1, progress=False)


@pytest.mark.parametrize("trace", [True, False])
def test_fit_with_mse_on_class_labels_for_three_outputs_says_use_softmax_cross_entropy(trace):
    from glassgrad.nn.checks import accuracy_exercise_data
    X_train, y_train, _, _ = accuracy_exercise_data()
    with pytest.raises(ValueError) as caught:
        fit(MLP(2, [8, 3], seed=0), X_train, y_train, loss="mse", epochs=1, progress=False, trace=trace)
    assert str(caught.value) == (
        f"mse: the model gives 3 outputs per sample but the target of sample 0 is one number, "
        f"{y_train[0]}: for classes use loss='softmax_cross_entropy' (or give one-hot targets, one "
        "number per output)")


@pytest.mark.parametrize("trace", [True, False])
def test_fit_with_softmax_cross_entropy_on_one_output_says_one_output_per_class(trace):
    from glassgrad.nn.checks import accuracy_exercise_data
    X_train, y_train, _, _ = accuracy_exercise_data()
    with pytest.raises(ValueError, match="^softmax_cross_entropy: sample 0 is one output, Value\\(.*\\), but "
                                         "softmax needs one logit per class: give the model's last layer "
                                         "one output per class$"):
        fit(MLP(2, [4, 1], seed=0), X_train, y_train, loss="softmax_cross_entropy", epochs=1,
            progress=False, trace=trace)
