"""glassgrad.nn.keras: the articles' sketch runs verbatim, with Keras's defaults and Keras's reports."""
import math
import random
import statistics
import textwrap

import pytest

import glassgrad.nn as nn
import glassgrad.nn.keras as dl
from glassgrad.engine import Value
from glassgrad.nn.data import one_hot

# Three well separated classes in 2-D: a few epochs learn them.
BLOB_X, BLOB_Y = nn.make_blobs(60, centers=3, std=0.3, seed=0)

# The sketch exactly as the article prints it.
SKETCH = textwrap.dedent("""\
    model = dl.Sequential([
        dl.Layer(input_shape=(784,)),       # Input layer
        dl.Dense(128, activation='relu'),   # Hidden layer 1
        dl.Dense(64, activation='relu'),    # Hidden layer 2
        dl.Dense(10, activation='softmax')  # Output layer
    ])
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    model.fit(X_train, y_train, epochs=10, batch_size=32)
""")


def blob_model(seed=0, **layers):
    return dl.Sequential([dl.Input(shape=(2,)), dl.Dense(8, activation="tanh"),
                          dl.Dense(3, activation="softmax")], seed=seed, **layers)


def compiled_blob_model(seed=0, metrics=("accuracy",)):
    model = blob_model(seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=list(metrics),
                  learning_rate=0.05)
    return model


# ---------------------------------------------------------------- the sketch


def sketch_data(rows=2):
    rng = random.Random(0)
    return [[rng.random() for _ in range(784)] for _ in range(rows)], one_hot([3, 7, 1][:rows], 10)


def test_the_articles_sketch_runs_verbatim_on_784_wide_rows():
    X_train, y_train = sketch_data()
    namespace = {"dl": dl, "X_train": X_train, "y_train": y_train}
    exec(SKETCH, namespace)
    model = namespace["model"]
    assert model.input_dim == 784 and model.output_dim == 10
    assert model.optimizer.steps == 10  # 10 epochs of one batch of 2 rows
    assert model.evaluate(X_train, y_train, return_dict=True)["loss"] < 1.0  # from ln 10 = 2.30


def test_the_sketchs_first_loss_is_near_ln_10():
    X_train, y_train = sketch_data(3)
    namespace = {"dl": dl}
    state = random.getstate()
    random.seed(0)  # the sketch draws its weights from the global random module
    try:
        exec(SKETCH.split("model.fit")[0], namespace)  # the sketch up to its compile line
    finally:
        random.setstate(state)
    # near chance, -ln(1/10); micrograd's uniform(-1, 1) weights would start near 160
    first_loss, _ = namespace["model"].evaluate(X_train, y_train)
    assert first_loss == pytest.approx(math.log(10), abs=0.5)


def test_micrograds_uniform_weights_would_start_the_sketch_far_above_ln_10():
    rng = random.Random(0)
    X = [[rng.random() for _ in range(784)] for _ in range(2)]
    mlp = nn.MLP(784, [128, 64, 10], seed=0)
    loss = nn.softmax_cross_entropy([mlp(x) for x in X], [3, 7]).data
    assert loss > 20 * math.log(10)  # the issue's ~160: why Dense needs Glorot


# ---------------------------------------------------------- layers and defaults


def test_dense_weights_are_glorot_uniform_and_biases_zero():
    fan_in, fan_out = 40, 60
    model = dl.Sequential([dl.Dense(fan_out, input_dim=fan_in)], seed=0)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    weights = [w.data for neuron in model.layers[0].neurons for w in neuron.w]
    assert all(neuron.b.data == 0.0 for neuron in model.layers[0].neurons)
    assert max(abs(w) for w in weights) <= limit
    assert max(abs(w) for w in weights) > 0.99 * limit  # the whole range is used
    assert statistics.pvariance(weights) == pytest.approx(limit ** 2 / 3, rel=0.05)  # uniform's variance


