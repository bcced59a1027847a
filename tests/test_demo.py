"""`glassgrad demo` (viz.demo.main): trains, writes four valid files, says where they are.

Every run here is tiny (a few epochs of a small MLP on a few points) to stay fast; the
full default demo is the same code with bigger numbers.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from PIL import Image  # noqa: E402

from glassgrad.engine import topological_order  # noqa: E402
from glassgrad.viz.demo import OUTPUTS, _linear_decay, main  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"  # the SVG namespace, as ElementTree spells tags
TINY = ["--epochs", "3", "--samples", "30", "--hidden", "4", "--no-progress"]


def run_demo(capsys, out: Path, *arguments: str) -> str:
    """Run the demo into ``out`` and return what it printed."""
    assert main([*TINY, *arguments, "-o", str(out)]) == 0
    return capsys.readouterr().out


def assert_valid_png(path: Path) -> None:
    assert path.stat().st_size > 0
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 0 and image.height > 0


def assert_valid_svg(path: Path) -> None:
    root = ElementTree.parse(path).getroot()
    assert root.tag == SVG + "svg"
    assert root.findall(f".//{SVG}g")  # it drew something


def test_demo_writes_four_valid_files_and_prints_where_they_are(capsys, tmp_path):
    out = tmp_path / "demo"
    printed = run_demo(capsys, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    assert_valid_png(out / "loss_curve.png")
    assert_valid_png(out / "decision_boundary.png")
    assert_valid_svg(out / "neuron_graph.svg")
    for name in OUTPUTS:
        assert str(out / name) in printed
    assert "the Graphviz program (dot)" in printed or "WebAssembly" in printed


def test_demo_prints_the_final_loss_and_training_accuracy(capsys, tmp_path):
    printed = run_demo(capsys, tmp_path / "demo")
    assert re.search(r"final loss \d+\.\d{4}, training accuracy \d+\.\d%", printed)
    assert "MLP(2, [4, 1]) on moons (30 samples, 2 classes): hinge loss + L2 0.0001" in printed


@pytest.mark.parametrize("data", ["moons", "blobs"])
def test_demo_prints_the_accuracy_its_decision_boundary_shows(capsys, tmp_path, monkeypatch, data):
    import glassgrad.viz.demo as demo
    titles = []

    def boundary_and_title(*args, **kwargs):
        figure = plot_decision_boundary(*args, **kwargs)
        titles.append(figure.axes[0].get_title())
        return figure

    plot_decision_boundary = demo.plot_decision_boundary
    monkeypatch.setattr(demo, "plot_decision_boundary", boundary_and_title)
    printed = run_demo(capsys, tmp_path / "demo", "--data", data, "--epochs", "5")
    (printed_accuracy,) = re.findall(r"training accuracy (\d+\.\d%)", printed)
    assert titles == [f"decision boundary (accuracy {printed_accuracy})"]


def test_demo_stepper_page_has_one_frame_per_chain_rule_step_of_the_neuron(capsys, tmp_path):
    import glassgrad.nn as nn

    out = tmp_path / "demo"
    run_demo(capsys, out, "--seed", "5")
    page = (out / "neuron_stepper.html").read_text(encoding="utf-8")
    # every first-layer neuron has 2 inputs, so the same graph shape: one chain-rule step
    # per computed node, plus the start
    X, _ = nn.make_moons(n_samples=30, seed=5)
    neuron = nn.MLP(2, [4, 1], seed=5).layers[0].neurons[0]
    steps = sum(1 for node in topological_order(neuron(X[0])) if node.inputs)
    assert page.lstrip().lower().startswith("<!doctype html")
    frames = re.findall(r'<section class="frame" data-frame="(\d+)"', page)
    assert frames == [str(k) for k in range(steps + 1)]
    assert page.count("<svg") >= steps + 1  # every frame is a picture
    assert 'id="caption"' in page and 'id="next"' in page


def test_demo_draws_a_neuron_that_passes_gradient_back_not_a_dead_one(capsys, tmp_path):
    out = tmp_path / "demo"
    printed = run_demo(capsys, out)
    assert re.search(r"neuron \d+ of the first layer on training point \d+", printed)
    texts = [text.text or "" for text in ElementTree.parse(out / "neuron_graph.svg").iter(SVG + "text")]
    grads = [float(text.split()[1]) for text in texts if re.fullmatch(r"grad \S+", text)]
    assert len(grads) >= 8  # x0, x1, w0, w1, b and the three nodes computed from them
    assert sum(grad != 0.0 for grad in grads) > 1  # more than the root's own dL/dL = 1


def test_demo_without_dot_on_path_draws_with_webassembly_graphviz(capsys, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` anywhere
    out = tmp_path / "demo"
    printed = run_demo(capsys, out)
    assert "WebAssembly build of Graphviz" in printed
    assert_valid_svg(out / "neuron_graph.svg")
    assert page_has_svg(out / "neuron_stepper.html")


def page_has_svg(path: Path) -> bool:
    return "<svg" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("data, classes", [("circles", 2), ("xor", 2), ("spirals", 3), ("blobs", 3)])
def test_demo_trains_on_every_data_set_with_one_output_per_class(capsys, tmp_path, data, classes):
    out = tmp_path / data
    printed = run_demo(capsys, out, "--data", data, "--epochs", "1")
    outputs = 1 if classes == 2 else classes
    assert f"MLP(2, [4, {outputs}]) on {data}" in printed
    assert ("softmax_cross_entropy loss" if classes > 2 else "hinge loss") in printed
    assert_valid_png(out / "decision_boundary.png")


def test_demo_runs_the_same_way_twice_with_the_same_seed(capsys, tmp_path):
    def without_timing(printed: str) -> str:
        return re.sub(r"trained in [\d.]+ s", "", printed).replace(str(tmp_path), "")

    first = run_demo(capsys, tmp_path / "a", "--seed", "7")
    second = run_demo(capsys, tmp_path / "a", "--seed", "7")
    assert without_timing(first) == without_timing(second)


def test_demo_shows_a_progress_bar_unless_told_not_to(capsys, tmp_path):
    assert main(["--epochs", "2", "--samples", "10", "--hidden", "2", "-o", str(tmp_path / "bar")]) == 0
    assert "epoch" in capsys.readouterr().err
    run_demo(capsys, tmp_path / "quiet")  # TINY has --no-progress
    assert capsys.readouterr().err == ""


def test_demo_learning_rate_falls_linearly_from_lr_to_a_tenth_as_in_micrograd():
    schedule = _linear_decay(1.0, 0.1, 100)
    for k in (0, 1, 50, 99):
        assert schedule(k) == pytest.approx(1.0 - 0.9 * k / 100)  # micrograd's demo


@pytest.mark.parametrize("arguments, message", [
    (["--hidden", "16,x"], "like 16,16"),
    (["--hidden", "0"], "like 16,16"),
    (["--epochs", "0"], "must be a positive int"),
    (["--lr", "nan"], "must be a positive float"),
    (["--data", "mnist"], "invalid choice: 'mnist'"),
])
def test_demo_rejects_bad_arguments_with_a_usage_message(capsys, tmp_path, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "-o", str(tmp_path / "never")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_demo_refuses_an_output_path_that_is_a_file(capsys, tmp_path):
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    with pytest.raises(SystemExit):
        main([*TINY, "-o", str(a_file)])
    assert "is a file" in capsys.readouterr().err
    assert a_file.read_text() == "keep me"


def test_demo_trains_through_one_compiled_tape_and_draws_a_200_point_grid(capsys, tmp_path, monkeypatch):
    import glassgrad.nn.train as train
    import glassgrad.viz.plots as plots
    made, grids = [], []
    real_trace, real_grid = train.trace_fn, plots.decision_grid
    monkeypatch.setattr(train, "trace_fn", lambda *a, **k: made.append(real_trace(*a, **k)) or made[-1])
    monkeypatch.setattr(plots, "decision_grid", lambda *a, **k: grids.append(real_grid(*a, **k)) or grids[-1])
    assert main(["--epochs", "3", "--no-progress", "-o", str(tmp_path)]) == 0
    assert len(made) == 1 and made[0].recordings == 1  # full batch: one tape, replayed every epoch
    assert len(grids[0].xs) == 200
