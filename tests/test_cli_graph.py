"""`glassgrad graph` (viz.cli): an expression in, the graph SVG and the stepper page out."""
import html
import subprocess
import sys

import pytest

import glassgrad.viz.cli
from glassgrad.viz.cli import main


def test_graph_writes_the_svg_and_the_stepper_and_prints_their_paths(tmp_path, capsys):
    status = main(["graph", "tanh(a*b + c)", "a=2", "b=-3", "c=10", "-o", str(tmp_path / "out")])
    assert status == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "out" / "graph.svg"), str(tmp_path / "out" / "stepper.html")]
    picture = html.unescape((tmp_path / "out" / "graph.svg").read_text())
    assert "</svg>" in picture and "data -3.0" in picture and "grad 1.0" in picture
    assert 'id="stepper"' in (tmp_path / "out" / "stepper.html").read_text()


def test_frame_option_writes_a_captioned_stepper_frame(tmp_path, capsys):
    assert main(["graph", "a*b", "a=2", "b=-3", "-o", str(tmp_path), "--frame", "1", "--no-stepper"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "graph.svg"), str(tmp_path / "stepper_frame.svg")]
    frame = html.unescape((tmp_path / "stepper_frame.svg").read_text())
    assert "dL/da += dL/dL * dL/da = 1.0 * -3.0 = -3.0" in frame


def test_without_the_graphviz_program_the_svg_and_page_are_still_written(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["graph", "relu(x) * 2", "x=1.5", "-o", str(tmp_path)]) == 0
    assert "</svg>" in (tmp_path / "graph.svg").read_text()


@pytest.mark.parametrize("argv, message", [
    (["graph", "__import__('os')"], "unknown function '__import__'"),
    (["graph", "a.b", "a=1"], "attribute access"),
    (["graph", "a*b", "a=1"], "unknown variable 'b'"),
    (["graph", "a*b", "a=1", "b=2", "d=3"], "d is not in the expression"),
    (["graph", "a*b", "a=1", "b=two"], "must be a finite number"),
    (["graph", "a*b", "a=1", "b"], "name=number"),
    (["graph", "exp(a)", "exp=1", "a=1"], "function name"),
    (["graph", "log(a)", "a=-1"], "log is defined only for x > 0"),
    (["graph", "a", "a=1", "--frame", "5"], "--frame 5"),
    (["graph", "sqrt(a)", "a=0"], "a gradient became inf at sqrt(0.0)"),
])
def test_bad_input_exits_with_status_2_and_says_why(argv, message, tmp_path, capsys):
    assert main([*argv, "-o", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.startswith("glassgrad graph: error:")


def test_a_bad_expression_is_shown_with_a_caret(tmp_path, capsys):
    main(["graph", "tanh(a.b + c)", "a=1", "c=2", "-o", str(tmp_path)])
    lines = capsys.readouterr().err.splitlines()
    assert lines[-2].strip() == "tanh(a.b + c)"
    assert lines[-1].index("^") == lines[-2].index("a.b") and lines[-1].count("^") == 3
    assert not list(tmp_path.iterdir())  # nothing written


def test_demo_subcommand_delegates_to_viz_demo_with_its_arguments(monkeypatch):
    demo = pytest.importorskip("glassgrad.viz.demo")
    seen = []
    monkeypatch.setattr(demo, "main", lambda argv: seen.append(argv) or 0)
    assert main(["demo", "--epochs", "3", "--help"]) == 0
    assert seen == [["--epochs", "3", "--help"]]


def test_top_level_help_lists_graph_and_demo(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "graph" in out and "demo" in out


def test_python_dash_m_viz_is_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "glassgrad.viz", "graph", "a*b", "a=2", "b=3", "-o", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "graph.svg"), str(tmp_path / "stepper.html")]


def test_the_root_is_called_L_unless_a_variable_is(tmp_path):
    assert glassgrad.viz.cli.graph_command("L * 2", ["L=1"], out=tmp_path, stepper=False)
    assert "out" in (tmp_path / "graph.svg").read_text()


def test_bad_frame_is_refused_before_any_file_is_written(tmp_path, capsys) -> None:
    assert main(["graph", "a*b", "a=2", "b=3", "-o", str(tmp_path / "out"), "--frame", "99"]) == 2
    assert not (tmp_path / "out").exists()


def test_precision_below_one_is_a_usage_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["graph", "a*b", "a=2", "b=3", "-o", str(tmp_path), "--precision", "-1"])
    assert exit_.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_frame_with_the_stepper_page_runs_the_stepper_once(tmp_path, capsys, monkeypatch):
    import glassgrad.viz.stepper as stepper

    runs = []
    original = stepper.backprop_steps

    def counting(root, **options):
        runs.append(root)
        return original(root, **options)

    monkeypatch.setattr(stepper, "backprop_steps", counting)
    assert main(["graph", "tanh(a*b + c)", "a=2", "b=-3", "c=10", "-o", str(tmp_path), "--frame", "2"]) == 0
    assert len(runs) == 1
    page = html.unescape((tmp_path / "stepper.html").read_text())
    frame = html.unescape((tmp_path / "stepper_frame.svg").read_text())
    # the frame is step 2 of that same run, its caption written under the picture
    assert 'data-frame="2" data-node="n4"' in page and "Step 2: n4 = n2 + c" in frame