def test_mlp_layer_and_neuron_keep_micrograds_uniform_minus_one_one():
    weights = [w.data for w in nn.MLP(40, [60], seed=0).parameters() if w.label.startswith("w")]
    assert max(abs(w) for w in weights) > 0.99 and max(abs(w) for w in weights) <= 1.0


@pytest.mark.parametrize("first", [dl.Input(shape=(5,)), dl.Layer(input_shape=(5,)),
                                   dl.Dense(3, input_shape=(5,)), dl.Dense(3, input_dim=5)],
                         ids=["Input", "Layer", "Dense_input_shape", "Dense_input_dim"])
def test_every_way_to_declare_the_input_size_builds_the_model_at_once(first):
    layers = [first] if isinstance(first, dl.Dense) else [first, dl.Dense(3)]
    model = dl.Sequential(layers)
    assert model.built and model.input_dim == 5 and model.output_dim == 3
    assert len(model.parameters()) == 5 * 3 + 3


def test_the_input_size_is_still_inferred_from_the_first_sample_without_a_declaration():
    model = dl.Sequential([dl.Dense(3), dl.Dense(2)])
    assert not model.built
    model([1.0, 2.0, 3.0, 4.0])
    assert model.input_dim == 4


def test_an_input_layer_passes_each_sample_through_unchanged():
    x = [Value(1.0), Value(-2.0)]
    assert dl.Input(shape=(2,))(x) == x and dl.Layer(input_shape=(2,))(x) == x


def test_a_model_with_and_without_its_input_layer_computes_the_same():
    with_input = dl.Sequential([dl.Input(shape=(2,)), dl.Dense(4, activation="relu"), dl.Dense(1)], seed=3)
    without = dl.Sequential([dl.Dense(4, activation="relu"), dl.Dense(1)], input_dim=2, seed=3)
    assert [p.data for p in with_input.parameters()] == [p.data for p in without.parameters()]
    assert [with_input(x).data for x in BLOB_X[:5]] == [without(x).data for x in BLOB_X[:5]]


@pytest.mark.parametrize("make, message", [
    (lambda: dl.Input(shape=(8, 8)), r"input_shape is the shape of one sample, a tuple of one size like "
                                     r"\(784,\) \(a sample is a flat list of numbers: flatten images first\), "
                                     r"got \(8, 8\)"),
    (lambda: dl.Dense(2, input_dim=3, input_shape=(3,)), "Dense: give input_shape= or input_dim=, not both"),
    (lambda: dl.Layer(input_shape=(0,)), r"Layer: input_shape\[0\] must be a whole number >= 1, got 0"),
    (lambda: dl.Sequential([dl.Input(shape=(2,)), dl.Dense(3), dl.Layer(input_shape=(4,))]),
     r"Layer\(input_shape=\(4,\)\) was declared with input_dim=4 but receives 3 values"),
])
def test_a_bad_input_size_is_refused_with_the_offending_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_keras_dropout_takes_its_rate_and_is_nns_inverted_dropout():
    layer = dl.Dropout(rate=0.25, seed=0)
    assert isinstance(layer, nn.Dropout) and layer.p == 0.25 and repr(layer) == "Dropout(rate=0.25)"
    outputs = layer([1.0] * 400)
    assert set(outputs) == {0.0, 1.0 / 0.75}
    model = dl.Sequential([dl.Dense(4, activation="relu"), dl.Dropout(0.5, seed=0), dl.Dense(1)], input_dim=2)
    model.eval()
    assert model(BLOB_X[0]).data == model.layers[2](model.layers[0](BLOB_X[0]))[0].data


def test_nn_layer_stays_micrographs_layer_and_nn_sequential_is_the_keras_one():
    assert nn.Layer is not dl.Layer and nn.Layer(2, 3).nout == 3
    assert nn.Sequential is dl.Sequential and nn.Dense is dl.Dense and nn.keras is dl


# ------------------------------------------------------------------ summary


def summary_text(model) -> str:
    lines: list[str] = []
    assert model.summary(print_fn=lines.append) is None  # as Keras: it prints, returns nothing
    return "\n".join(lines)


