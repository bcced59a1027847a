"""The backprop stepper as an animated GIF: one captioned picture per chain-rule step.

Needs the Graphviz program (``dot`` makes the PNG pictures) and Pillow (joins them).
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from glassgrad.engine import Value

from . import svg
from .dot import DEFAULT_MAX_NODES
from .stepper import step_views


def stepper_gif(root: Value, path: str | Path, *, seconds_per_step: float = 2.0,
                precision: int = 4, rankdir: str = "LR", parameters: Iterable[Value] = (),
                max_nodes: int = DEFAULT_MAX_NODES) -> Path:
    """Write an animated GIF of backpropagation through ``root``'s graph; returns the path.

    Each picture is one view of ``viz.stepper.step_views`` with its caption under it,
    shown for ``seconds_per_step``. The other options are those of every stepper,
    described once in ``step_views``. The graph's gradients are left as they were.
    """
    if svg.dot_program() is None:
        raise svg.GraphvizNotFoundError(
            "stepper_gif needs PNG pictures, which only the Graphviz program makes "
            f"(without it, use stepper_html for the same stepper as a web page).\n{svg.INSTALL_HELP}"
        )
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("stepper_gif needs Pillow to join the pictures: pip install pillow") from None

    views = step_views(root, precision=precision, rankdir=rankdir, parameters=parameters,
                       max_nodes=max_nodes, caption_in_picture=True)
    pictures = [Image.open(io.BytesIO(view.graph.pipe(format="png"))).convert("RGB")
                for view in views]
    # Captions differ in length, so the pictures do: put each on a canvas of the largest size.
    width = max(picture.width for picture in pictures)
    height = max(picture.height for picture in pictures)
    frames = []
    for picture in pictures:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(picture, ((width - picture.width) // 2, 0))
        frames.append(canvas)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:],
                   duration=int(seconds_per_step * 1000), loop=0)
    return path