def test_summary_prints_keras_columns_and_counts_109386_parameters_of_the_sketch(capsys):
    model = dl.Sequential([dl.Layer(input_shape=(784,)), dl.Dense(128, activation="relu"),
                           dl.Dense(64, activation="relu"), dl.Dense(10, activation="softmax")], seed=0)
    model.summary()
    text = capsys.readouterr().out
    assert text == summary_text(model) + "\n"
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("Dense")]
    assert [row[-3:] for row in rows] == [["(None,", "128)", "100,480"], ["(None,", "64)", "8,256"],
                                          ["(None,", "10)", "650"]]
    assert "total parameters: 109,386 (trainable: 109,386, non-trainable: 0)" in text
    assert "Layer(input_shape" not in text  # Keras does not list the input layer


def test_graph_nodes_per_sample_counts_inputs_parameters_and_every_op():
    model = dl.Sequential([dl.Input(shape=(3,)), dl.Dense(4, activation="relu"), dl.Dense(2)], seed=0)
    inputs, parameters = 3, (3 * 4 + 4) + (4 * 2 + 2)
    ops = 4 * (2 * 3 + 1) + 2 * (2 * 4)  # per neuron: one mul and one add per input, then its relu
    assert model.graph_nodes_per_sample() == inputs + parameters + ops
    assert f"graph nodes per sample: {inputs + parameters + ops} " in summary_text(model)


def test_summary_of_an_unbuilt_model_shows_unknown_counts():
    text = summary_text(dl.Sequential([dl.Dense(3), dl.Dense(1)]))
    assert "(None, 3)" in text and "total parameters: ? (input size unknown)" in text


# -------------------------------------------------------------------- labels


def test_categorical_and_sparse_crossentropy_give_the_same_loss_for_the_same_labels():
    model = blob_model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    categorical = model.evaluate(BLOB_X, one_hot(BLOB_Y, 3), return_dict=True)["loss"]
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model.evaluate(BLOB_X, BLOB_Y, return_dict=True)["loss"] == categorical


def test_one_hot_labels_with_sparse_crossentropy_name_categorical_crossentropy():
    model = blob_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy needs class indices like 3; label 0 "
                                         r"is \[.*\]\. For one-hot labels use 'categorical_crossentropy'"):
        model.fit(BLOB_X, one_hot(BLOB_Y, 3), verbose=0)


def test_class_indices_with_categorical_crossentropy_name_sparse_crossentropy():
    model = blob_model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot labels like \[0, 1, 0\]; label 0 is \d\. "
                                         r"For class numbers use 'sparse_categorical_crossentropy'"):
        model.evaluate(BLOB_X, BLOB_Y, return_dict=True)


# ----------------------------------------------------------------------- fit


def test_history_dict_holds_loss_accuracy_and_validation_metrics_per_epoch():
    model = compiled_blob_model()
    history = model.fit(BLOB_X[:45], BLOB_Y[:45], epochs=4, verbose=0, seed=0,
                        validation_data=(BLOB_X[45:], BLOB_Y[45:]))
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    for name, values in history.history.items():
        assert values is getattr(history, name) is history[name] and len(values) == 4
    assert history.val_loss[-1] < history.val_loss[0]


def test_validation_metrics_are_those_evaluate_gives_after_each_epoch():
    model = compiled_blob_model()
    X_val, y_val = BLOB_X[45:], BLOB_Y[45:]
    history = model.fit(BLOB_X[:45], BLOB_Y[:45], epochs=2, verbose=0, seed=0, validation_data=(X_val, y_val))
    after = model.evaluate(X_val, y_val, return_dict=True)
    assert history.val_loss[-1] == pytest.approx(after["loss"], rel=1e-12)
    assert history.val_accuracy[-1] == after["accuracy"]


def test_validation_split_holds_out_the_last_samples_before_shuffling():
    split, explicit = compiled_blob_model(), compiled_blob_model()
    by_split = split.fit(BLOB_X, BLOB_Y, epochs=2, verbose=0, seed=0, validation_split=0.25)
    by_data = explicit.fit(BLOB_X[:45], BLOB_Y[:45], epochs=2, verbose=0, seed=0,
                           validation_data=(BLOB_X[45:], BLOB_Y[45:]))
    assert by_split.history == by_data.history
    assert split.state_dict() == explicit.state_dict()


def test_without_validation_history_has_no_val_entries_and_without_classes_no_accuracy():
    history = compiled_blob_model().fit(BLOB_X, BLOB_Y, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "accuracy"]
    regression = dl.Sequential([dl.Dense(1)], input_dim=1, seed=0)
    regression.compile(optimizer="sgd", loss="mse")
    assert list(regression.fit([[0.1], [0.7]], [0.3, 1.9], epochs=1, verbose=0).history) == ["loss"]


@pytest.mark.parametrize("options, message", [
    ({"validation_split": 0.2, "validation_data": (BLOB_X, BLOB_Y)}, "validation_split= or validation_data=, not"),
    ({"validation_split": 1.0}, r"fit: validation_split \(the fraction held out\) must be in \[0, 1\), got 1.0"),
    ({"validation_split": 0.99}, r"validation_split=0.99 of 60 samples leaves 0 to train on"),
    ({"validation_data": (BLOB_X,)}, r"validation_data is a pair \(X_val, y_val\)"),
    ({"validation_data": (BLOB_X, BLOB_Y[:3])}, "fit: validation_data: X has 60 samples but y has 3 labels"),
    ({"verbose": 3}, r"verbose is one of 0 \(silent\), 1 \(a progress bar.*\), 2 \(one line per epoch\); got 3"),
])
def test_bad_fit_options_are_refused_with_the_offending_value(options, message):
    with pytest.raises(ValueError, match=message):
        compiled_blob_model().fit(BLOB_X, BLOB_Y, **options)


def test_verbose_2_prints_one_keras_line_per_epoch_with_the_history_numbers(capsys):
    model = compiled_blob_model()
    history = model.fit(BLOB_X, BLOB_Y, epochs=2, verbose=2, seed=0, validation_split=0.25)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for epoch, line in enumerate(lines):
        head, seconds, *metrics = line.split(" - ")
        assert head == f"Epoch {epoch + 1}/2" and seconds.endswith("s") and float(seconds[:-1]) >= 0
        assert metrics == [f"{name}: {history[name][epoch]:.4f}"
                           for name in ("loss", "accuracy", "val_loss", "val_accuracy")]


def test_verbose_2_shows_only_the_compiled_metrics(capsys):
    compiled_blob_model(metrics=()).fit(BLOB_X, BLOB_Y, epochs=1, verbose=2)
    assert "accuracy" not in capsys.readouterr().out


def test_fit_learns_the_blobs_to_full_validation_accuracy():
    model = compiled_blob_model()
    history = model.fit(BLOB_X, BLOB_Y, epochs=15, batch_size=8, verbose=0, seed=0, validation_split=0.25)
    assert history.val_accuracy[-1] == 1.0 and history.loss[-1] < history.loss[0] / 3


def test_jit_compile_trains_through_the_tape_by_default_with_eager_s_history(monkeypatch):
    import glassgrad.nn.train as train

    traced, eager = compiled_blob_model(), compiled_blob_model()
    assert traced.jit_compile is None  # Keras's "auto": the tape for nn's own layers and losses
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy", learning_rate=0.05, jit_compile=False)
    assert eager.jit_compile is False
    steps = []
    for kind in ("_TracedStep", "_EagerStep"):
        made = getattr(train, kind)
        monkeypatch.setattr(train, kind, lambda *args, made=made, kind=kind: steps.append(kind) or made(*args))
    traced_loss = traced.fit(BLOB_X, BLOB_Y, epochs=3, verbose=0, seed=0).loss
    assert steps[0] == "_TracedStep"  # (it keeps eager steps inside, to record and to fall back)
    steps.clear()
    eager_loss = eager.fit(BLOB_X, BLOB_Y, epochs=3, verbose=0, seed=0).loss
    assert steps == ["_EagerStep"]
    assert traced_loss == pytest.approx(eager_loss, rel=1e-9, abs=1e-12)
    with pytest.raises(TypeError, match=r"compile: jit_compile is True, False or None \(auto\), got 'yes'"):
        eager.compile(loss="mse", jit_compile="yes")


def test_evaluate_loss_is_the_loss_of_the_whole_batch_computed_one_sample_at_a_time():
    model = compiled_blob_model()
    scores = [model.logits(x) for x in BLOB_X]
    assert model.evaluate(BLOB_X, BLOB_Y, return_dict=True)["loss"] == pytest.approx(
        nn.softmax_cross_entropy(scores, BLOB_Y).data, rel=1e-12)


# ------------------------------------- which tapes a Keras workflow records (notebook 09's timing)


def recorded_tapes(monkeypatch) -> list[int]:
    """A list that gets, for each tape recorded from now on, its number of inputs (the floats
    of the call that recorded it), read through ``Traced.recordings``."""
    import glassgrad.engine.tape as tape

    sizes: list[int] = []
    call = tape.Traced.__call__

    def floats(arg) -> int:
        return sum(map(floats, arg)) if isinstance(arg, (list, tuple)) else isinstance(arg, float)

    def counted(self, *args):
        before = self.recordings
        result = call(self, *args)
        if self.recordings > before:
            sizes.append(floats(args))
        return result

    monkeypatch.setattr(tape.Traced, "__call__", counted)
    return sizes


def test_whole_batches_record_one_training_tape_and_a_smaller_last_batch_a_second(monkeypatch):
    tapes = recorded_tapes(monkeypatch)
    compiled_blob_model().fit(BLOB_X[:48], BLOB_Y[:48], epochs=2, batch_size=16, verbose=0, seed=0)
    assert tapes == [16 * (2 + 3)]  # 16 rows of 2 inputs and a one-hot label of 3
    tapes.clear()
    compiled_blob_model().fit(BLOB_X[:50], BLOB_Y[:50], epochs=2, batch_size=16, verbose=0, seed=0)
    assert tapes == [16 * (2 + 3), 2 * (2 + 3)]  # 50 = 3 x 16 + 2


def test_evaluate_records_a_tape_that_validation_and_later_evaluations_replay(monkeypatch):
    tapes = recorded_tapes(monkeypatch)
    model = compiled_blob_model()
    model.evaluate(BLOB_X, BLOB_Y, return_dict=True)
    assert tapes == [32 * 2]  # 32 rows at a time, the last chunk padded
    model.fit(BLOB_X[:48], BLOB_Y[:48], epochs=2, batch_size=16, verbose=0, seed=0,
              validation_data=(BLOB_X[48:], BLOB_Y[48:]))
    assert tapes == [32 * 2, 16 * (2 + 3)]  # only the training step is new
    model.evaluate(BLOB_X, BLOB_Y, return_dict=True)
    model.predict(BLOB_X)  # the softmax's probabilities: another graph than evaluate's scores
    model.predict(BLOB_X[:5])
    assert tapes == [32 * 2, 16 * (2 + 3), 32 * 2]


def test_evaluate_returns_what_keras_returns_a_list_a_lone_loss_or_a_dict_on_request():
    model = dl.Sequential([dl.Input(shape=(2,)), dl.Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    as_dict = model.evaluate(BLOB_X, BLOB_Y, return_dict=True)
    loss, accuracy = model.evaluate(BLOB_X, BLOB_Y)  # Keras: [loss, then each metric in compile's order]
    assert [loss, accuracy] == [as_dict["loss"], as_dict["accuracy"]]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert model.evaluate(BLOB_X, BLOB_Y) == as_dict["loss"]  # no metrics: the loss alone, a float
